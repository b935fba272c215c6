"""Helpers of the operations tests: real processes (gunicorn, runserver, Celery) in temporary
folders, the JSON API over HTTP, and waiting for what they do."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
PASSWORD = "ops-test-pw"

# Users (with e-mail addresses, so that every transition writes outbox rows), a customer, a product.
SETUP = """
from decimal import Decimal
from django.contrib.auth.models import Group, User
from orders.models import Customer, Product

def user(name, role):
    u = User.objects.create_user(name, email=f"{name}@example.com", password=PASSWORD_HERE)
    u.groups.add(Group.objects.get(name=role))

user("sa", "sales_assistant")
user("sm", "sales_manager")
user("ps", "production_supervisor")
customer = Customer.objects.create(code="C1", name="Acme", email="buyer@example.com", credit_limit=Decimal("100000000"))
product = Product.objects.create(sku="P1", name="Gear", lead_time_days=5)
print(customer.pk, product.pk)
""".replace("PASSWORD_HERE", repr(PASSWORD))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra) -> dict:
    """The test process's environment without its service URLs, plus `extra`."""
    drop = ("DATABASE_URL", "CELERY_", "REDIS_URL", "EMAIL_", "MEDIA_ROOT", "BEAT_HEARTBEAT", "DJANGO_SETTINGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    # a real-looking key: production settings refuse a missing or default one with DEBUG off
    env.setdefault("SECRET_KEY", "ops-tests-" + "k7Qp2Lx9Vw3Rm8Zt5Nb1Hc6Jd4Fg0Ys" * 2)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(env: dict, *args: str, timeout: float = 300, cwd: Path = ROOT) -> str:
    result = subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stderr[-3000:]}"
    return result.stdout


def prepare(env: dict) -> tuple[int, int]:
    """Migrate the database of `env` and create the SETUP users; returns (customer id, product id)."""
    manage(env, "migrate", "-v0")
    customer, product = manage(env, "shell", "-c", SETUP).split()[-2:]
    return int(customer), int(product)


def request(url, data=None, token=None, method=None, timeout=60, raw=False, files=None):
    headers = {}
    if files is not None:
        boundary = "----orderdesk-ops-boundary"
        parts = []
        for name, value in (data or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content, ctype) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    else:
        body = json.dumps(data).encode() if data is not None else None
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, method=method or ("POST" if body else "GET"), headers=headers)
    if token:
        req.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            content = response.read()
            return response.status, content if raw else json.loads(content or b"null")
    except urllib.error.HTTPError as error:
        content = error.read()
        if raw:
            return error.code, content
        try:
            return error.code, json.loads(content)
        except ValueError:
            return error.code, content.decode(errors="replace")


def token(base: str, username: str) -> str:
    status, body = request(f"{base}/api/v1/auth/token/", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return body["token"]


def wait_until(predicate, *, timeout: float, interval: float = 0.3, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
        return True
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is not alive
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


class RunSh:
    """scripts/run.sh as a child: its stderr in a file, its supervisors' 'NAME started (pid N)' lines parsed."""

    def __init__(self, env: dict, log: Path):
        self.log_path = log
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(["bash", str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self, name: str) -> list[int]:
        return [int(p) for p in re.findall(rf"run\.sh \[[\d:]+\] {name} started \(pid (\d+)\)", self.log())]

    def stop(self, sig=signal.SIGINT, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)  # what Ctrl-C sends to the script
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        return self.process.returncode

    def kill_everything(self):
        """Last resort in a finally: nothing the script started outlives the test."""
        for name in ("worker", "beat"):
            for pid in self.pids(name):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(os.getpgid(pid), signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def quickstart_env(folder: Path, port: int, **extra) -> dict:
    """The quick start's shape (SQLite, the SQLite broker) in `folder`, e-mails written as files."""
    (folder / "mail").mkdir(parents=True, exist_ok=True)
    return clean_env(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        CELERY_BROKER_URL=f"sqla+sqlite:///{folder / 'broker.sqlite3'}",
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_URL=f"filemail:///{folder / 'mail'}",
        MEDIA_ROOT=folder / "media",
        BEAT_HEARTBEAT_FILE=folder / "beat-heartbeat",
        DEBUG="true",
        PORT=port,
        RUNSERVER_ARGS="--noreload",
        LOG_FORMAT="text",
        **extra,
    )


def sent_outbox_ids(mail_dir: Path) -> list[int]:
    """The X-OrderDesk-Outbox header of every e-mail the file backend wrote (one per sending)."""
    ids = []
    for path in mail_dir.iterdir():
        ids += [int(m) for m in re.findall(r"^X-OrderDesk-Outbox: (\d+)$", path.read_text(errors="replace"), re.M)]
    return ids


def session_commands(sid: int) -> list[str]:
    """Command lines of the live processes in session `sid` (what a script started, children included)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, IndexError, ValueError):
            continue
    return found


def main_processes(sid: int, what: str) -> int:
    """How many Celery main processes of `what` (worker|beat) run in session `sid` (pool children excluded)."""
    commands = [c for c in session_commands(sid) if f"orderdesk {what}" in c and "celery" in c]
    if what == "worker":  # the prefork pool's children carry the same command line; count their parents only
        return len({os.getpgid(pid) for pid in _pids_of(sid, f"orderdesk {what}")}) if commands else 0
    return len(commands)


def _pids_of(sid: int, needle: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if int(fields[3]) == sid and fields[0] != "Z" and needle in cmd:
                pids.append(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def redis_start(port, folder):
    subprocess.run([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--pidfile", str(folder / "redis.pid"), "--dir", str(folder),
                    "--logfile", str(folder / "redis.log")], check=True, timeout=30)
    wait_until(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
               .stdout.strip() == "PONG", timeout=20, message="redis up")


def redis_stop(port):
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, timeout=30)
    wait_until(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode != 0,
               timeout=20, message="redis down")
