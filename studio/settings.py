"""Avatar Studio settings: one module, driven by the environment.

Every integration switches on when its variable is set and falls back to an embedded default
otherwise (SQLite, filesystem broker, local private media, the Astria sandbox, console email).
The defaults that only suit development (the test checkout, console email, the Astria sandbox)
are used with DEBUG off only when an ALLOW_* variable names them; `manage.py check --deploy`
reports each one that is missing. The variables are listed in README.md.
"""

import ipaddress
import secrets
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# Local state (SQLite, filesystem broker, media, beat's schedule). Importing the settings writes
# nothing: the folders are made at start-up (studio.core.apps) and the key file by `make run`.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    if key := env("SECRET_KEY", default=""):
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (50+ random "
            "characters), or set DEBUG=1 for local development."
        )
    # `make run` writes the key once, so web, worker and beat share it; a process started
    # without it gets a key of its own.
    key_file = VAR_DIR / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    return secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
PUBLIC_URL = env("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "allauth",
    "allauth.account",
    "accounts",
    "studio.core",
    "studio.astria",
    "studio.photos",
    "studio.themes",
    "studio.credits",
    "studio.avatars",
    "studio.dashboard",
]
if DEBUG:  # development tools with manage.py commands, never installed in production
    INSTALLED_APPS += ["astria_sandbox", "tools.covers"]

MIDDLEWARE = [
    # First: X-Forwarded-* headers count only from TRUSTED_PROXIES, for everything below.
    "studio.core.net.ForwardedHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Compresses HTML (a full gallery is ~20x smaller); CSRF tokens are masked per response, so
    # compression does not expose them (BREACH).
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"
ASGI_APPLICATION = "studio.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.credits.context_processors.credits",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "django.contrib.humanize.templatetags.humanize",
            ],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'studio.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks and take the write lock up front.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache ----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")


def _redis_with_db(url: str, db: int) -> str:
    return f"{url.split('?')[0].rsplit('/', 1)[0]}/{db}" if url.count("/") >= 3 else f"{url}/{db}"


def _redis_db_number(url: str) -> int:
    tail = url.split("?")[0].rsplit("/", 1)[-1] if url.count("/") >= 3 else ""
    return int(tail) if tail.isdigit() else 0


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "studio.core.cache.RedisCacheWithFallback",  # counters only: a Redis outage loosens them
            # The broker's database number plus one, unless REDIS_CACHE_DB says otherwise.
            "LOCATION": _redis_with_db(
                REDIS_URL, env.int("REDIS_CACHE_DB", default=_redis_db_number(REDIS_URL) + 1)
            ),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 400_000  # KiB: a child that grew past this is replaced
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}  # each section below adds its periodic tasks
# Decoding untrusted images runs in its own queue (Procfile: the "images" worker).
CELERY_TASK_ROUTES = {"studio.photos.tasks.*": {"queue": "images"}}
CELERY_TIMEZONE = "UTC"

# --- Auth and accounts ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "avatars:list"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# Database sessions that know their user, so deleting an account ends its sessions by an index.
SESSION_ENGINE = "accounts.sessions"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Avatar Studio] "
# Log-in throttling, for the site and the admin alike (the admin logs in through this form):
# failures per address, per account and address, per customer account from addresses that never
# logged in to it, and per staff account from anywhere (accounts/login_limits.py explains each).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip",
    # AXES_FAILURE_LIMIT keeps the name it had when django-axes counted account-and-address pairs.
    "login_failed_pair": f"{env.int('AXES_FAILURE_LIMIT', default=10)}/15m/key",
    "login_failed_account": env("RATE_LIMIT_LOGIN_ACCOUNT", default="20/h") + "/key",
    "login_failed_staff": env("RATE_LIMIT_LOGIN_STAFF", default="10/h") + "/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
LOGIN_KNOWN_ADDRESS_DAYS = 90  # how long an address that logged in to an account is spared its lock-out

