"""Settings for GAN Studio, all driven by the environment.

Defaults give a working single-machine stack (SQLite and media under ``var/``);
``DATABASE_URL``, ``REDIS_URL``, ``MEDIA_ROOT`` and the deploy variables move it
to PostgreSQL, a shared Redis and shared storage without code changes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GAN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


def _secret_key() -> str:
    """Use SECRET_KEY when given; otherwise generate one once and keep it in var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        tmp = key_file.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(64))
        tmp.chmod(0o600)
        os.replace(tmp, key_file)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "ganweb.accounts",
    "ganweb.api",
    "ganweb.core",
    "ganweb.datasets",
    "ganweb.jobs",
    "ganweb.playground",
    "ganweb.gallery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ganweb.accounts.middleware.LoginRequiredMiddleware",
    "ganweb.core.middleware.ActiveWorkLimitMiddleware",
]

ROOT_URLCONF = "ganweb.urls"
ASGI_APPLICATION = "ganweb.asgi.application"
WSGI_APPLICATION = "ganweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise. SQLite runs in
# WAL mode with immediate transactions so the web process and the workers can
# write side by side without "database is locked" errors.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}", conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
    # A file (not in-memory) so the live-stack tests' workers share it; one per
    # test process so that two suites running side by side never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get(
            "GAN_TEST_SQLITE", str(VAR_DIR / f"test_db_{os.getpid()}.sqlite3")
        )
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Redis carries the Celery broker, the Celery results and the Channels layer.
# `make run` starts an embedded redis-server and exports REDIS_URL for it.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# The cache (sign-in failure counters) is shared by every web process.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # A test run keys its entries apart: a shared Redis outlives runs.
        "KEY_PREFIX": os.environ.get("GAN_CACHE_PREFIX") or "ganweb",
        # A Redis that is down or silent fails a request in seconds, not minutes.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
    }
}
# Sign-in lockout (ganweb/accounts/throttle.py): this many wrong passwords for
# one username from one address, or in all from one address, lock both out.
GAN_LOGIN_MAX_FAILURES = int(os.environ.get("GAN_LOGIN_MAX_FAILURES", 5))
GAN_LOGIN_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("GAN_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
)
GAN_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("GAN_LOGIN_LOCKOUT_SECONDS", 900))

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "capacity": 1500, "expiry": 30},
    }
}

