"""Settings, all environment-driven (see deploy/env.example). Bad values fail at start-up."""

import contextlib
import json
import os
import string
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TIPLINE_VAR_DIR", str(BASE_DIR / "var"))).resolve()
if not VAR_DIR.exists():
    # Owner only: it holds the SQLite database, the development key ring and the attachments.
    VAR_DIR.mkdir(parents=True, mode=0o700)
    VAR_DIR.chmod(0o700)

DEBUG = env_bool("DJANGO_DEBUG", False)
# DEBUG as configured: the test runner turns DEBUG off, this stays as DJANGO_DEBUG said.
TIPLINE_DEVELOPMENT = DEBUG

if not DEBUG:
    # Production refuses to start half-configured, naming what is missing (the key ring is
    # checked when a server or worker starts: generate_keys must run before it exists).
    for _name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"):
        if not (env_str(_name) or "").strip():
            raise ImproperlyConfigured(
                f"{_name} is required when DJANGO_DEBUG=0 (see deploy/env.example)"
            )

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The key ring (key-encryption keys, blind-index key, receipt pepper, signing key) lives outside the
# database. Only in development is one created on first use under TIPLINE_VAR_DIR. In production
# its absence stops the web server, the worker and every management command that checks the
# project (vault.E001), but not `generate_keys`, which is how the ring is made in the first place.
TIPLINE_KEYS_FILE = env_str("TIPLINE_KEYS_FILE") or ""
TIPLINE_KEYS_AUTOCREATE = not TIPLINE_KEYS_FILE and DEBUG
if TIPLINE_KEYS_AUTOCREATE:
    TIPLINE_KEYS_FILE = str(VAR_DIR / "dev-keys.json")

INSTALLED_APPS = [
    # The admin site needs a verified second factor and signs in through /staff/.
    "casework.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "casework.apps.TOTPConfig",  # django_otp.plugins.otp_totp, with a Chinese name in the admin
    "django_fsm",
    # Foundations first, then the layers above them (imports only ever point down this list).
    "org",
    "vault",
    "notifications",
    "tipline",
    "casework",
    "casework.rewards",
    "casework.assessment",
    "ops",
]

