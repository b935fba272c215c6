"""scripts/run.sh (issue 9): a crashed worker or beat is restarted, the web app keeps serving,
Ctrl-C still stops everything."""

from __future__ import annotations

import os
import signal

import pytest

from tests.ops.stack import RunSh, alive, answers, free_port, main_processes, prepare, quickstart_env, wait_until

pytestmark = pytest.mark.slow


def test_run_sh_restarts_a_killed_worker_and_beat_and_ctrl_c_stops_all(tmp_path):
    port = free_port()
    env = quickstart_env(tmp_path, port)
    prepare(env)
    script = RunSh(env, tmp_path / "run.log")
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz/"), timeout=120, message="the web app")
        worker, = wait_until(lambda: script.pids("worker"), timeout=60, message="the worker")
        beat, = wait_until(lambda: script.pids("beat"), timeout=60, message="beat")
        wait_until(lambda: "ready." in script.log(), timeout=120, message="the worker ready")  # Celery's own line

        sid = script.process.pid
        assert main_processes(sid, "worker") == 1 and main_processes(sid, "beat") == 1  # exactly one of each
        os.kill(worker, signal.SIGKILL)  # a crash
        os.kill(beat, signal.SIGKILL)
        wait_until(lambda: len(script.pids("worker")) == 2 and len(script.pids("beat")) == 2, timeout=60,
                   message="worker and beat restarted")
        log = script.log()
        assert "worker exited (status 137); restarting it in 1s" in log
        assert "beat exited (status 137); restarting it in 1s" in log
        new_worker, new_beat = script.pids("worker")[1], script.pids("beat")[1]
        assert alive(new_worker) and alive(new_beat) and not alive(worker)
        assert script.process.poll() is None, "run.sh stopped"
        assert answers(f"http://127.0.0.1:{port}/healthz/"), "the web app stopped"
        wait_until(lambda: script.log().count("ready.") >= 2, timeout=120, message="the new worker ready")
        assert main_processes(sid, "worker") == 1 and main_processes(sid, "beat") == 1
        log = script.log()
        assert "Unrecoverable error" not in log and "already in use" not in log, log[-3000:]

        assert script.stop(signal.SIGINT) == 130  # Ctrl-C
        assert not alive(new_worker) and not alive(new_beat)
        assert not answers(f"http://127.0.0.1:{port}/healthz/")
        assert "Stopping web, worker and beat" in script.log()
    finally:
        script.stop(signal.SIGKILL, timeout=5)
        script.kill_everything()
