"""The bare Django REST framework app the benchmark measures OrderDesk against (issue 14).

One model, token auth, a ModelSerializer, page-number pagination, the same database
settings (``DATABASE_URL``, ``CONN_MAX_AGE``) and the same gunicorn: what a plain DRF
endpoint costs on this machine. Run it with ``DJANGO_SETTINGS_MODULE=benchmarks.bare.settings``.
It shares OrderDesk's database (its one table is ``bare_benchorder``; users and tokens
are OrderDesk's own ``auth_user`` and ``authtoken_token``).
"""
