"""Accretion Portal settings: one module, driven by environment variables.

Every variable is optional for development (`DEBUG=true`); production needs
at least SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL. See docs/configuration.md.
"""

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from accretion.addresses import parse_proxies
from accretion.env import cache_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("ACCRETION_VAR_DIR", str(BASE_DIR.parent / "var")))

DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see docs/configuration.md: production).")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if (DEBUG or TESTING) else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "ninja",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accretion.clinics",
    "accretion.audit",
    "accretion.patients",
    "accretion.screenings",
    "accretion.procedures",
    "accretion.consents",
    "accretion.education",
    "accretion.aftercare",
    "accretion.practice",
    "accretion.recall",
    "accretion.outcomes",
    "accretion.adverse_events",
    "accretion.interop",
    "accretion.jobs",
    "accretion.backup",
    "accretion.cli",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accretion.clinics.tenancy.ActiveClinicMiddleware",
    "accretion.kiosk.middleware.PatientModeMiddleware",
    "axes.middleware.AxesMiddleware",
    "accretion.not_allowed.MethodNotAllowedMiddleware",
    "accretion.not_found.PortalNotFoundMiddleware",  # with DEBUG on too, staff see the portal's 404 page
]
if not DEBUG:
    MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")

ROOT_URLCONF = "accretion.urls"
WSGI_APPLICATION = "accretion.wsgi.application"

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
                "accretion.clinics.tenancy.clinic_context",
            ],
            "builtins": ["accretion.clinics.templatetags.display"],
        },
    },
]

# --- Database -------------------------------------------------------------
# An embedded SQLite file by default; DATABASE_URL=postgres://... for production.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'accretion.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers
    # never read the same audit-chain head (see accretion/audit/chain.py).
    # WAL lets readers go on while one writer writes; the busy timeout makes a second writer wait its turn
    # instead of failing with "database is locked". synchronous stays FULL: a commit that was acknowledged
    # survives a power cut.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20,
                                       "init_command": "PRAGMA journal_mode=WAL;"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file, not shared-cache memory: there concurrent live-server requests
    # fail at once with "table is locked" instead of waiting for the write lock.
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_SQLITE_PATH", str(Path(tempfile.gettempdir()) / "accretion-test.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Shared cache ---------------------------------------------------------------
# Rate-limit counters and drawn plots live here, so every worker process and machine must see the same cache:
# the database by default (no other service), Redis in production (CACHE_URL=redis://host:6379/0).
CACHES = {"default": cache_from_url("CACHE_URL", env_str("CACHE_URL", "db://"),
                                    key_prefix=env_str("CACHE_KEY_PREFIX"))}

# --- Background tasks (accretion/jobs) ----------------------------------------------
# Queued as rows of this database (django-tasks' database backend) and run by `accretion worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASK_RESULTS_DAYS = env_int("TASK_RESULTS_DAYS", 30, minimum=1)

# --- The client's address ---------------------------------------------------------
# Behind a load balancer or reverse proxy, list its addresses (or networks) here; only connections from them
# have their forwarded-for header read (accretion/addresses.py). Empty: REMOTE_ADDR is the client.
try:
    TRUSTED_PROXIES = parse_proxies(env_list("TRUSTED_PROXIES", []))
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from None
CLIENT_ADDRESS_HEADER = "HTTP_" + env_str("CLIENT_ADDRESS_HEADER", "X-Forwarded-For").upper().replace("-", "_")

# --- Sign-in, sessions, passwords -------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accretion.clinics.views.locked_out"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "accretion.addresses.client_address"  # the same address the audit log records
# Lockout is per account (the requirement), whatever address or browser the attempts come from.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True  # the clock restarts on each request: an idle timeout
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

API_TOKEN_HOURS = env_int("API_TOKEN_HOURS", 12, minimum=1)

# --- Transport security (production) ------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

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
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- E-mail (console in development; SMTP in production: EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Accretion Portal <no-reply@localhost>")

SMS_BACKEND = env_str("SMS_BACKEND", "accretion.outcomes.sms.ConsoleSMSBackend")
# The address patients reach the portal at, for links in reminders.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
PASSWORD_RESET_TIMEOUT = 24 * 3600  # a forgotten-password link works once, for a day
OTP_TOTP_ISSUER = "Accretion Portal"  # what the authenticator app shows next to the codes
# The key of the pseudonymous codes in the de-identified export: kept apart from SECRET_KEY, so that rotating
# SECRET_KEY keeps codes stable between exports and holding SECRET_KEY does not reverse them.
EXPORT_PSEUDONYM_KEY = env_str("EXPORT_PSEUDONYM_KEY") or SECRET_KEY

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploaded clinical images. Never served as public files: they hold patient data.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
