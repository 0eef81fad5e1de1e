"""Settings for Jubileum, read from the environment (see the configuration table in README.md).

Development (`make run`) needs nothing set; production refuses to start without a secret key and
allowed hosts.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import stripe
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from jubileum.lib.env import env_bool, env_int, env_list, env_prefixed, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("JUBILEUM_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Secrets come from the variable itself or from a file named by <NAME>_FILE (jubileum/lib/env.py).
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        # Said in full here because this is what a developer meets who runs manage.py by hand
        # beside `make run` (which sets DJANGO_DEBUG=1) without that variable.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. In production set it (or SECRET_KEY_FILE) to a long random "
            "value. For the local site of `make run`, run commands with "
            '`make manage cmd="<command> ..."` or with DJANGO_DEBUG=1 set: '
            "`DJANGO_DEBUG=1 .venv/bin/python manage.py <command> ...`."
        )
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Where the site lives, for links in e-mails (sent by the worker, which has no request).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured("SITE_URL is not set (e.g. https://jubileum.soest.nl).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks_db",
    "anymail",
    "simple_history",
    "axes",
    "jubileum",
    "events",
    "registrations",
    "budget",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so that static files carry the header too.
    "jubileum.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jubileum.middleware.OrganiserNoStoreMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "jubileum.middleware.ApiLanguageMiddleware",
    "jubileum.middleware.ApiErrorMiddleware",
    "jubileum.middleware.RateLimitMiddleware",
    "jubileum.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a login refused for too many failures into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jubileum.urls"
WSGI_APPLICATION = "jubileum.wsgi.application"

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
                "django.template.context_processors.csp",
                "jubileum.context_processors.site",
                "events.context_processors.site_programme",
            ],
        },
    },
]

# Database: an SQLite file by default (WAL, immediate transactions so concurrent writers queue
# instead of failing on lock upgrade); PostgreSQL (or what dj-database-url knows) via DATABASE_URL.
DATABASE_URL = env_secret("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    # Server-side prepared statements after N uses of a query (psycopg's prepare_threshold).
    # psycopg prepares only statements bound on the server, and Django binds on the client, so
    # today this prepares nothing (bench/README.md). Off by default because a
    # transaction-pooling PgBouncer before 1.21 cannot keep them.
    PREPARE_THRESHOLD = env_int("DATABASE_PREPARE_THRESHOLD", 0, minimum=0)
    if PREPARE_THRESHOLD and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = PREPARE_THRESHOLD
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "jubileum.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL:
    # Redis answers within a millisecond; one that takes longer than REDIS_TIMEOUT_MS to connect
    # or answer is taken as gone, and the cache and rate limits answer from each process's memory
    # instead, asking Redis again after REDIS_RETRY_AFTER seconds (jubileum/lib/cache.py).
    _redis_timeout = env_int("REDIS_TIMEOUT_MS", 250, minimum=1) / 1000
    CACHES = {
        "default": {
            "BACKEND": "jubileum.lib.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": _redis_timeout,
                "socket_timeout": _redis_timeout,
                "RETRY_AFTER": env_int("REDIS_RETRY_AFTER", 5, minimum=1),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# /readyz answers 503 once a task has waited this long for a worker (none running, or too few).
READY_MAX_TASK_WAIT = dt.timedelta(seconds=env_int("READY_MAX_TASK_WAIT", 300, minimum=1))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
if DEBUG:
    # WhiteNoise warns (an error under pytest) when the folder collectstatic fills is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# Budget attachments (invoices, quotes) live outside MEDIA_ROOT: no URL serves them directly;
# a view checks the reader's role first.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT") or VAR_DIR / "private")
for _public in (MEDIA_ROOT, STATIC_ROOT, *STATICFILES_DIRS):
    if PRIVATE_MEDIA_ROOT.resolve().is_relative_to(Path(_public).resolve()):
        raise ImproperlyConfigured(
            f"PRIVATE_MEDIA_ROOT ({PRIVATE_MEDIA_ROOT}) lies inside {_public}, which is served "
            "publicly; put the attachments in a folder of their own."
        )
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "jubileum.lib.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Mail: to the console in development (or to files under var/mail with MAIL_TO_FILES=1);
# any anymail ESP in production, e.g. MAIL_BACKEND=anymail.backends.postmark.EmailBackend with
# ANYMAIL_POSTMARK_SERVER_TOKEN=... (every ANYMAIL_* variable lands in the ANYMAIL setting).
MAIL_BACKEND = env_str("MAIL_BACKEND")
if not MAIL_BACKEND:
    if not DEBUG:
        raise ImproperlyConfigured(
            "MAIL_BACKEND is not set; name an anymail backend (e.g. "
            "anymail.backends.postmark.EmailBackend) or "
            "django.core.mail.backends.smtp.EmailBackend."
        )
    MAIL_BACKEND = (
        "django.core.mail.backends.filebased.EmailBackend"
        if env_bool("MAIL_TO_FILES")
        else "django.core.mail.backends.console.EmailBackend"
    )
# Whose tracking webhook /anymail/<esp>/tracking/ answers: the anymail backend's provider.
MAIL_TRACKING_ESP = env_str("MAIL_TRACKING_ESP") or (
    MAIL_BACKEND.split(".")[2] if MAIL_BACKEND.startswith("anymail.backends.") else ""
)
_mail_options = {"file_path": str(VAR_DIR / "mail")} if "filebased" in MAIL_BACKEND else {}
MAILERS = {"default": {"BACKEND": MAIL_BACKEND, "OPTIONS": _mail_options}}
ANYMAIL = env_prefixed("ANYMAIL_")
# The ESP's tracking webhooks (/anymail/<esp>/tracking/: deliveries, bounces, complaints) must
# come with HTTP basic auth "user:password"; without it anyone could mark e-mails as bounced.
_webhook_secret = env_secret("ANYMAIL_WEBHOOK_SECRET")
if _webhook_secret:
    if ":" not in _webhook_secret:
        raise ImproperlyConfigured("ANYMAIL_WEBHOOK_SECRET must be user:password (basic auth).")
    ANYMAIL["WEBHOOK_SECRET"] = _webhook_secret
elif not DEBUG and MAIL_BACKEND.startswith("anymail.backends.") and ".test." not in MAIL_BACKEND:
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET is not set; choose a user:password and put it in the ESP's "
        "tracking webhook URL (https://user:password@<site>/anymail/<esp>/tracking/)."
    )
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Jubileum <noreply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Backends that deliver nothing (to the console, files, memory, anymail's test backend): there
# the development sender will do.
_UNDELIVERED_MAIL = {"console", "filebased", "locmem", "dummy", "test"}
# Domains mail cannot come from (RFC 2606, RFC 6762): receiving servers refuse the messages or
# file them as spam, and nobody notices until residents miss their tickets.
_LOCAL_DOMAINS = (".localhost", ".local", ".test", ".invalid", ".example")


def _refuse_local_sender(name: str, value: str) -> None:
    address = parseaddr(value)[1]
    domain = address.rpartition("@")[2].lower().rstrip(".")
    if "@" not in address or "." not in domain or f".{domain}".endswith(_LOCAL_DOMAINS):
        raise ImproperlyConfigured(
            f"{name} is {value!r}, but {MAIL_BACKEND} delivers real mail and no mail server "
            "accepts a sender at localhost, a bare host name or a reserved domain (.local, "
            ".localhost, .test, .invalid, .example). Set it to an address of the site's own "
            "domain, e.g. 'Jubileum <noreply@jubileum.soest.nl>'."
        )


if MAIL_BACKEND.split(".")[-2] not in _UNDELIVERED_MAIL:
    _refuse_local_sender("DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL)
    _refuse_local_sender("SERVER_EMAIL", SERVER_EMAIL)

# Payments: Stripe when keys are set; otherwise a local demo mode that charges nothing. Demo mode
# never runs beside real keys, and in production only when explicitly asked for.
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
PAYMENTS_DEMO_MODE = env_bool("PAYMENTS_DEMO_MODE", default=DEBUG and not STRIPE_SECRET_KEY)
if PAYMENTS_DEMO_MODE and STRIPE_SECRET_KEY:
    raise ImproperlyConfigured("PAYMENTS_DEMO_MODE cannot be on while STRIPE_SECRET_KEY is set.")
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET:
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET is needed beside STRIPE_SECRET_KEY.")
# Which database a Checkout Session belongs to, in its metadata: every database that shares one
# Stripe account (production, staging, a developer's) receives the others' webhook events too,
# and must leave them alone. Stable by default: the site's host (and port).
INSTALLATION_ID = env_str("INSTALLATION_ID", urlsplit(SITE_URL).netloc)
if not INSTALLATION_ID or len(INSTALLATION_ID) > 100:
    raise ImproperlyConfigured("INSTALLATION_ID must be 1 to 100 characters (or SITE_URL a URL).")
# Another Stripe-compatible server to talk to instead of Stripe's own (the contract tests point
# it at localstripe); empty is Stripe. Keys and card data go there, so only over TLS in
# production.
STRIPE_API_BASE = env_str("STRIPE_API_BASE").rstrip("/")
_stripe_base = urlsplit(STRIPE_API_BASE)
if STRIPE_API_BASE and (_stripe_base.scheme not in ("http", "https") or not _stripe_base.netloc):
    raise ImproperlyConfigured("STRIPE_API_BASE must be an http(s) URL, e.g. https://host:port.")
if _stripe_base.scheme == "http" and not DEBUG:
    raise ImproperlyConfigured("STRIPE_API_BASE must use https outside DEBUG.")
# The API version every request asks for, and so the version to choose for the webhook endpoint
# in Stripe's dashboard (README, production): events then arrive in the shape we read. By
# default the version this stripe package was built for.
STRIPE_API_VERSION = env_str("STRIPE_API_VERSION") or stripe.api_version

# Security. The CSP allows nothing from other hosts and no inline script or style: every script
# and stylesheet is a static file of ours.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# No script of ours reads the CSRF cookie: pages carry the token in their forms and in the
# `data-hx-headers` on <body>, and the API docs page gets it from the template as well.
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    # Preloading binds the whole registrable domain (usually the municipality's) to HTTPS in
    # browsers for good, so it is the domain owner's opt-in; until then the deploy check's nudge
    # towards it (W021) is silenced rather than answered with a commitment nobody made.
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGIN_URL = "login"
LOGOUT_REDIRECT_URL = "home"

# Login lockout (django-axes): 5 wrong passwords for one username from one address lock that
# pair out for 15 minutes (counted from the last attempt: trying again while locked out starts
# the wait again); another user, or the same user elsewhere, is not affected. The count lives in
# the database, so every app server sees it; the address is read as by our rate limiter.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "jubileum.login.axes_client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes_lockout.html"
# Failed attempts are kept only until their cool-off ends; successful logins are not logged.
AXES_DISABLE_ACCESS_LOG = True
# No banner at every start; failures and lockouts are still logged as warnings.
AXES_VERBOSE = False

# Rate limits (jubileum/lib/ratelimit.py): name -> (requests, window in seconds), counted per
# client address unless the caller names another key. For what a person does by hand: a bot or a
# guesser runs into them, a family never does.
RATE_LIMITS: dict[str, tuple[int, int]] = {
    # Sign-ups, through the form and the API together.
    "signup": (10, 10 * 60),
    # Personal links that match no registration: someone guessing tokens. Only misses count;
    # past the limit every lookup from that address is refused until the window ends.
    "lookup_miss": (20, 10 * 60),
    # Claims of a waitlist offer.
    "claim": (10, 10 * 60),
    # Organiser login attempts with any username (django-axes locks out per username).
    "login": (30, 10 * 60),
    # Re-sent e-mails per registration: enough for a lost mail, too few to spam anyone.
    "resend": (3, 60 * 60),
    # The scanner API per device, pairing per address. A person scans about one ticket a second;
    # a hardware scanner or a queue being sent may go faster for a while.
    "checkin-redeem": (1800, 60),
    "checkin-search": (120, 60),
    "checkin-sync": (120, 60),
    "checkin-pair": (20, 10 * 60),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No personal-link token in a log line (jubileum/lib/logs.py).
    "filters": {"redact_secrets": {"()": "jubileum.lib.logs.RedactSecrets"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