# --- Email ----------------------------------------------------------------------------------
# Console email prints every message, password-reset and confirmation links included, to the
# output: fine in development, a leak in production's logs. With DEBUG off it takes
# ALLOW_CONSOLE_EMAIL; otherwise, without EMAIL_URL, sending fails with the reason.
ALLOW_CONSOLE_EMAIL = env.bool("ALLOW_CONSOLE_EMAIL", default=DEBUG)
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://")
if _EMAIL["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend" and not ALLOW_CONSOLE_EMAIL:
    _EMAIL["EMAIL_BACKEND"] = "studio.core.mail.UnconfiguredEmailBackend"
vars().update(_EMAIL)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Avatar Studio <studio@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Photos, results and exports are private: readable by the studio's own user only.
        "OPTIONS": {
            "location": MEDIA_ROOT,
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# With a bucket configured, media goes to S3-compatible private storage served by signed URLs.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "private, max-age=300"},
        },
    }

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx and the upload script take the token from the page, never the cookie
_HTTPS = PUBLIC_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=_HTTPS)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Being on the browsers' preload list binds every subdomain to HTTPS for months: the operator's
# choice, not a default (so Django's reminder about it is silenced).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Behind a proxy, X-Forwarded-Proto and X-Forwarded-For are believed only from the proxies'
# own addresses (TRUSTED_PROXIES: addresses or networks, loopback by default, as gunicorn's
# FORWARDED_ALLOW_IPS); anyone else's are dropped (studio.core.net.ForwardedHeadersMiddleware).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"] if BEHIND_PROXY else [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an address or network (e.g. 127.0.0.1,10.0.0.0/8)."
        ) from None
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# How many proxies of ours sit in front of the app (each appends to X-Forwarded-For). The client
# address used by rate limits and login throttling is taken that many hops from the right.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if BEHIND_PROXY else 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Expensive actions, per user (or per address when anonymous); exceeding one answers 429.
RATE_LIMITS = {
    "upload": env("RATE_LIMIT_UPLOAD", default="120/m"),
    "confirm": env("RATE_LIMIT_CONFIRM", default="10/m"),
    "purchase": env("RATE_LIMIT_PURCHASE", default="20/m"),
    "callback": env("RATE_LIMIT_CALLBACK", default="30/m"),  # unknown callback tokens only
    "generate": env("RATE_LIMIT_GENERATE", default="10/m"),
    "export": env("RATE_LIMIT_EXPORT", default="20/h"),
    "favourite": env("RATE_LIMIT_FAVOURITE", default="120/m"),
}
RATELIMIT_IP_META_KEY = "studio.core.net.client_ip"

# Content Security Policy: our own scripts, styles and images only; nothing inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Astria ---------------------------------------------------------------------------------
# With no ASTRIA_API_KEY the studio talks to the local sandbox (`python -m astria_sandbox`, which
# reads its own ASTRIA_SANDBOX_* variables; the studio needs only its port). With DEBUG off that
# takes ALLOW_ASTRIA_SANDBOX; otherwise the client refuses every call.
ASTRIA_API_KEY = env("ASTRIA_API_KEY", default="")
ASTRIA_SANDBOX_PORT = env.int("ASTRIA_SANDBOX_PORT", default=8765)
ASTRIA_USES_SANDBOX = not ASTRIA_API_KEY
ALLOW_ASTRIA_SANDBOX = env.bool("ALLOW_ASTRIA_SANDBOX", default=DEBUG)
ASTRIA_API_URL = env(
    "ASTRIA_API_URL",
    default=f"http://127.0.0.1:{ASTRIA_SANDBOX_PORT}" if ASTRIA_USES_SANDBOX else "https://api.astria.ai",
).rstrip("/")
ASTRIA_BRANCH = env("ASTRIA_BRANCH", default="fast")
# LoRA branches train against a base tune and reference the trained tune as <lora:ID:1> in prompts.
ASTRIA_LORA_BRANCHES = frozenset({"flux1"})
ASTRIA_BASE_TUNE_IDS = {"sd15": 690204, "sdxl1": 666678, "flux1": 1504944}
ASTRIA_BASE_TUNE_ID = (
    env.int("ASTRIA_BASE_TUNE_ID", default=ASTRIA_BASE_TUNE_IDS.get(ASTRIA_BRANCH, 0)) or None
)
ASTRIA_TOKEN = env("ASTRIA_TOKEN", default="ohwx" if ASTRIA_BRANCH in {"sdxl1", "flux1"} else "sks")
# The key the studio presents to the sandbox (the sandbox accepts any `sd_...` key as an account).
ASTRIA_SANDBOX_API_KEY = "sd_sandbox_studio"
# Astria answers 504 after 30 s of work, so the read timeout waits a little longer than that.
ASTRIA_CONNECT_TIMEOUT = env.float("ASTRIA_CONNECT_TIMEOUT", default=5.0)
ASTRIA_READ_TIMEOUT = env.float("ASTRIA_READ_TIMEOUT", default=35.0)