MIDDLEWARE = [
    # First: turns the client address into a daily-rotating keyed bucket and removes the address
    # and user agent from public requests, so nothing downstream can log or store them.
    "tipline.middleware.PublicPrivacyMiddleware",
    # One JSON line per request (route pattern, status, duration, request id; nothing else).
    "ops.logs.RequestLogMiddleware",
    # A view failing because the database or the evidence disk is down: 503/507 with the text
    # the person typed, rendered without the database (tipline.outage).
    "tipline.outage.OutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tipline.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:home"
WSGI_APPLICATION = "config.wsgi.application"

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
                "tipline.context_processors.site",
                "notifications.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tipline.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: short web queries gain nothing from it, and a query the planner over-estimates
    # (the assessment's EXISTS per document type) spent 2.3 of its 2.7 s compiling.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not DEBUG:
    raise ImproperlyConfigured(
        "DATABASE_URL must be a postgres:// URL when DJANGO_DEBUG=0: SQLite is for development"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Parallel requests wait for each other instead of failing with "database is locked": WAL
    # lets readers work beside the one writer, IMMEDIATE takes the write lock when a transaction
    # begins (a transaction that read first and writes later cannot wait for it, it fails), and
    # the timeout is how long a writer waits for the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
    _sqlite_path = str(DATABASES["default"]["NAME"])
    if _sqlite_path and _sqlite_path != ":memory:" and not _sqlite_path.startswith("file:"):
        # Created owner-only before SQLite creates it (its -wal and -shm files follow the mode).
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            os.close(os.open(_sqlite_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = env_str("CACHE_URL")
if _cache_url:
    if not _cache_url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL; got {_cache_url!r}")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            # A cache that does not answer costs a request a fraction of a second: the rate
            # limits then count in the process (tipline.throttle) and intake goes on.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# While the shared cache is unreachable each web process counts rate limits on its own and allows
# its share of each limit (rounded up), so all of them together stay near the configured limit.
# The same number sets gunicorn's worker processes (deploy/gunicorn.conf.py).
TIPLINE_WEB_WORKERS = env_int("TIPLINE_WEB_WORKERS", 3, minimum=1)

# The model backend, with the staff profile and unit read in the same query as the user.
AUTHENTICATION_BACKENDS = ["org.auth_backend.StaffBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

# Encrypted files (evidence, case documents) go through the storage named "vault": the local
# filesystem under TIPLINE_ATTACHMENT_DIR (default: one host), or S3-compatible object storage
# with TIPLINE_FILE_STORAGE=s3 (several hosts: deploy/MULTI-HOST.md). Never served from a URL.
TIPLINE_ATTACHMENT_DIR = Path(env_str("TIPLINE_ATTACHMENT_DIR", str(VAR_DIR / "attachments")))
TIPLINE_FILE_STORAGE = (env_str("TIPLINE_FILE_STORAGE", "local") or "local").strip().lower()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "vault": {"BACKEND": "vault.storage.LocalFileStorage"},
}
if TIPLINE_FILE_STORAGE == "s3":
    from botocore.config import Config as BotoConfig  # only where S3 is used

    for _name in ("AWS_STORAGE_BUCKET_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if not (env_str(_name) or "").strip():
            raise ImproperlyConfigured(f"{_name} is required when TIPLINE_FILE_STORAGE=s3")
    _endpoint = (env_str("AWS_S3_ENDPOINT_URL") or "").strip() or None
    if _endpoint and not _endpoint.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"AWS_S3_ENDPOINT_URL must start with https:// (or http://); got {_endpoint!r}"
        )
    STORAGES["vault"] = {
        "BACKEND": "vault.s3.S3FileStorage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME").strip(),
            "access_key": env_str("AWS_ACCESS_KEY_ID").strip(),
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY"),
            "endpoint_url": _endpoint,
            "region_name": (env_str("AWS_S3_REGION_NAME") or "").strip() or None,
            # S3-compatible servers on a host name or address of their own (MinIO, SeaweedFS,
            # Ceph) take the bucket in the path; AWS itself takes it in the host name.
            "addressing_style": "path" if _endpoint else None,
            "client_config": BotoConfig(
                connect_timeout=2,
                read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
                signature_version="s3v4",
            ),
        },
    }
elif TIPLINE_FILE_STORAGE != "local":
    raise ImproperlyConfigured(
        f"TIPLINE_FILE_STORAGE must be local or s3; got {TIPLINE_FILE_STORAGE!r}"
    )
TIPLINE_ATTACHMENT_MAX_BYTES = env_int("TIPLINE_ATTACHMENT_MAX_MB", 20, minimum=1) * 1024 * 1024
TIPLINE_ATTACHMENT_MAX_COUNT = env_int("TIPLINE_ATTACHMENT_MAX_COUNT", 5, minimum=0)
# /healthz?deep=1 fails its storage check when the evidence disk has less free space than this
# (local storage; with S3 it checks that the bucket answers).
TIPLINE_ATTACHMENT_MIN_FREE_MB = env_int("TIPLINE_ATTACHMENT_MIN_FREE_MB", 1024, minimum=0)
TIPLINE_STRIP_METADATA = env_bool("TIPLINE_STRIP_METADATA", True)
# All files of one request together, and all evidence one report may hold (follow-ups included).
TIPLINE_UPLOAD_MAX_BYTES = env_int("TIPLINE_UPLOAD_MAX_MB", 50, minimum=1) * 1024 * 1024
TIPLINE_REPORT_EVIDENCE_MAX_BYTES = (
    env_int("TIPLINE_REPORT_EVIDENCE_MAX_MB", 100, minimum=1) * 1024 * 1024
)
# Whole request bodies: attachments plus form fields. Plain form/JSON bodies stay small.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
# Uploads stay in memory (an unstripped photo never touches /tmp), up to the caps above: past
# them the rest of a file is read and dropped, so one request holds at most
# TIPLINE_UPLOAD_MAX_BYTES of files.
FILE_UPLOAD_HANDLERS = ["tipline.uploads.BoundedMemoryUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = TIPLINE_ATTACHMENT_MAX_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
TIPLINE_API_MAX_BODY_BYTES = 64 * 1024

# Receipt hashing (Argon2id, peppered, deterministic so it can be looked up).
TIPLINE_RECEIPT_DIGITS = 16
TIPLINE_RECEIPT_ARGON2 = {
    "memory_cost": env_int("TIPLINE_RECEIPT_ARGON2_MEMORY_KIB", 19456, minimum=8),
    "iterations": env_int("TIPLINE_RECEIPT_ARGON2_ITERATIONS", 2, minimum=1),
    "lanes": 1,
}

# Rate limits: (count, window seconds). Counted per client bucket (a daily-rotating keyed hash of
# the IPv4 address or IPv6 /64, held only in the cache) before they are checked.
TIPLINE_RATE_LIMITS = {
    # Every attempt to file a report counts, valid or not.
    "report_per_client": (env_int("TIPLINE_REPORTS_PER_HOUR", 10, minimum=1), 3600),
    # Past this many reports an hour from everyone, a client may file only one report an hour.
    "report_global": (env_int("TIPLINE_REPORTS_GLOBAL_PER_HOUR", 1000, minimum=1), 3600),
    "report_filed_per_client": (1, 3600),
    # Wrong receipts: per client, then one try per TIPLINE_RECEIPT_PACE_SECONDS (never locked).
    "receipt_fail_per_client": (env_int("TIPLINE_RECEIPT_FAILURES", 10, minimum=1), 900),
    # Past the global budget only clean clients are served, at most this many per network.
    "receipt_fail_global": (env_int("TIPLINE_RECEIPT_FAILURES_GLOBAL", 300, minimum=1), 900),
    "receipt_fail_per_network": (
        env_int("TIPLINE_RECEIPT_FAILURES_NETWORK", 10, minimum=1),
        900,
    ),
    # Follow-ups (information and evidence added with a receipt).
    "followup_per_client": (env_int("TIPLINE_FOLLOWUPS_PER_HOUR", 10, minimum=1), 3600),
    "followup_per_report": (env_int("TIPLINE_FOLLOWUPS_PER_REPORT_PER_DAY", 10, minimum=1), 86400),
    # Staff password attempts per account (django-otp throttles only the token step).
    "login_per_account": (env_int("TIPLINE_LOGIN_FAILURES", 5, minimum=1), 900),
    # Second-factor codes per account, on top of django-otp's per-device back-off.
    "otp_per_account": (env_int("TIPLINE_OTP_FAILURES", 10, minimum=1), 900),
}
TIPLINE_RECEIPT_PACE_SECONDS = env_int("TIPLINE_RECEIPT_PACE_SECONDS", 30, minimum=1)
TIPLINE_CLIENT_ADDRESS_HEADER = env_str("TIPLINE_CLIENT_ADDRESS_HEADER", "REMOTE_ADDR")

# Deadline rules: (count, "working" | "calendar"). Acceptance within 7 working days of receipt;
# a decision within 90 calendar days of acceptance (行政处罚法 art. 60) with one 30-day extension;
# short periods are working days (art. 85).
TIPLINE_DEADLINES = {
    "acceptance": (env_int("TIPLINE_ACCEPTANCE_WORKING_DAYS", 7, minimum=1), "working"),
    "decision": (env_int("TIPLINE_DECISION_DAYS", 90, minimum=1), "calendar"),
    "extension": (env_int("TIPLINE_EXTENSION_DAYS", 30, minimum=1), "calendar"),
    "feedback": (env_int("TIPLINE_FEEDBACK_WORKING_DAYS", 15, minimum=1), "working"),
    "archive": (env_int("TIPLINE_ARCHIVE_WORKING_DAYS", 10, minimum=1), "working"),
}
# Lets monitoring read /healthz?deep=1 without a staff session (Authorization: Bearer …).
TIPLINE_HEALTH_TOKEN = env_str("TIPLINE_HEALTH_TOKEN", "")
# Retention (manage.py purge, daily from beat): rejected reports with no case go this many days
# after rejection; identities and payee details are shredded this long after archiving.
TIPLINE_PURGE_REJECTED_DAYS = env_int("TIPLINE_PURGE_REJECTED_DAYS", 730, minimum=1)
TIPLINE_SHRED_IDENTITY_DAYS = env_int("TIPLINE_SHRED_IDENTITY_DAYS", 365, minimum=1)
TIPLINE_IDENTITY_ACCESS_MINUTES = env_int("TIPLINE_IDENTITY_ACCESS_MINUTES", 30, minimum=1)
# Approving or paying a reward, or seeing its payee, needs an authenticator code re-entered for
# that reward within this many minutes.
TIPLINE_REWARD_STEP_UP_MINUTES = env_int("TIPLINE_REWARD_STEP_UP_MINUTES", 5, minimum=1)

# Assessment (考核): reports of one case count as repeats when the last of them came at most this
# many days (of 24 hours) after the first; repeat suggestions look at cases opened this far back.
TIPLINE_REPEAT_WINDOW_DAYS = env_int("TIPLINE_REPEAT_WINDOW_DAYS", 30, minimum=1)
TIPLINE_REPEAT_SUGGESTION_DAYS = env_int("TIPLINE_REPEAT_SUGGESTION_DAYS", 365, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The CSRF cookie lasts as long as the browser session, not a year: no lasting trace of the site
# on a reporter's phone.
CSRF_COOKIE_AGE = None
_https = env_bool("TIPLINE_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _https:
    # Browsers that have been here once never try plain HTTP again (nginx sends it as well).
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # nginx redirects plain HTTP already; this catches a proxy that forgets to. The load
    # balancer's health check may call /healthz over plain HTTP on the private network.
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS preload (security.W021) is for the owner of the registrable domain to request, not for one
# county's site under it, so it is left off on purpose.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Everything is served from this origin: no CDN, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Celery: no broker configured → tasks run in-process (laptop / demo mode).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or (
    None if CELERY_TASK_ALWAYS_EAGER else CELERY_BROKER_URL
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A worker that loses the broker keeps retrying until it is back (never gives up and exits), also
# when the broker is down as it starts; tasks already running finish (they are safe to repeat,
# and cutting one off could cut a mail mid-send). config/broker.py keeps the worker alive
# through the loss itself.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TIMEZONE = TIME_ZONE
# Requests hand work to the broker after their commit; a dead broker must cost them a fraction
# of a second, not retries measured in seconds, and fire-and-forget tasks store no result.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 0.5
# max_retries 0: a publisher that cannot connect gives up at once instead of sleeping 2 s between
# attempts (the outbox sweep sends the event later). The worker's own reconnection loop is
# governed by broker_connection_* settings and keeps retrying.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 2,
    "max_retries": 0,
}

# A queue name of its own lets two sites share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Beat: the outbox sweep every minute (events the broker never took, retries that are due), the
# deadline scan every hour, the digest once a day. Each runs the same function as its command.
TIPLINE_DIGEST_HOUR = env_int("TIPLINE_DIGEST_HOUR", 7)
if TIPLINE_DIGEST_HOUR > 23:
    raise ImproperlyConfigured(f"TIPLINE_DIGEST_HOUR must be 0–23; got {TIPLINE_DIGEST_HOUR}")
CELERY_BEAT_SCHEDULE = {
    "send-outbox": {
        "task": "notifications.tasks.sweep_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},  # a sweep nobody ran in time is replaced by the next
    },
    "scan-deadlines": {
        "task": "notifications.tasks.scan_deadlines",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    "daily-digest": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(hour=TIPLINE_DIGEST_HOUR, minute=0),
        "options": {"expires": 3 * 3600},
    },
    "lapse-overdue-rewards": {
        "task": "casework.rewards.tasks.lapse_overdue_rewards",
        "schedule": crontab(hour=0, minute=30),  # after midnight: yesterday was the last day
    },
    "purge": {
        "task": "ops.tasks.purge",
        "schedule": crontab(hour=2, minute=15),  # at night: a quiet database
        "options": {"expires": 6 * 3600},
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_email_file_path = env_str("EMAIL_FILE_PATH")
if _email_file_path:
    EMAIL_FILE_PATH = _email_file_path
elif EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    raise ImproperlyConfigured("EMAIL_FILE_PATH is required with the file-based e-mail backend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "tipline@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Mail is sent by the worker (or, without a broker, right after the commit): a mail server that
# does not answer must not hold either for long.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)

# Notifications. Links in e-mail and text messages point here (the staff inbox, /receipt/).
TIPLINE_SITE_URL = (
    env_str("TIPLINE_SITE_URL")
    or (f"https://{ALLOWED_HOSTS[0]}" if ALLOWED_HOSTS and not DEBUG else "http://127.0.0.1:8000")
).rstrip("/")
if not TIPLINE_SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"TIPLINE_SITE_URL must start with https://; got {TIPLINE_SITE_URL!r}"
    )
# A failed notice is retried after 1, 2, 4, … minutes; after the last attempt it is marked failed
# and shown to administrators (admin → notifications) with a retry action.
TIPLINE_NOTIFY_MAX_ATTEMPTS = env_int("TIPLINE_NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
TIPLINE_NOTIFY_RETRY_SECONDS = env_int("TIPLINE_NOTIFY_RETRY_SECONDS", 60, minimum=1)
# An event no worker processed within this many seconds of being recorded counts as waiting in
# the deep health check. The sweep (every minute) does not wait for it: it takes every event
# nobody processed (processing is once-only whoever does it).
TIPLINE_NOTIFY_HANDOVER_SECONDS = env_int("TIPLINE_NOTIFY_HANDOVER_SECONDS", 60, minimum=10)
# A sender holds the notice it is sending this long; one killed mid-send is replaced by the sweep
# after it. Checked below against the slowest send, so a slow sender is never doubled.
TIPLINE_NOTIFY_LEASE_SECONDS = env_int("TIPLINE_NOTIFY_LEASE_SECONDS", 120, minimum=30)
# Reminders: this many working days before a deadline, on the day, and once overdue.
TIPLINE_REMINDER_WORKING_DAYS = env_int("TIPLINE_REMINDER_WORKING_DAYS", 3, minimum=1)

# Text messages: console (default) or file for development, http for a gateway, or a dotted path.
_SMS_BACKENDS = {
    "console": "notifications.sms.ConsoleBackend",
    "file": "notifications.sms.FileBackend",
    "http": "notifications.sms.HttpGatewayBackend",
    "locmem": "notifications.sms.LocmemBackend",
}
_sms_backend = env_str("TIPLINE_SMS_BACKEND", "console")
TIPLINE_SMS_BACKEND = _SMS_BACKENDS.get(_sms_backend, _sms_backend)
if "." not in TIPLINE_SMS_BACKEND:
    raise ImproperlyConfigured(
        f"TIPLINE_SMS_BACKEND must be console, file, http or a dotted path; got {_sms_backend!r}"
    )
TIPLINE_SMS_FILE_PATH = env_str("TIPLINE_SMS_FILE_PATH", str(VAR_DIR / "sms"))
TIPLINE_SMS_GATEWAY_URL = env_str("TIPLINE_SMS_GATEWAY_URL", "")
if _sms_backend == "http" and not TIPLINE_SMS_GATEWAY_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        "TIPLINE_SMS_GATEWAY_URL (an http:// or https:// URL) is required with "
        f"TIPLINE_SMS_BACKEND=http; got {TIPLINE_SMS_GATEWAY_URL!r}"
    )
TIPLINE_SMS_GATEWAY_USER = env_str("TIPLINE_SMS_GATEWAY_USER", "")
TIPLINE_SMS_GATEWAY_PASSWORD = env_str("TIPLINE_SMS_GATEWAY_PASSWORD", "")
TIPLINE_SMS_GATEWAY_TOKEN = env_str("TIPLINE_SMS_GATEWAY_TOKEN", "")
# The JSON request body; $to, $text and $link are replaced by JSON strings.
TIPLINE_SMS_GATEWAY_TEMPLATE = env_str("TIPLINE_SMS_GATEWAY_TEMPLATE", '{"to": $to, "text": $text}')
try:
    _sample = string.Template(TIPLINE_SMS_GATEWAY_TEMPLATE).substitute(
        to='"to-number"', text='""', link='""'
    )
    json.loads(_sample)
    if "to-number" not in _sample:
        raise ValueError("$to is missing")
except (KeyError, ValueError) as exc:
    raise ImproperlyConfigured(
        "TIPLINE_SMS_GATEWAY_TEMPLATE must be JSON with $to (and may use $text and $link); "
        f"got {TIPLINE_SMS_GATEWAY_TEMPLATE!r} ({exc})"
    ) from None
TIPLINE_SMS_GATEWAY_TIMEOUT = env_int("TIPLINE_SMS_GATEWAY_TIMEOUT", 10, minimum=1)
# An SMTP send is about a dozen exchanges (connect, greeting, EHLO, TLS, AUTH, MAIL, RCPT, DATA,
# the text, QUIT), each allowed EMAIL_TIMEOUT; a text is one request. The lease must outlast that.
_slowest_send = 12 * max(EMAIL_TIMEOUT, TIPLINE_SMS_GATEWAY_TIMEOUT)
if _slowest_send > TIPLINE_NOTIFY_LEASE_SECONDS:
    raise ImproperlyConfigured(
        f"TIPLINE_NOTIFY_LEASE_SECONDS must be at least {_slowest_send} (12 × the larger of "
        f"EMAIL_TIMEOUT and TIPLINE_SMS_GATEWAY_TIMEOUT); got {TIPLINE_NOTIFY_LEASE_SECONDS}"
    )

# Logs carry no client address and no user agent (the privacy middleware has removed them from
# public requests before any handler runs); errors are never mailed with request data.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain; got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
        "json": {"()": "ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # The request middleware writes the one line per request; runserver's own line and
        # Django's "Not Found: /path" warnings would only repeat it with the raw path.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.request": {"level": "ERROR"},
        # At DEBUG it prints the whole template context (the request and its POST: a receipt,
        # a name) for every variable a template leaves unset: never, whatever LOG_LEVEL says.
        "django.template": {"level": "INFO"},
        "celery.app.trace": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    },
}
ADMINS = []
CSRF_FAILURE_VIEW = "tipline.errors.csrf_failure"
DEFAULT_EXCEPTION_REPORTER_FILTER = "tipline.errors.AlwaysSafeExceptionReporterFilter"
