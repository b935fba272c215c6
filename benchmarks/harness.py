"""The HTTP side of `manage.py benchmark`: gunicorn servers and wrk runs (stdlib only, no Django).

:class:`Server` starts a WSGI app under gunicorn (sync workers) on a free loopback port and waits
until it answers; :func:`wrk` runs one load test and returns what wrk's Lua ``done()`` hook reports
(requests, non-2xx answers, duration, latency percentiles). A run over a list of ids (``paths``) takes
each path once — split between wrk's threads — and stops when they are used up, so a transition is
never run twice on one order.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``gunicorn <wsgi> -w <workers>`` on 127.0.0.1 with the given environment; a context manager."""

    def __init__(self, name: str, wsgi: str, *, env: dict, workers: int = 4, log_dir: Path):
        self.name, self.wsgi, self.workers = name, wsgi, workers
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [
            str(gunicorn),
            self.wsgi,
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited; see {self.log}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=2)  # noqa: S310 - loopback
                return self
            except urllib.error.HTTPError:
                return self  # any HTTP answer (401, 404) means it is up
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} server did not start; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


REPORT_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p90_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency.mean))
end
"""

BODY_LUA = r"""
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""

PATHS_LUA = r"""
local paths = {{ {paths} }}
local counter = 1
local threads = {{}}
local nthreads = {nthreads}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads)
end
init = function(args)
  counter = offset
  wrk.headers["Content-Type"] = "application/json"
end
request = function()
  if counter > #paths then
    wrk.thread:stop()
    counter = offset  -- answers after stop() are not counted
  end
  local path = paths[counter]
  counter = counter + nthreads
  return wrk.format("{method}", path, nil, {body})
end
"""


@dataclass
class Result:
    requests: int
    ok: int
    duration: float  # seconds
    p50_ms: float
    p90_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.ok / self.duration if self.duration else 0.0


def lua_str(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for ASCII text


def wrk(
    url: str,
    *,
    headers: dict,
    duration: float,
    threads: int = 2,
    connections: int = 4,
    method: str = "GET",
    body: str | None = None,
    paths: list[str] | None = None,
    work_dir: Path,
) -> Result:
    """One wrk run against ``url`` (or the ``paths`` on its host, each once); the counted answers are 2xx/3xx."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    lua = REPORT_LUA
    if paths is not None:
        threads = connections = max(1, min(threads, len(paths)))
        lua += PATHS_LUA.format(
            paths=", ".join(lua_str(p) for p in paths),
            nthreads=threads,
            method=method,
            body=lua_str(body) if body is not None else "nil",
        )
    elif method != "GET" or body is not None:
        lua += BODY_LUA.format(method=method, body=lua_str(body or ""))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=work_dir, delete=False) as f:
        f.write(lua)
        script = f.name
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "-s",
        script,
    ]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no report: {out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("WRKJSON "))
    bad = data["non2xx"] + data["socket_errors"]
    return Result(
        requests=data["requests"],
        ok=max(0, data["requests"] - bad),
        duration=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
    )


def latency(url: str, *, headers: dict, requests: int) -> Result:
    """``requests`` GETs one after the other (one connection at a time): for answers that take seconds, where a
    wrk run of a few seconds would count none."""
    times, ok = [], 0
    started = time.perf_counter()
    for _ in range(requests):
        t = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=300) as answer:  # noqa: S310
                answer.read()
                ok += 200 <= answer.status < 400
        except urllib.error.HTTPError:
            pass
        times.append((time.perf_counter() - t) * 1000)
    mean = sum(times) / len(times) if times else 0.0
    return Result(
        requests=requests,
        ok=ok,
        duration=time.perf_counter() - started,
        p50_ms=median(times),
        p90_ms=sorted(times)[int(0.9 * (len(times) - 1))] if times else 0.0,
        mean_ms=mean,
    )


def median(values: list[float]) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