# Celery: long GPU tasks are acknowledged late, fetched one at a time, and
# redelivered when a worker dies; the visibility timeout is the same for the
# broker and the result backend so a redelivery is never decided twice.
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600))
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# kombu sweeps for unacked messages past the timeout only every
# unacked_restore_interval * unacked_restore_throttle seconds (10 * 10 by
# default), so a short timeout would wait up to 100 s: sweep every tenth of it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(100, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "light"
# Three queues, each with its own worker: training (one per device), light
# (dataset processing, figures, projections, probes, sweeps) and interactive
# (playground drawing, which a person waits for): one user's uploads can fill
# the light worker without another user's playground waiting behind them.
CELERY_TASK_ROUTES = {
    "workers.tasks.training.*": {"queue": "training"},
    "workers.tasks.playground.*": {"queue": "interactive"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The light and interactive workers run the prefork pool, where Celery enforces
# time limits: at the soft limit the task gets SoftTimeLimitExceeded (and says
# why), at the hard one (GAN_HARD_LIMIT_GRACE later) its process is killed and
# replaced. workers/time_limits.py gives every task but training its limit:
# the one named here, else GAN_LIGHT_TASK_TIME_LIMIT. Training (threads pool,
# runs for hours) has its own, GAN_JOB_TIME_LIMIT_SECONDS.
GAN_PLAYGROUND_TIMEOUT = float(os.environ.get("GAN_PLAYGROUND_TIMEOUT", 30))
GAN_PREFLIGHT_TIMEOUT = float(os.environ.get("GAN_PREFLIGHT_TIMEOUT", 120))
# How long the web waits for a light worker to check an imported checkpoint.
GAN_IMPORT_TIMEOUT = float(os.environ.get("GAN_IMPORT_TIMEOUT", 120))
# How long the web waits for a light worker to find a model's latent directions.
GAN_DIRECTIONS_TIMEOUT = float(os.environ.get("GAN_DIRECTIONS_TIMEOUT", 120))
GAN_LIGHT_TASK_TIME_LIMIT = float(os.environ.get("GAN_LIGHT_TASK_TIME_LIMIT", 600))
# The augmentation value's classifiers: training steps each, and seeds.
GAN_AUGMENTATION_STEPS = int(os.environ.get("GAN_AUGMENTATION_STEPS", 400))
GAN_AUGMENTATION_SEEDS = int(os.environ.get("GAN_AUGMENTATION_SEEDS", 1))
GAN_HARD_LIMIT_GRACE = 10.0
GAN_TASK_TIME_LIMITS = {
    # What the web waits for, no more: past it nobody reads the answer.
    "workers.tasks.playground.render": GAN_PLAYGROUND_TIMEOUT,
    "workers.tasks.playground.describe": GAN_PLAYGROUND_TIMEOUT,
    "workers.tasks.preflight.preflight": GAN_PREFLIGHT_TIMEOUT,
    "workers.tasks.checkpoints.import_checkpoint": GAN_IMPORT_TIMEOUT,
    "workers.tasks.directions.directions": GAN_DIRECTIONS_TIMEOUT,
    "workers.tasks.datasets.process_dataset": float(
        os.environ.get("GAN_DATASET_TIME_LIMIT", 3600)
    ),
    "workers.tasks.maintenance.mark_lost_jobs": 60.0,
    "workers.tasks.maintenance.requeue_stalled_datasets": 60.0,
}
CELERY_TASK_ANNOTATIONS = ("workers.time_limits.TimeLimits",)
CELERY_BEAT_SCHEDULE = {
    "mark-lost-jobs": {
        "task": "workers.tasks.maintenance.mark_lost_jobs",
        "schedule": float(os.environ.get("GAN_LOST_JOB_SWEEP_SECONDS", 10)),
        "options": {"queue": "light", "expires": 30},
    },
    "send-unsent-jobs": {
        "task": "workers.tasks.maintenance.send_unsent_jobs",
        "schedule": float(
            os.environ.get(
                "GAN_UNSENT_JOB_SWEEP_SECONDS",
                os.environ.get("GAN_LOST_JOB_SWEEP_SECONDS", 10),
            )
        ),
        "options": {"queue": "light", "expires": 30},
    },
    "requeue-stalled-datasets": {
        "task": "workers.tasks.maintenance.requeue_stalled_datasets",
        "schedule": float(os.environ.get("GAN_LOST_JOB_SWEEP_SECONDS", 10)),
        "options": {"queue": "light", "expires": 30},
    },
    "sweep-data-caches": {
        "task": "workers.tasks.maintenance.sweep_data_caches",
        "schedule": 3600.0,
        "options": {"queue": "light", "expires": 600},
    },
}
# Training caches (decoded uint8 images per dataset and size, under MEDIA_ROOT):
# built ahead when a dataset becomes ready, and kept under this many bytes in
# all by an hourly sweep (least recently used go first).
GAN_DATA_CACHE_AHEAD = os.environ.get("GAN_DATA_CACHE_AHEAD", "1") != "0"
GAN_DATA_CACHE_MAX_BYTES = int(
    float(os.environ.get("GAN_DATA_CACHE_MAX_BYTES", 50 << 30))
)
# Standard Inception FID/KID on the timeline: the local path of the standard
# Inception-v3 weights file (README, "Quality figures"); its SHA-256 is checked
# before use against GAN_INCEPTION_SHA256 (empty: the standard file's).
GAN_INCEPTION_WEIGHTS = os.environ.get("GAN_INCEPTION_WEIGHTS", "")
GAN_INCEPTION_SHA256 = os.environ.get("GAN_INCEPTION_SHA256", "")
# KID's subset size (Binkowski et al. 2018: 1,000). With fewer samples than
# this the timeline gives no KID (and says so) rather than shrink the subsets.
GAN_KID_SUBSET_SIZE = int(os.environ.get("GAN_KID_SUBSET_SIZE", "1000"))
# With Inception configured, each checkpoint is measured on at most this many
# samples (Inception sees 2n images, about a second each on two CPU cores,
# within the light task's time limit); raise it on faster light workers.
GAN_INCEPTION_SAMPLES = int(os.environ.get("GAN_INCEPTION_SAMPLES", "250"))
# A dataset in processing that shows no sign of life this long lost its worker
# and is queued again (ganweb/datasets/reclaim.py).
GAN_DATASET_STALE_SECONDS = float(os.environ.get("GAN_DATASET_STALE_SECONDS", 120))

# A training worker renews its job's lease every few seconds; a job whose lease
# runs out lost its worker and becomes "interrupted".
GAN_JOB_LEASE_SECONDS = float(os.environ.get("GAN_JOB_LEASE_SECONDS", 30))
GAN_CANCEL_POLL_SECONDS = float(os.environ.get("GAN_CANCEL_POLL_SECONDS", 1.0))
GAN_JOB_MAX_CRASHES = int(os.environ.get("GAN_JOB_MAX_CRASHES", 3))
# An interrupted job goes back to the queue by itself after this grace period
# (at once when a training worker starts).
GAN_JOB_AUTO_RESUME_AFTER_SECONDS = float(
    os.environ.get("GAN_JOB_AUTO_RESUME_AFTER_SECONDS", 60)
)
# A queued job whose task the broker no longer holds this long after it was
# sent (a Redis restarted without its data) is sent again by the sweep.
GAN_JOB_RESEND_AFTER_SECONDS = float(os.environ.get("GAN_JOB_RESEND_AFTER_SECONDS", 60))
# Per user, at once (ganweb/core/limits.py; 0 = no limit): jobs queued or
# running, latent projections queued or running, uploads not yet processed.
GAN_USER_MAX_ACTIVE_JOBS = int(os.environ.get("GAN_USER_MAX_ACTIVE_JOBS", 5))
GAN_USER_MAX_ACTIVE_PROJECTIONS = int(
    os.environ.get("GAN_USER_MAX_ACTIVE_PROJECTIONS", 3)
)
GAN_USER_MAX_ACTIVE_DATASETS = int(os.environ.get("GAN_USER_MAX_ACTIVE_DATASETS", 3))
# A soft time limit per run (0 = none): the run checkpoints and stops, resumable.
GAN_JOB_TIME_LIMIT_SECONDS = float(os.environ.get("GAN_JOB_TIME_LIMIT_SECONDS", 0))

# Dataset uploads (ganweb/datasets): limits checked while streaming, shown on the
# upload page. Uploaded files always go to temporary files on disk, never RAM.
GAN_UPLOAD_MAX_BYTES = int(os.environ.get("GAN_UPLOAD_MAX_BYTES", 1 << 30))
GAN_UPLOAD_MAX_FILES = int(os.environ.get("GAN_UPLOAD_MAX_FILES", 1000))
GAN_DATASET_MAX_FILES = int(os.environ.get("GAN_DATASET_MAX_FILES", 100_000))
GAN_DATASET_MAX_UNPACKED_BYTES = int(
    os.environ.get("GAN_DATASET_MAX_UNPACKED_BYTES", 4 << 30)
)
GAN_DATASET_MAX_COMPRESSION_RATIO = int(
    os.environ.get("GAN_DATASET_MAX_COMPRESSION_RATIO", 200)
)
GAN_DATASET_MAX_PIXELS = int(os.environ.get("GAN_DATASET_MAX_PIXELS", 40_000_000))
GAN_DATASET_MIN_IMAGES = int(os.environ.get("GAN_DATASET_MIN_IMAGES", 8))
# What decoding may cost: pixels (width x height, summed from the headers) in
# one upload and over one user's datasets, and the bytes kept for a user.
GAN_DATASET_MAX_UPLOAD_PIXELS = int(
    os.environ.get("GAN_DATASET_MAX_UPLOAD_PIXELS", 1_000_000_000)
)
GAN_DATASET_MAX_USER_PIXELS = int(
    os.environ.get("GAN_DATASET_MAX_USER_PIXELS", 5_000_000_000)
)
GAN_DATASET_MAX_USER_BYTES = int(os.environ.get("GAN_DATASET_MAX_USER_BYTES", 20 << 30))
FILE_UPLOAD_MAX_MEMORY_SIZE = int(
    os.environ.get("FILE_UPLOAD_MAX_MEMORY_SIZE", 1 << 20)
)
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# One more than ours, so the dataset upload handler answers first, with JSON.
DATA_UPLOAD_MAX_NUMBER_FILES = GAN_UPLOAD_MAX_FILES + 1

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ganweb.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "ganweb.core.json_body.GuardedJSONParser",  # size and nesting limits
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GAN Studio API",
    "DESCRIPTION": "Datasets, training jobs and trained models. Authenticate with "
    "`Authorization: Bearer <token>` from POST /api/auth/token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # <id:...> in URLs (ganweb.core.ids): an integer a BigAutoField holds.
    # A dataset's paired layout, asked at upload ("pairing") and returned
    # ("paired_layout"): one enum in the schema, not two names for one set.
    "ENUM_NAME_OVERRIDES": {"PairedLayoutEnum": ["folders", "side_by_side"]},
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    },
}

# Deployment hardening: on by default when DEBUG is off and HTTPS is declared.
SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = SECURE_HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
    },
}

# Which device a Celery worker process trains on ("auto", "cpu", "cuda:0", ...).
GAN_WORKER_DEVICE = os.environ.get("GAN_WORKER_DEVICE", "auto")

# Playground (ganweb/playground, workers/tasks/playground.py): generators each
# worker keeps loaded (least recently used go first) and the largest upload
# the web decodes for translation (GAN_PLAYGROUND_TIMEOUT, how long the web
# waits for a drawing, is with the Celery time limits above).
GAN_PLAYGROUND_CACHE_SIZE = int(os.environ.get("GAN_PLAYGROUND_CACHE_SIZE", 4))
GAN_PLAYGROUND_MAX_PIXELS = int(
    os.environ.get("GAN_PLAYGROUND_MAX_PIXELS", 2048 * 2048)
)
GAN_PLAYGROUND_MAX_UPLOAD_BYTES = int(
    os.environ.get("GAN_PLAYGROUND_MAX_UPLOAD_BYTES", 16 << 20)
)
