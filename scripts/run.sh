#!/usr/bin/env bash
# Runs the web app, a Celery worker and the beat scheduler together (`make run`).
# Ctrl-C (or any of the three exiting) stops all of them.
set -uo pipefail

cd "$(dirname "$0")/.."

PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-true}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT}}"
export PYTHONUNBUFFERED=1
BIN=".venv/bin"
URL="http://127.0.0.1:${PORT}/"

# Each child gets its own process group (job control), so that stopping it also
# stops what it spawned: runserver's autoreloader child, the worker's pool.
set -m
pids=()

start() {
    "$@" </dev/null &
    pids+=("$!")
}

stopping=0
stop_all() {
    [[ $stopping == 1 ]] && return
    stopping=1
    echo
    echo "Stopping web, worker and beat..."
    # runserver: its whole group (the autoreloader runs the server in a child);
    # Celery: the main process only, which shuts its pool down itself (warm shutdown).
    kill -TERM -- "-${pids[0]}" 2>/dev/null
    for pid in "${pids[@]:1}"; do kill -TERM "$pid" 2>/dev/null; done
    # Wait up to 10 s, then make sure nothing is left behind.
    for _ in $(seq 1 100); do
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

start "$BIN/python" manage.py runserver "127.0.0.1:${PORT}"
start "$BIN/celery" -A orderdesk worker -l info --concurrency=2
start "$BIN/celery" -A orderdesk beat -l info

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
 Web app, Celery worker and beat scheduler are up. Press Ctrl-C to stop all three.

 Demo logins (password: ${DEMO_PASSWORD:-orderdesk-demo}):
   admin, sales_assistant, sales_assistant2, sales_manager,
   production_supervisor, production_worker, logistics_supervisor,
   logistics_specialist, finance_manager, finance_specialist, auditor
================================================================================

BANNER

# Stop everything as soon as any one of the three exits.
wait -n
rc=$?
echo "A process exited (status $rc); stopping the others." >&2
exit "$rc"
