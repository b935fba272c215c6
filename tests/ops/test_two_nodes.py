"""Scale-out (issue 9): two nodes, each a web process (gunicorn) and a worker with its own
working directory and MEDIA_ROOT, against one PostgreSQL and one Redis, uploads in the database
(FILE_STORAGE=db). An import sheet uploaded through node A is checked by node B's worker; a
receipt scan uploaded through node A downloads through node B; the e-mails are delivered."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from notifications.models import EmailOutbox
from orderdesk.models import StoredFile
from orders.models import ImportJob, Order, State
from tests import factories
from tests.factories import Cast, make_order, today
from tests.ops.stack import (
    PASSWORD,
    PYTHON,
    ROOT,
    answers,
    clean_env,
    free_port,
    redis_start,
    redis_stop,
    request,
    wait_until,
)
from tests.orders.test_pages_import import as_csv, sheet_rows

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n% signed on node A\n%%EOF\n"


class Browser:
    """A session (cookies, CSRF) against one node."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str):
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read(), response
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error

    def post(self, path: str, body: bytes, content_type: str):
        req = urllib.request.Request(self.base + path, data=body, method="POST", headers={
            "Content-Type": content_type, "X-CSRFToken": self.csrf(), "Referer": self.base + path})
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, response.read(), response
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error

    def login(self, username: str):
        self.get("/accounts/login/")
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "csrfmiddlewaretoken": self.csrf()}).encode()
        status, body, _ = self.post("/accounts/login/", form, "application/x-www-form-urlencoded")
        assert status == 200 and any(c.name == "sessionid" for c in self.jar), body[-500:]


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----orderdesk-two-nodes"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for name, (filename, content, ctype) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def db_url() -> str:
    s = connection.settings_dict
    auth = f"{s['USER']}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{s['USER']}@"
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def with_password(user):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    # the nodes' hasher, not the tests' fast one (the nodes could not check that one)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


def test_two_nodes_share_uploads_imports_and_notifications(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the scale-out shape runs on PostgreSQL (CI runs on it)")
    cast = Cast()
    order = make_order("shipped", cast=cast)
    with_password(cast.owner)
    customer = factories.CustomerFactory()
    products = [factories.ProductFactory(), factories.ProductFactory()]

    redis_port = free_port()
    redis_start(redis_port, tmp_path)
    processes: dict[str, subprocess.Popen] = {}
    nodes = {}
    gunicorn = str(Path(PYTHON).with_name("gunicorn"))
    celery = str(Path(PYTHON).with_name("celery"))
    try:
        for name in ("a", "b"):
            folder = tmp_path / f"node-{name}"
            (folder / "mail").mkdir(parents=True)
            env = clean_env(
                DATABASE_URL=db_url(), CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
                CELERY_TASK_ALWAYS_EAGER="false", FILE_STORAGE="db", MEDIA_ROOT=folder / "media",
                EMAIL_URL=f"filemail:///{folder / 'mail'}", DEBUG="false", PYTHONPATH=ROOT, LOG_FORMAT="text",
                BEAT_HEARTBEAT_FILE=folder / "beat-heartbeat", CONN_MAX_AGE=0,
            )
            port = free_port()
            nodes[name] = {"folder": folder, "env": env, "base": f"http://127.0.0.1:{port}"}
            processes[f"web-{name}"] = subprocess.Popen(
                [gunicorn, "orderdesk.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--log-level", "warning"],
                cwd=folder, env=env, stdout=open(folder / "web.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115

        def start_worker(name):
            folder, env = nodes[name]["folder"], nodes[name]["env"]
            processes[f"worker-{name}"] = subprocess.Popen(
                [PYTHON, celery, "-A", "orderdesk", "worker", "--pool", "solo", "-n", f"node-{name}@%h", "-l", "info"],
                cwd=folder, env=env, stdout=open(folder / "worker.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
            wait_until(lambda: "ready." in (folder / "worker.log").read_text(), timeout=120,
                       message=f"worker {name}")

        start_worker("b")  # only node B's worker runs: it must check what node A received
        for node in nodes.values():
            wait_until(lambda node=node: answers(node["base"] + "/healthz/"), timeout=120, message="gunicorn")
        a, b = Browser(nodes["a"]["base"]), Browser(nodes["b"]["base"])
        a.login(cast.owner.username)
        b.login(cast.owner.username)

        # an import sheet uploaded through node A, checked by node B's worker
        a.get("/orders/import/")
        sheet = as_csv(sheet_rows(customer, products))
        body, ctype = multipart({}, {"file": ("orders.csv", sheet.read(), "text/csv")})
        status, page, _ = a.post("/orders/import/", body, ctype)
        assert status == 200, page[-1000:]  # followed the redirect to the job's page
        job = ImportJob.objects.get()
        wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.READY, timeout=60,
                   message="the import checked")
        assert "validate_import" in (nodes["b"]["folder"] / "worker.log").read_text()
        assert StoredFile.objects.filter(name=ImportJob.objects.get(pk=job.pk).file.name).exists()

        # a receipt scan uploaded through node A, downloaded through node B
        start_worker("a")
        token = request(nodes["a"]["base"] + "/api/v1/auth/token/",
                        {"username": cast.owner.username, "password": PASSWORD})[1]["token"]
        body, ctype = multipart({"signed_by": "Mr. Wang", "signed_on": today().isoformat()},
                                {"receipt_scan": ("receipt.pdf", PDF, "application/pdf")})
        req = urllib.request.Request(f"{nodes['a']['base']}/api/v1/orders/{order.pk}/transitions/accept/", data=body,
                                     headers={"Content-Type": ctype, "Authorization": f"Token {token}"})
        with urllib.request.urlopen(req, timeout=60) as response:
            assert response.status == 200
        order = Order.objects.get(pk=order.pk)
        assert order.state == State.ACCEPTED
        status, page, _ = b.get(f"/orders/{order.pk}/")
        link = re.search(rb'href="(/media/receipts/[^"]+)"', page)
        assert status == 200 and link, page[-2000:]
        status, content, response = b.get(link.group(1).decode())
        assert status == 200 and content == PDF and response.headers["Content-Type"] == "application/pdf"
        assert Browser(nodes["b"]["base"]).get(link.group(1).decode())[0] in (200, 302)  # anonymous: to login
        for node in nodes.values():  # nothing on either node's disk
            assert not (node["folder"] / "media").exists() or not any((node["folder"] / "media").rglob("*.*"))

        # the e-mails of the acceptance (and of the earlier transitions) are delivered, each once
        wait_until(lambda: not EmailOutbox.objects.exclude(status=EmailOutbox.Status.SENT).exists(), timeout=60,
                   message="every e-mail sent")
        sent = []
        for node in nodes.values():
            for path in (node["folder"] / "mail").iterdir():
                sent += re.findall(r"^X-OrderDesk-Outbox: (\d+)$", path.read_text(errors="replace"), re.M)
        accepted = EmailOutbox.objects.filter(order=order, kind__in=["customer_delivered", "customer_survey"])
        assert accepted.count() == 2
        assert len(sent) == len(set(sent)), "an e-mail was sent twice"
        assert {str(pk) for pk in accepted.values_list("pk", flat=True)} <= set(sent)
        for name, process in processes.items():
            assert process.poll() is None, f"{name} died"
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_stop(redis_port)
        time.sleep(0.2)
