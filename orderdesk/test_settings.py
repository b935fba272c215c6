"""Settings of the test suite: production settings (DEBUG as the environment says) with test defaults.

Only fills what the environment leaves unset, before :mod:`orderdesk.settings` reads it,
so a CI or developer run needs no secret: a random key per run (DEBUG off refuses a
missing one), plain HTTP (the live server and test client do not speak TLS), and
throttle rates the suite's many requests stay under. The security tests set their
own values (``settings`` fixture, or a subprocess with its own environment).
Subprocesses started by tests inherit these values through the environment.
"""

import os
import secrets

for _name, _value in {
    "SECRET_KEY": "test-" + secrets.token_urlsafe(50),
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "API_THROTTLE_ANON": "100000/minute",
    "API_THROTTLE_USER": "100000/minute",
    "API_THROTTLE_TOKEN": "100000/minute",
}.items():
    os.environ.setdefault(_name, _value)

from orderdesk.settings import *  # noqa: E402,F403
