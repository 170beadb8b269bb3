"""Django settings for Leadbase, read from environment variables only.

Every variable is documented in docs/configuration.md (a test fails when one is not). A secret
can also be given as a file with the ``*_FILE`` suffix (for container secrets). The embedded
default is SQLite in ``LEADBASE_DATA_DIR``, tuned for concurrent writers: WAL journal,
``BEGIN IMMEDIATE`` transactions (so two writers queue instead of failing on lock upgrade) and a
busy timeout.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url

from leadbase.settings_errors import SettingError, shown


def env(name: str, default: str = "") -> str:
    """Return ``$name``, or the content of the file named by ``$name_FILE``, or ``default``. A
    variable set empty (``NAME=`` in an env file) is not set: an empty host list made every
    request a 400, an empty EMAIL_URL or base address stopped the start."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(name + "_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingError(f"{name}_FILE names {path}, which cannot be read: {_why(exc)}") from None
    return default


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def env_bool(name: str, default: bool) -> bool:
    value = env(name, "")
    if value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number, ``minimum`` or more (a negative count or delay has no meaning) and at
    most ``maximum`` when there is one."""
    value = env(name, "")
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise SettingError(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise SettingError(f"{name} must be at most {maximum}, not {number}")
    return number


def env_region(name: str, default: str) -> str:
    """A two-letter country code that has a phone numbering plan (``DE``, ``us``)."""
    import phonenumbers

    value = env(name, "").upper() or default
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingError(
            f"{name} must be a two-letter country code such as US, GB or DE, not {value!r}: "
            "phone numbers written without + are read in that country"
        )
    return value


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("LEADBASE_DATA_DIR", "./leadbase-data")).resolve()
DEBUG = env_bool("LEADBASE_DEBUG", False)


def _secret_key() -> str:
    given = env("LEADBASE_SECRET_KEY")
    if given:
        return given
    # Generated once and kept in the data dir, so sessions survive a restart.
    path = DATA_DIR / "secret_key"
    try:
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(50)
            path.write_text(key, encoding="utf-8")
            path.chmod(0o600)
            return key
    except OSError as exc:  # a data dir that cannot be made or written
        raise SettingError(
            f"LEADBASE_DATA_DIR ({DATA_DIR}) cannot be used: {path} cannot be read or written: {_why(exc)}"
        ) from None


SECRET_KEY = _secret_key()

def _checked_port(name: str, url: str) -> int | None:
    """The port of the address ``url`` in setting ``name``; a port that is not a number in
    0–65535 is the setting's error (urllib raised a ValueError, a traceback at the first use).
    A ``#``, ``/`` or ``?`` in a password cuts the address there: it must be written %23, %2F
    or %3F (as in any URL), and the message says so."""
    try:
        return urlsplit(url).port
    except ValueError:
        raise SettingError(
            f"{name} has a port that is not a number from 0 to 65535: {shown(url)!r} (a #, / or ? "
            "in a user name or password must be written %23, %2F or %3F)"
        ) from None


BASE_URL = env("LEADBASE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if urlsplit(BASE_URL).scheme not in ("http", "https") or not urlsplit(BASE_URL).hostname:
    raise SettingError(
        "LEADBASE_BASE_URL must be an address starting with http:// or https:// and naming a host, "
        f"not {env('LEADBASE_BASE_URL', '')!r}"
    )
if urlsplit(BASE_URL).path or urlsplit(BASE_URL).query:
    # Leadbase is served at the root of its address; links built on a path would lead nowhere.
    raise SettingError(f"LEADBASE_BASE_URL must be an address without a path, not {BASE_URL!r}")
_checked_port("LEADBASE_BASE_URL", BASE_URL)
DEFAULT_REGION = env_region("LEADBASE_DEFAULT_REGION", "US")

ALLOWED_HOSTS = [h.strip() for h in env("LEADBASE_ALLOWED_HOSTS", "*").split(",") if h.strip()] or ["*"]
CSRF_TRUSTED_ORIGINS = [BASE_URL]
_base = urlsplit(BASE_URL)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _base.scheme == "https"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool(
    "LEADBASE_BEHIND_PROXY", False
) else None
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "leadbase.accounts",
    "leadbase.leads",
    "leadbase.capture",
    "leadbase.api",
    "leadbase.hooks",
    "leadbase.reports",
    "leadbase.web",
    "leadbase.outbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "leadbase.web.middleware.LengthRequiredMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "leadbase.urls"
WSGI_APPLICATION = "leadbase.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadbase.web.context.workspace",
            ],
        },
    },
]


SQLITE_PAGE_SIZE = 4096
# Pages of write-ahead log after which a committing connection copies the log back into the
# database file (SQLite's default, 1000). That copy and its fsync run inside the commit, so
# inside the write lock; `leadbase serve` raises this for its processes and checkpoints from its
# own process instead (see leadbase.sqlite_backend.checkpoint).
SQLITE_AUTOCHECKPOINT = env_int("LEADBASE_SQLITE_AUTOCHECKPOINT", 1000)
# Megabytes of the database file a connection reads through a memory map (SQLite's mmap_size)
# rather than with a read() call per page. Each commit by another process empties a
# connection's page cache, so under a stream of writes every transaction reads its pages
# again; mapped, that costs no system call nor copy. `leadbase serve` sets it for its processes.
SQLITE_MMAP_MB = env_int("LEADBASE_SQLITE_MMAP_MB", 0, maximum=2047)  # SQLite maps 2 GB at most


def _database(url: str) -> dict:
    # Persistent connections: reconnecting (and re-running the SQLite PRAGMAs) on every request
    # costs more than a small request itself.
    if urlsplit(url).scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        # dj-database-url knows MySQL, Oracle…: Leadbase runs on SQLite and PostgreSQL only.
        raise SettingError(f"DATABASE_URL must start with sqlite:// or postgres://, not {shown(url)!r}")
    try:
        config = dj_database_url.parse(url, conn_max_age=None if url.startswith("sqlite") else 60)
    except (ValueError, KeyError) as exc:
        raise SettingError(f"DATABASE_URL cannot be used: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Django's backend, with writers queuing on a file lock (see leadbase/sqlite_backend).
        config["ENGINE"] = "leadbase.sqlite_backend"
        # Tests use an in-memory database (Django's default for SQLite); said explicitly because
        # pytest-django recognises SQLite by Django's engine name only.
        config["TEST"] = {"NAME": ":memory:"}
        try:
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingError(
                f"LEADBASE_DATA_DIR (or DATABASE_URL) cannot be used: the folder of the SQLite database "
                f"{config['NAME']} cannot be made: {_why(exc)}"
            ) from None
        config["OPTIONS"] = {
            # IMMEDIATE: take the write lock at BEGIN, so concurrent writers wait on the busy
            # timeout instead of failing with "database is locked" when upgrading a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                # 4 KB pages (SQLite's default), for a database created from now on; an existing
                # file keeps its size (the pragma changes nothing there). A commit writes every
                # page it changed to the log, whole: a group of form posts changes a page or two
                # in each of some twenty indexes, so with 16 KB pages it wrote and checksummed
                # about four times the bytes. With 4 KB pages the form benchmark took 7-11 %
                # more posts per second in three of four alternating pairs (one 2.5 % fewer),
                # and a million-row import took 1.1-1.3 s (3-4 %) longer.
                f"PRAGMA page_size={SQLITE_PAGE_SIZE};"
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-64000;"
                "PRAGMA temp_store=MEMORY;"
                f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT};"
                f"PRAGMA mmap_size={SQLITE_MMAP_MB * 1024 * 1024};"
            ),
        }
    return config


DATABASE_URL = env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'leadbase.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("TEST", {})
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

REDIS_URL = env("REDIS_URL")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    raise SettingError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {shown(REDIS_URL)!r}")
if REDIS_URL:
    _checked_port("REDIS_URL", REDIS_URL)
if REDIS_URL:
    TASKS = {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", "imports"]},
    }
    RQ_QUEUES = {"default": {"URL": REDIS_URL}, "imports": {"URL": REDIS_URL}}
    INSTALLED_APPS.append("django_rq")
else:
    # The database queue: a side effect enqueued in a transaction commits (or rolls back) with it.
    # Imports have a queue (and a worker process) of their own: see leadbase/worker.py.
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}


def _email(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtps", "smtp+tls"):
        raise SettingError(
            f"EMAIL_URL must start with smtp://, smtps://, smtp+tls:// or console://, not {shown(url)!r}"
        )
    port = _checked_port("EMAIL_URL", url)
    if not parts.hostname:
        raise SettingError(f"EMAIL_URL names no mail server: {shown(url)!r} (smtp://host:port)")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if parts.scheme == "smtps" else 25),
        # percent-encoded in the URL (``us%40er``), as in DATABASE_URL
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_TIMEOUT": 30,
    }


globals().update(_email(env("EMAIL_URL", "smtp://127.0.0.1:25")))


def _mail_domain(host: str | None) -> str:
    """The base address's host as a mail domain: an IP address is none (``leadbase@127.0.0.1``
    is not a valid address and strict mail servers refuse it), so it is ``localhost`` then."""
    try:
        ipaddress.ip_address(host or "")
    except ValueError:
        return host or "localhost"
    return "localhost"


def _from_email(value: str) -> str:
    """LEADBASE_FROM_EMAIL checked at start: an address (``news@acme.example``, with or without
    a name) or the default. A bad one was taken, and every confirmation email sent meanwhile
    failed for good."""
    if not value.strip():
        return f"Leadbase <leadbase@{_mail_domain(_base.hostname)}>"
    name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not (at and local and domain.strip(".") and " " not in address and "\n" not in value):
        raise SettingError(
            f"LEADBASE_FROM_EMAIL must be an email address, with or without a name "
            f"(news@acme.example, Acme News <news@acme.example>), not {value!r}"
        )
    return value.strip()


DEFAULT_FROM_EMAIL = _from_email(env("LEADBASE_FROM_EMAIL", ""))
#: Whether LEADBASE_FROM_EMAIL names its sender ("Acme News <news@acme.example>"): else a
#: workspace's emails to its leads carry the workspace's name (leadbase.capture.emails).
FROM_EMAIL_HAS_NAME = bool(parseaddr(env("LEADBASE_FROM_EMAIL", ""))[0])

# Imports: uploaded files and reports live in the data dir; a web upload is capped.
UPLOAD_DIR = DATA_DIR / "uploads"
IMPORT_MAX_UPLOAD_MB = env_int("LEADBASE_IMPORT_MAX_UPLOAD_MB", 200, minimum=1)
# Days an import's report is kept after the import ends (and an upload never imported after it
# was uploaded); the imports lane of the worker deletes them. 0 keeps them for ever.
IMPORT_FILES_DAYS = env_int("LEADBASE_IMPORT_FILES_DAYS", 30)
# Days a finished background task (its row in the database queue: arguments, result, error) is
# kept after it finished; the worker deletes older ones every hour. 0 keeps them for ever.
TASK_RESULTS_DAYS = env_int("LEADBASE_TASK_RESULTS_DAYS", 7)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
IMPORT_WORKERS = env_int("LEADBASE_IMPORT_WORKERS", os.cpu_count() or 1, minimum=1)
# The web server `leadbase serve` starts (its --workers and --threads win): read here with the
# others, so a bad value stops every command with one line, not only serve, which took it for
# a CommandError.
# More than the limits is a typo: granian failed on such a number with a traceback, or started
# its processes again and again.
MAX_WEB_WORKERS, MAX_WEB_THREADS = 512, 1024


def web_workers_default(cores: int | None) -> int:
    """One web process per core, at least two (one writes while the other answers), at most
    ``MAX_WEB_WORKERS``."""
    return min(max(2, cores or 1), MAX_WEB_WORKERS)


WEB_WORKERS = env_int(
    "LEADBASE_WEB_WORKERS", web_workers_default(os.cpu_count()), minimum=1, maximum=MAX_WEB_WORKERS
)
WEB_THREADS = env_int("LEADBASE_WEB_THREADS", 8, minimum=1, maximum=MAX_WEB_THREADS)
# Seconds a possible-duplicate scan waits after the first new lead it covers (a burst shares it).
DUPLICATE_SCAN_DELAY = env_int("LEADBASE_DUPLICATE_SCAN_DELAY", 5)

# Public capture (issue #3). Limits are settings so an operator (or a load test on 127.0.0.1)
# can tune them; they hold across processes (database-backed counters).
FORM_MIN_FILL_SECONDS = env_int("LEADBASE_FORM_MIN_FILL_SECONDS", 2)
FORM_RATE_PER_IP = env_int("LEADBASE_FORM_RATE_PER_IP", 20)  # submissions per IP per minute
FORM_RATE_PER_FORM = env_int("LEADBASE_FORM_RATE_PER_FORM", 6000)  # submissions per form per minute
FORM_MAX_BODY_KB = env_int("LEADBASE_FORM_MAX_BODY_KB", 64, minimum=1)
CONFIRM_LINK_HOURS = env_int("LEADBASE_CONFIRM_LINK_HOURS", 72, minimum=1, maximum=24 * 365)
API_RATE_PER_TOKEN = env_int("LEADBASE_API_RATE_PER_TOKEN", 600)  # requests per token per minute
WEBHOOK_MAX_ATTEMPTS = env_int("LEADBASE_WEBHOOK_MAX_ATTEMPTS", 15, minimum=1)  # ~32 h of backoff
WEBHOOK_DISABLE_AFTER = env_int("LEADBASE_WEBHOOK_DISABLE_AFTER", 20, minimum=1)  # consecutive failed deliveries
WEBHOOK_DISABLE_HOURS = env_int("LEADBASE_WEBHOOK_DISABLE_HOURS", 24)  # … failing for at least this long
WEBHOOK_TIMEOUT_SECONDS = env_int("LEADBASE_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("LEADBASE_TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (ValueError, zoneinfo.ZoneInfoNotFoundError):
    raise SettingError(f"LEADBASE_TIME_ZONE must be a time zone name such as Europe/Berlin or UTC, not {TIME_ZONE!r}") from None
LOG_LEVEL = env("LEADBASE_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise SettingError(f"LEADBASE_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start when it is missing
except OSError as exc:
    raise SettingError(f"LEADBASE_DATA_DIR ({DATA_DIR}) cannot be used: {STATIC_ROOT} cannot be made: {_why(exc)}") from None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders, so `leadbase serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line says when, how grave and from where, like the web server's access log's lines.
    "formatters": {
        "line": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s", "datefmt": "%Y-%m-%d %H:%M:%S %z"},
    },
    # A refused request is one line without its traceback: a 403, a 404, and a request for
    # another host name (``django.security.DisallowedHost``: scanners trying the machine's IP
    # address logged some twenty lines each). On the handler, so it reads every logger's.
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["no_traceback_below_500"]},
    },
    "filters": {"no_traceback_below_500": {"()": "leadbase.logs.NoTracebackBelow500"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.tasks": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django.request": {"filters": ["no_traceback_below_500"]},
    },
}