# --- Photos ---------------------------------------------------------------------------------
# Every photo threshold lives here and only here: studio.photos.intake.PhotoLimits and
# studio.photos.quality.CoachLimits are built from these values.
PHOTOS_MIN_ACCEPTED = 4  # accepted photos an avatar needs before it can be confirmed
PHOTOS_MAX_PER_AVATAR = 20
# Uploads: caps enforced while the body streams in (studio.photos.uploads); a proxy in front
# should cap the body at PHOTOS_MAX_REQUEST_BYTES too (nginx: client_max_body_size).
PHOTOS_MAX_FILE_BYTES = env.int("PHOTOS_MAX_FILE_BYTES", default=25 * 1024 * 1024)
PHOTOS_MAX_REQUEST_BYTES = env.int("PHOTOS_MAX_REQUEST_BYTES", default=200 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = PHOTOS_MAX_PER_AVATAR + 5  # past this Django answers 400
FILE_UPLOAD_HANDLERS = [
    "studio.photos.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Images: checked from the header before decoding (in the request, and again in the images worker
# before it decodes anything), then normalised by the worker. A 48 MP phone photo fits under
# PHOTOS_MAX_PIXELS (Pillow's own limit stays above it); PNG and WebP, which are decoded at full
# size, have a lower cap; and a file may claim at most PHOTOS_MAX_PIXELS_PER_BYTE pixels per byte
# (camera JPEG and HEIC: 3 to 30; a 1-bit "pixel flood" PNG: thousands).
PHOTOS_MAX_PIXELS = env.int("PHOTOS_MAX_PIXELS", default=50_000_000)
PHOTOS_MAX_PIXELS_PNG_WEBP = env.int("PHOTOS_MAX_PIXELS_PNG_WEBP", default=25_000_000)
PHOTOS_MAX_PIXELS_PER_BYTE = env.int("PHOTOS_MAX_PIXELS_PER_BYTE", default=200)
PHOTOS_MIN_SIDE = 512
PHOTOS_MAX_ASPECT_RATIO = 3.0
PHOTOS_LONG_SIDE = 2048  # "about": JPEG draft decoding may stop a little short (4032 -> 2016)
PHOTOS_JPEG_QUALITY = 90
PHOTOS_THUMBNAIL_SIZE = 400
PHOTOS_THUMBNAIL_QUALITY = 80
# The coach (studio.photos.quality.CoachLimits): sharpness is the Laplacian variance at 512 px
# after stretching the grey levels, brightness the mean grey level (0-255), face size a fraction
# of the shorter side, and near-duplicates differ in at most this many of 64 dHash bits.
PHOTOS_COACH = {
    "sharpness_refuse": 12.0,
    "sharpness_warn": 40.0,
    "dark_refuse": 30.0,
    "dark_warn": 60.0,
    "bright_warn": 210.0,
    "bright_refuse": 235.0,
    "face_min_fraction": 0.08,
    "duplicate_max_distance": 4,
}
# Processing that never reported back (lost enqueue, killed worker) is retried, then given up.
PHOTOS_PROCESSING_MAX_ATTEMPTS = 3
PHOTOS_PROCESSING_RETRY_AFTER = 120  # seconds
PHOTOS_PROCESSING_GIVE_UP_AFTER = 900  # seconds
# Photos one user may have waiting for the images worker at once: the queue is shared by everyone.
PHOTOS_MAX_PROCESSING = env.int("PHOTOS_MAX_PROCESSING", default=20)
CELERY_BEAT_SCHEDULE["photos-sweep"] = {"task": "studio.photos.tasks.photo_sweep", "schedule": 60.0}

# --- Themes and fair use --------------------------------------------------------------------
# Astria's fair use: on average 14 prompts per fine-tune, 8 images each; 7 system prompts.
FAIR_USE_MAX_THEME_PROMPTS = env.int("FAIR_USE_MAX_THEME_PROMPTS", default=7)
FAIR_USE_MAX_CUSTOM_PROMPTS = env.int("FAIR_USE_MAX_CUSTOM_PROMPTS", default=7)
FAIR_USE_MAX_PROMPTS = env.int("FAIR_USE_MAX_PROMPTS", default=14)
IMAGES_PER_PROMPT = env.int("IMAGES_PER_PROMPT", default=8)
# The prompt builder (studio/themes/prompting.py). A user's own prompt is cut at this length, gets
# the quality terms it lacks, and the default negative prompt; every negative prompt gets the
# safety terms. Prompts with a forbidden word or phrase are refused with the word named: the list
# is studio/themes/data/forbidden_words.txt (which says how words are matched), and
# THEMES_FORBIDDEN_WORDS (comma-separated) replaces it.
THEMES_CUSTOM_PROMPT_MAX_CHARS = env.int("THEMES_CUSTOM_PROMPT_MAX_CHARS", default=300)
THEMES_QUALITY_SUFFIX = env(
    "THEMES_QUALITY_SUFFIX", default="highly detailed, sharp focus, beautiful lighting, high quality"
)
THEMES_DEFAULT_NEGATIVE_PROMPT = env(
    "THEMES_DEFAULT_NEGATIVE_PROMPT",
    default="blurry, lowres, low quality, jpeg artifacts, watermark, text, signature, deformed, "
    "disfigured, bad anatomy, extra limbs, mutated hands, cropped, out of frame, duplicate",
)
THEMES_SAFETY_NEGATIVE_PROMPT = env("THEMES_SAFETY_NEGATIVE_PROMPT", default="nsfw, nudity")
THEMES_FORBIDDEN_WORDS = env.list("THEMES_FORBIDDEN_WORDS", default=None)
# Theme cfg_scale and steps are Stable Diffusion values; Flux's guidance means something else.
THEMES_BRANCHES_WITHOUT_SAMPLER_SETTINGS = frozenset({"flux1"})

# --- Credits and prices ---------------------------------------------------------------------
# An avatar costs the tune (training) plus one price per prompt; "generate more" costs the
# prompts only. Failed work is refunded at the same prices.
CREDITS_SIGNUP_GRANT = env.int("CREDITS_SIGNUP_GRANT", default=8)
CREDITS_PRICE_TUNE = env.int("CREDITS_PRICE_TUNE", default=2)
CREDITS_PRICE_PROMPT = env.int("CREDITS_PRICE_PROMPT", default=1)
# Packs on sale: prices in the currency's smallest unit (cents). A full avatar (training plus
# 14 prompts) costs CREDITS_PRICE_TUNE + 14 * CREDITS_PRICE_PROMPT = 16 credits by default.
CREDIT_PACKS = [
    {"slug": "starter", "name": "Starter", "credits": 20, "price": 600, "currency": "usd"},
    {"slug": "plus", "name": "Plus", "credits": 50, "price": 1200, "currency": "usd", "featured": True},
    {"slug": "studio", "name": "Studio", "credits": 120, "price": 2400, "currency": "usd"},
]
# With no STRIPE_SECRET_KEY, purchases go through a local test checkout that takes no money, so
# anyone could add credits: with DEBUG off it takes ALLOW_TEST_CHECKOUT, otherwise nothing is sold.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
ALLOW_TEST_CHECKOUT = env.bool("ALLOW_TEST_CHECKOUT", default=DEBUG)
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_TIMEOUT = 20  # seconds for each call to Stripe's API
if STRIPE_SECRET_KEY:  # the Buy form's redirect to Stripe Checkout is a form action too
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append("https://checkout.stripe.com")
# Checkouts whose webhook never came are asked about at Stripe (does nothing without Stripe).
CELERY_BEAT_SCHEDULE["credits-purchase-reconcile"] = {
    "task": "studio.credits.tasks.purchase_reconcile_pending",
    "schedule": 600.0,
}

# --- Avatar pipeline -----------------------------------------------------------------------
# Hosts result images may be downloaded from (besides the configured API host).
ASTRIA_IMAGE_HOSTS = env.list(
    "ASTRIA_IMAGE_HOSTS",
    default=["sdbooth2-production.s3.amazonaws.com", "cdn.astria.ai", "api.astria.ai", "www.astria.ai"],
)
# Result images come over https, on the default port, from hosts at public addresses only. The
# local sandbox (ASTRIA_API_URL itself: http, its own port, on this machine) may serve them too,
# only where the sandbox itself is allowed (DEBUG or ALLOW_ASTRIA_SANDBOX).
RESULT_IMAGE_MAX_BYTES = 25 * 1024 * 1024
RESULT_MAX_PIXELS = 50_000_000
RESULT_LONG_SIDE = 4096
RESULT_DOWNLOAD_TIMEOUT = (5, 60)
RESULT_JPEG_QUALITY = 92
RESULT_THUMB_SIZE = 640  # a gallery column on a 3x phone (195 css px, 585 px) still uses the thumbnail
CALLBACK_MAX_BYTES = 256 * 1024
# A submit that keeps dying (its worker killed each time) fails the avatar after this many runs;
# one that Astria keeps refusing with 429/5xx or timeouts is retried until the avatar has been
# queued this many seconds, then failed and refunded.
AVATAR_SUBMIT_MAX_CRASHES = 3
AVATAR_SUBMIT_GIVE_UP_AFTER = env.int("AVATAR_SUBMIT_GIVE_UP_AFTER", default=3600)
# Seconds one submit may hold an avatar while it talks to Astria (longer than the task's time
# limit); past that, a submit killed mid-way no longer keeps the others out.
AVATAR_SUBMIT_LEASE = env.int("AVATAR_SUBMIT_LEASE", default=180)
# The reconciler: how often it runs, when it looks at what callbacks should have reported, when
# it gives up (seconds).
RECONCILE_INTERVAL = env.int("RECONCILE_INTERVAL", default=60)
RECONCILE_POLL_INTERVAL = env.int("RECONCILE_POLL_INTERVAL", default=60)
RECONCILE_QUEUED_GRACE = env.int("RECONCILE_QUEUED_GRACE", default=120)
RECONCILE_PROMPT_POLL_AFTER = env.int("RECONCILE_PROMPT_POLL_AFTER", default=120)
AVATAR_GIVE_UP_AFTER = env.int("AVATAR_GIVE_UP_AFTER", default=3 * 3600)
PROMPT_GIVE_UP_AFTER = env.int("PROMPT_GIVE_UP_AFTER", default=3 * 3600)
PHOTOS_RETENTION_DAYS = env.int("PHOTOS_RETENTION_DAYS", default=7)
DRAFT_RETENTION_DAYS = env.int("DRAFT_RETENTION_DAYS", default=30)
EXPORT_KEEP_HOURS = 24
# Drafts one user may hold at once (each keeps its photos until it is ordered or deleted).
AVATAR_MAX_DRAFTS = env.int("AVATAR_MAX_DRAFTS", default=5)
CELERY_BEAT_SCHEDULE["avatar-reconcile"] = {
    "task": "studio.avatars.tasks.avatar_reconcile",
    "schedule": float(RECONCILE_INTERVAL),
}
# Files in media storage that no row points to (a crash between a write and its row, a delete
# whose file removal failed) are removed once older than MEDIA_SWEEP_GRACE_HOURS, so a file being
# written right now is never touched.
MEDIA_SWEEP_GRACE_HOURS = env.int("MEDIA_SWEEP_GRACE_HOURS", default=24)
CELERY_BEAT_SCHEDULE["media-sweep"] = {"task": "studio.avatars.tasks.media_sweep_orphans", "schedule": 86400.0}

# --- Operator dashboard ------------------------------------------------------------------------
# What Astria charges, in USD per branch, for the "Astria spend" figures (`fast` is Astria's free
# test mode). The defaults are Astria's legacy list prices, $1.50 per fine-tune and $0.10 per
# prompt; set your own from your invoice, e.g. ASTRIA_COST_PER_TUNE="fast=0,sd15=1.50,flux1=1.50".
# A branch missing here is shown as "no price set" rather than counted as free.


def _usd_by_branch(name: str, default: dict[str, str]) -> dict[str, Decimal]:
    raw = env(name, default="")
    pairs = [item.split("=", 1) for item in raw.split(",") if item.strip()] if raw else list(default.items())
    try:
        prices = {branch.strip(): Decimal(price.strip()) for branch, price in pairs}
    except (ValueError, ArithmeticError):
        raise ImproperlyConfigured(f'{name} must look like "fast=0,sd15=1.50" (USD per branch).') from None
    if any(not price.is_finite() or price < 0 for price in prices.values()):
        raise ImproperlyConfigured(f"{name}: prices must be zero or more.")
    return prices


ASTRIA_COST_PER_TUNE = _usd_by_branch(
    "ASTRIA_COST_PER_TUNE", {"fast": "0", "sd15": "1.50", "sdxl1": "1.50", "flux1": "1.50"}
)
ASTRIA_COST_PER_PROMPT = _usd_by_branch(
    "ASTRIA_COST_PER_PROMPT", {"fast": "0", "sd15": "0.10", "sdxl1": "0.10", "flux1": "0.10"}
)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging --------------------------------------------------------------------------------
# JSON lines on stdout in production, plain lines in development; secrets are always redacted.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "studio.core.logging.RedactSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "studio.core.logging.json_formatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}
