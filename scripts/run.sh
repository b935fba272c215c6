#!/usr/bin/env bash
# Runs the web app, a Celery worker and the beat scheduler together (`make run`).
# A worker or beat that crashes is restarted after a short backoff (logged on
# stderr; 1 s, doubling up to 30 s, back to 1 s after a minute of running); the web
# app keeps serving meanwhile. Ctrl-C (or the web app exiting) stops all of them.
set -uo pipefail

cd "$(dirname "$0")/.."

PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-true}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT}}"
export PYTHONUNBUFFERED=1
BIN="${BIN:-.venv/bin}"
URL="http://127.0.0.1:${PORT}/"
# RUNSERVER_ARGS: extra arguments for runserver (the soak test passes --noreload).
RUNSERVER_ARGS="${RUNSERVER_ARGS:-}"

log() { echo "run.sh [$(date +%H:%M:%S)] $*" >&2; }

# Each child gets its own process group (job control), so that stopping it also
# stops what it spawned: runserver's autoreloader child, the worker's pool.
set -m
pids=()

start() {
    "$@" </dev/null &
    pids+=("$!")
}

# supervise NAME CMD...: runs CMD, and runs it again when it exits, until told to stop.
# It runs in its own process group (a background job); job control is off inside it,
# so CMD shares that group. On TERM it passes TERM to CMD only (Celery shuts its pool
# down itself: warm shutdown) and waits for it.
supervise() {
    local name=$1 child=0 rc delay=1 began
    shift
    trap 'trap - TERM; [[ $child != 0 ]] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM
    while true; do
        began=$SECONDS
        "$@" </dev/null &
        child=$!
        log "$name started (pid $child)"
        wait "$child"
        rc=$?
        (( SECONDS - began >= 60 )) && delay=1
        log "$name exited (status $rc); restarting it in ${delay}s"
        sleep "$delay"
        delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
    done
}

stopping=0
stop_all() {
    [[ $stopping == 1 ]] && return
    stopping=1
    echo
    log "Stopping web, worker and beat..."
    # runserver: its whole group (the autoreloader runs the server in a child);
    # the supervisors: the supervisor only, which stops its Celery process (warm shutdown).
    kill -TERM -- "-${pids[0]}" 2>/dev/null
    for pid in "${pids[@]:1}"; do kill -TERM "$pid" 2>/dev/null; done
    # Wait up to 15 s, then make sure nothing is left behind.
    for _ in $(seq 1 150); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
    wait 2>/dev/null
}
trap 'stop_all; exit 130' INT TERM
trap 'stop_all' EXIT

# shellcheck disable=SC2086 # RUNSERVER_ARGS is a list of words
start "$BIN/python" manage.py runserver "127.0.0.1:${PORT}" $RUNSERVER_ARGS
start supervise worker "$BIN/celery" -A orderdesk worker -l info --concurrency=2
start supervise beat "$BIN/celery" -A orderdesk beat -l info

# Wait for the web app to answer before printing where it is.
"$BIN/python" - "$URL" <<'PY' || true
import sys, time, urllib.error, urllib.request
for _ in range(120):
    try:
        urllib.request.urlopen(sys.argv[1] + "accounts/login/", timeout=2)
        break
    except urllib.error.HTTPError:
        break
    except Exception:
        time.sleep(0.5)
PY

cat <<BANNER

================================================================================
 OrderDesk is running at ${URL}   (admin: ${URL}admin/, API: ${URL}api/v1/docs/)
 Web app, Celery worker and beat scheduler are up (a crashed worker or beat is
 restarted). Press Ctrl-C to stop all three.

 Demo logins (password: ${DEMO_PASSWORD:-orderdesk-demo}):
   admin, sales_assistant, sales_assistant2, sales_manager,
   production_supervisor, production_worker, logistics_supervisor,
   logistics_specialist, finance_manager, finance_specialist, auditor
================================================================================

BANNER

# Worker and beat are restarted by their supervisors; only the web app exiting ends the run.
wait "${pids[0]}"
rc=$?
log "The web app exited (status $rc); stopping the others."
exit "$rc"
