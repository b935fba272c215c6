"""Settings, all from the environment (12-factor) with defaults that need no service.

Without any variable set, OrderDesk runs on SQLite (WAL, immediate transactions,
busy timeout) and an embedded Celery broker (kombu's SQLAlchemy transport on the
SQLite file ``var/celery-broker.sqlite3``: transactional, so a message is never
read half-written, as it was with kombu's filesystem transport), so that `make run` needs nothing but Python. Production sets
``DATABASE_URL=postgres://…`` and ``CELERY_BROKER_URL=redis://…``.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from orderdesk import settings_checks

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# --- Security: secret key (issue 9) ----------------------------------------------
# With DEBUG off a missing, empty or published key is refused at start (ImproperlyConfigured).
SECRET_KEY = settings_checks.require_secret_key(env.str("SECRET_KEY", default=""), debug=DEBUG)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "orderdesk.apps.OrderDeskConfig",  # also holds orderdesk.models.StoredFile of the db storage
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_fsm_log",
    "django_celery_beat",
    "orders",
    "production",
    "logistics",
    "finance",
    "feedback",
    "supervision",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "orderdesk.middleware.LockTimeoutMiddleware",
    # the client's address for the audit trail (orderdesk.audit.record reads it)
    "orderdesk.audit.AuditAddressMiddleware",
    "orderdesk.input_guards.NulByteMiddleware",
    "csp.middleware.CSPMiddleware",
    # last: turns a lockout flagged by the axes backend into its page / JSON answer
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "orderdesk.urls"
WSGI_APPLICATION = "orderdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orderdesk.context_processors.navigation",
            ],
        },
    },
]
# Django's widget and form templates rendered with Jinja2 (its own copies of them), the rest as before
FORM_RENDERER = "orderdesk.form_renderer.FormRenderer"

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default must survive concurrent requests of a multi-worker
    # server: WAL lets readers run beside the writer, IMMEDIATE takes the write
    # lock at BEGIN (so two writers queue instead of failing on upgrade), and the
    # busy timeout makes the second one wait rather than error.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # Session settings of every connection (issue 14). JIT off: our queries are short, and compiling one
    # cost 12 ms of a 100 ms report; random_page_cost 1.1: storage is SSD (the default 4.0 assumes
    # spinning disks), so the planner probes indexes instead of scanning whole tables for a few thousand
    # rows. Empty DATABASE_SESSION_OPTIONS keeps the server's own.
    _session = env.str("DATABASE_SESSION_OPTIONS", default="-c jit=off -c random_page_cost=1.1")
    if _session:
        _db_options = DATABASES["default"].setdefault("OPTIONS", {})
        _db_options["options"] = f"{_db_options.get('options', '')} {_session}".strip()
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# The hottest reads (a token with its user, one order, its lines) are prepared on the PostgreSQL server once per
# connection (orderdesk.prepared, issue 14). Turn it off behind a pooler that does not keep session state
# (PgBouncer in transaction mode).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# django-fsm-log writes each transition's record with its statement prepared once (orders.fsm_log)
DJANGO_FSM_LOG_STORAGE_METHOD = "orders.fsm_log.PreparedBackend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # first: refuses any login (page, admin, token) while username+IP is locked out
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Amounts grouped in thousands in both languages (orderdesk/formats); grouping only where a template
# asks for it (the `money` and `qty` filters), never globally: USE_THOUSAND_SEPARATOR stays off so ids
# in URLs and form values are never localised.
FORMAT_MODULE_PATH = ["orderdesk.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# --- Uploads storage (issue 9) ------------------------------------------------------
# FILE_STORAGE=filesystem (default: MEDIA_ROOT, one node), db (orderdesk.storage: the
# bytes in the database, shared by every node; compose uses it), s3 (django-storages,
# `pip install django-storages[s3]`, AWS_STORAGE_BUCKET_NAME etc. from the environment).
# Whatever the backend, /media/<name> is served by the permission-checked orderdesk.media.
FILE_STORAGE = env.str("FILE_STORAGE", default="filesystem")
_DEFAULT_STORAGE = {
    "filesystem": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "db": {"BACKEND": "orderdesk.storage.DatabaseStorage"},
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default=""),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    },
}[FILE_STORAGE]
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

# --- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "orderdesk.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "orderdesk.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["orderdesk.api.FilterBackend"],  # ids are whole numbers (issue 9)
    # every operation documents its error answers (orderdesk.api_schema.AutoSchema)
    "DEFAULT_SCHEMA_CLASS": "orderdesk.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "orderdesk.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    # JSON bodies only (size, depth and NUL limits, issue 9); a view that receives a file adds
    # multipart itself (orderdesk.api.UPLOAD_PARSERS), so the schema declares exactly what is parsed
    "DEFAULT_PARSER_CLASSES": ["orderdesk.input_guards.LimitedJSONParser"],
    # APIClient posts JSON unless a test asks for multipart (a file) itself
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # rates: API_THROTTLE_RATES below (read at each request, see orderdesk.throttling)
    "DEFAULT_THROTTLE_CLASSES": [
        "orderdesk.throttling.AnonRateThrottle",
        "orderdesk.throttling.UserRateThrottle",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OrderDesk API",
    "DESCRIPTION": "Order processing from intake to settlement (see DESIGN §6).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from the app's own static files, no CDN (issue 9)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # a field hidden from some role is never marked required (DESIGN §5)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "orderdesk.api.schema_hidden_fields_not_required",
        "orderdesk.api_schema.schema_empty_query_values_allowed",
    ],
    # one name per choice set where several serializers share a field name
    "ENUM_NAME_OVERRIDES": {
        "OrderStateEnum": "orders.models.State",
        "NotificationKindEnum": "notifications.models.Notification.Kind",
        "HistoryKindEnum": "orders.api.serializers.HISTORY_KINDS",
        "IssueKindEnum": "production.models.ProductionIssue.Kind",
        "ShipmentStatusEnum": "logistics.models.ShipmentStatus",
        # issue 9: `check --deploy --fail-level WARNING` must be clean (drf_spectacular.W001)
        "ComplaintKindEnum": "feedback.models.Complaint.Kind",
        "ComplaintStatusEnum": "feedback.models.Complaint.Status",
        # issue 10: production's new choice sets
        "PreparationKindEnum": "production.models.PreparationTask.Kind",
        "IssueDispositionEnum": "production.models.ProductionIssue.Disposition",
        "IssueMessageStateEnum": "production.models.ProductionIssue.MessageState",
        # issue 11: a follow-up's channel is not an order's intake channel
        "FollowUpChannelEnum": "finance.models.FollowUp.Channel",
        "InvoiceSourceEnum": "finance.models.Invoice.Source",
        "ChannelEnum": "orders.models.Channel",
    },
}

# --- Celery ---------------------------------------------------------------
# The embedded broker of the quick start is kombu's SQLAlchemy transport on a SQLite
# file under var/ (issue 9). kombu's filesystem transport, the former default, lets
# a reader see a half-written message under load (the worker died with
# JSONDecodeError); SQLite is transactional: a message is committed whole or not at
# all, a consumer takes it under BEGIN IMMEDIATE, and a busy database is a
# connection error the worker retries, never an unrecoverable one.
VAR_DIR.mkdir(parents=True, exist_ok=True)
EMBEDDED_BROKER_URL = f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=EMBEDDED_BROKER_URL)
if CELERY_BROKER_URL.startswith(("sqla+sqlite", "sqlalchemy+sqlite")):
    # passed to sqlalchemy.create_engine: wait for the write lock rather than fail
    # (every option is passed to create_engine, so nothing else may go here). The
    # worker polls the table once a second (the virtual transport's default).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's DatabaseScheduler plus a heartbeat file (orderdesk.beat);
# `manage.py healthcheck_beat` fails when it is older than BEAT_HEARTBEAT_MAX_AGE.
CELERY_BEAT_SCHEDULER = "orderdesk.beat:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 30
BEAT_HEARTBEAT_FILE = env.path("BEAT_HEARTBEAT_FILE", default=str(VAR_DIR / "beat-heartbeat"))
BEAT_HEARTBEAT_MAX_AGE = env.int("BEAT_HEARTBEAT_MAX_AGE", default=120)
# The worker reconnects to a broker that was down at most this many seconds apart
# (orderdesk.celery.Consumer), so it is back before the next outbox sweep.
CELERY_WORKER_CONSUMER = "orderdesk.celery:Consumer"
CELERY_BROKER_RECONNECT_MAX = env.int("CELERY_BROKER_RECONNECT_MAX", default=5)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The beat schedule is seeded into django-celery-beat by a data migration and is
# editable in the admin from then on.
OVERDUE_CHECK_MINUTES = env.int("OVERDUE_CHECK_MINUTES", default=15)

# --- Business rules ---------------------------------------------------------
JOINT_REVIEW_THRESHOLD = Decimal(env.str("JOINT_REVIEW_THRESHOLD", default="500000.00"))
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="orderdesk-demo")
# The customer tracking link is signed with SECRET_KEY under this salt.
TRACKING_SALT = "orderdesk.track"
# Customers' voice (issue 12, R5.3, R6.2): a tracking link stops working this many days after the order
# is settled (or cancelled); complaints and suggestions are due this many days after they arrive (the
# service level per kind); the questionnaire is recalled once when unanswered after SURVEY_REMINDER_DAYS;
# the tracking page takes at most TRACK_COMPLAINTS_PER_HOUR complaints per link and per address.
TRACKING_LINK_DAYS = env.int("TRACKING_LINK_DAYS", default=365)
COMPLAINT_SERVICE_DAYS = {
    "complaint": env.int("COMPLAINT_SERVICE_DAYS", default=3),
    "suggestion": env.int("SUGGESTION_SERVICE_DAYS", default=10),
}
SURVEY_REMINDER_DAYS = env.int("SURVEY_REMINDER_DAYS", default=7)
TRACK_COMPLAINTS_PER_HOUR = env.int("TRACK_COMPLAINTS_PER_HOUR", default=5)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- E-mail (issue 9) ---------------------------------------------------------
# EMAIL_URL (django-environ's email_url): smtp+tls://user:pass@smtp.example.com:587
# (STARTTLS), smtp+ssl://user:pass@host:465 (implicit TLS), smtp://host:25 (plain),
# consolemail://. Unset: the console (or EMAIL_BACKEND, kept for compatibility).
if env.str("EMAIL_URL", default=""):
    vars().update({k: v for k, v in env.email_url("EMAIL_URL").items() if k.startswith("EMAIL_")})
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orderdesk@example.com")

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Logging (issue 9) ---------------------------------------------------------
# LOG_FORMAT=json (default with DEBUG off): one JSON object a line with time, level,
# logger, message and request_id (orderdesk.logs); text: the same fields, readable.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "orderdesk.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler", "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
MIDDLEWARE.insert(0, "orderdesk.logs.RequestIdMiddleware")
# The worker and beat log through the same handler (Celery would replace it).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Notifications and scheduled checks (issue 5) ----------------------------------
# E-mails go through an outbox (notifications.EmailOutbox): written with their cause,
# sent by a task queued after commit, swept by the beat task `deliver_pending`.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
# The sweep leaves rows younger than this to their own queued task.
NOTIFICATIONS_SWEEP_GRACE_SECONDS = env.int("NOTIFICATIONS_SWEEP_GRACE_SECONDS", default=60)
NOTIFICATIONS_SWEEP_BATCH = env.int("NOTIFICATIONS_SWEEP_BATCH", default=500)
# Scheduled checks: a producing order with no progress report for this many days is stale;
# a submitted order waiting longer than this for review is flagged; an alert still open
# this long after it fired is escalated to the sales managers (once).
STALE_PROGRESS_DAYS = env.int("STALE_PROGRESS_DAYS", default=5)
REVIEW_WAIT_HOURS = env.int("REVIEW_WAIT_HOURS", default=24)
ALERT_ESCALATION_HOURS = env.int("ALERT_ESCALATION_HOURS", default=48)
# A milestone's responsible person is told once when it is due within this many days, and once when overdue.
MILESTONE_DUE_DAYS = env.int("MILESTONE_DUE_DAYS", default=2)
# Orders per chunk when the checks walk the orders table.
CHECK_CHUNK_SIZE = env.int("CHECK_CHUNK_SIZE", default=2000)
# A broker that is down must not hold a request up: queueing after commit tries briefly,
# then gives up (the outbox sweep delivers later).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2.0),
        "socket_timeout": 10,
        "max_retries": 1,
    }

# --- Security: HTTPS, cookies, HSTS (issue 9) ---------------------------------------
# Secure by default whenever DEBUG is off; each can be turned off from the environment
# (e.g. SECURE_SSL_REDIRECT=false for a plain-HTTP demo on localhost).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (only then: a client could forge it).
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health probes answer over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]

# --- Security: Content-Security-Policy (django-csp 4, issue 9) ------------------------
# Scripts only from the app's own static files (no inline script, no event handler
# attribute); styles likewise: every page's styles are in static/css. The Swagger UI
# (drf-spectacular-sidecar) is served from /static/ too; its icons are data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Security: login lockout (django-axes, issue 9) -----------------------------------
# A username tried from one IP address is locked after AXES_FAILURE_LIMIT failures, on
# the login page, the admin login and the token endpoint alike, for AXES_COOLOFF_MINUTES;
# while locked even the right password is refused. A success resets the count.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "orderdesk.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    # behind the proxy the client's address is the first of X-Forwarded-For
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
# The audit trail takes the client's address from X-Forwarded-For only behind the proxy too.
AUDIT_TRUST_FORWARDED_FOR = env.bool("USE_X_FORWARDED_PROTO", default=False)

# --- Security: API throttles and tokens (issue 9) -------------------------------------
# Rates per scope ("N/second|minute|hour|day"); `token` is the stricter one of
# POST /api/v1/auth/token/ (per client IP).
API_THROTTLE_RATES = {
    "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
    "user": env.str("API_THROTTLE_USER", default="1200/minute"),
    "token": env.str("API_THROTTLE_TOKEN", default="20/minute"),
}
# Lifetime of an API token from its creation; revoked earlier on logout or password change.
API_TOKEN_HOURS = env.int("API_TOKEN_HOURS", default=24 * 7)
# Throttle counters (and anything else cached) in Redis when one is configured, else per process.
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif env.str("REDIS_URL", default=""):
    CACHES = {"default": env.cache_url("REDIS_URL")}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "orderdesk"}}
CACHES["default"].setdefault("KEY_PREFIX", "orderdesk")
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "orderdesk.cache.RedisCache"  # one client per pool, not one per call
