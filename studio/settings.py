"""Avatar Studio settings: one module, driven by the environment.

Every integration switches on when its variable is set and falls back to an embedded default
otherwise (SQLite, filesystem broker, local private media, the Astria sandbox, console email).
The defaults that only suit development (the test checkout, console email, the Astria sandbox)
are used with DEBUG off only when an ALLOW_* variable names them; `manage.py check --deploy`
reports each one that is missing. The variables are listed in README.md.
"""

from pathlib import Path

import environ

from studio import beat
from studio.core import config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# Local state (SQLite, filesystem broker, media, beat's schedule). Importing the settings writes
# nothing: the folders are made at start-up (studio.core.apps) and the key file by `make run`.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = config.secret_key(value=env("SECRET_KEY", default=""), debug=DEBUG, var_dir=VAR_DIR)
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
    "studio.teams",
    "studio.dashboard",
    "studio.support",
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
        # template_partials wraps the loaders (filesystem and app directories, cached) itself.
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
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'studio.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks and take the write lock up front.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
else:
    DATABASES["default"] |= {"CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60), "CONN_HEALTH_CHECKS": True}
    # Statements a connection runs again and again (each page's session and user, each callback's
    # INSERT) are prepared once; DATABASE_PREPARED_STATEMENTS=0 behind a pooler that cannot keep them.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache ----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "studio.core.cache.RedisCacheWithFallback",  # counters only: a Redis outage loosens them
            # The broker's database number plus one, unless REDIS_CACHE_DB says otherwise.
            "LOCATION": config.redis_url_with_db(
                REDIS_URL, env.int("REDIS_CACHE_DB", default=config.redis_db_number(REDIS_URL) + 1)
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
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3, "socket_timeout": 10}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "studio.core.broker:Transport"  # messages appear whole
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 400_000  # KiB: a child that grew past this is replaced
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
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
ACCOUNT_CONFIRM_EMAIL_ON_GET = True  # the link in the email confirms: one click
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Avatar Studio] "
# Log-in throttling for the site and the admin alike (the admin logs in through this form);
# accounts/login_limits.py explains each failure counter.
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
# Console email prints every message, reset links included: with DEBUG off it takes
# ALLOW_CONSOLE_EMAIL; otherwise, without EMAIL_URL, sending fails with the reason.
ALLOW_CONSOLE_EMAIL = env.bool("ALLOW_CONSOLE_EMAIL", default=DEBUG)
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://")
if _EMAIL["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":  # links visible at a glance
    _EMAIL["EMAIL_BACKEND"] = f"studio.core.mail.{'Console' if ALLOW_CONSOLE_EMAIL else 'Unconfigured'}EmailBackend"
vars().update(_EMAIL)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Avatar Studio <studio@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where the contact form's messages go (replies go to the customer); the sender's address by default.
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default=config.address_of(DEFAULT_FROM_EMAIL))

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
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )},
}

# With a bucket configured, media goes to S3-compatible private storage served by signed URLs.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = config.s3_storage(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=env("AWS_S3_ENDPOINT_URL", default=None),
        region_name=env("AWS_S3_REGION_NAME", default=None),
        expire=env.int("AWS_QUERYSTRING_EXPIRE", default=300),
    )

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

# X-Forwarded-* count only from TRUSTED_PROXIES (as gunicorn's FORWARDED_ALLOW_IPS); anyone
# else's are dropped (studio.core.net.ForwardedHeadersMiddleware).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
TRUSTED_PROXIES = config.networks(
    "TRUSTED_PROXIES", env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"] if BEHIND_PROXY else [])
)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The client address (rate limits, log-in throttling) is this many hops from X-Forwarded-For's right.
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
    "support": env("RATE_LIMIT_SUPPORT", default="5/h"),
    "invite": env("RATE_LIMIT_INVITE", default="30/h"),  # invitations and reminders sent, joins tried
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
# With no ASTRIA_API_KEY the studio talks to the local sandbox (`python -m astria_sandbox`); with
# DEBUG off that takes ALLOW_ASTRIA_SANDBOX, otherwise the client refuses every call.
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
# Touch-ups by instruction run on a partner edit model's gallery tune (Gemini, "Nano Banana Pro",
# the id Astria's own CLI falls back to); 0 switches touch-ups off.
ASTRIA_EDIT_TUNE_ID = env.int("ASTRIA_EDIT_TUNE_ID", default=3618064)
# Every gallery tune the studio uses, by branch (the local sandbox is seeded with them).
ASTRIA_GALLERY_TUNES = {**ASTRIA_BASE_TUNE_IDS, "partner-1": ASTRIA_EDIT_TUNE_ID}
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
# Caps enforced while the body streams in (studio.photos.uploads); cap it at the proxy too.
PHOTOS_MAX_FILE_BYTES = env.int("PHOTOS_MAX_FILE_BYTES", default=25 * 1024 * 1024)
PHOTOS_MAX_REQUEST_BYTES = env.int("PHOTOS_MAX_REQUEST_BYTES", default=200 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = PHOTOS_MAX_PER_AVATAR + 5  # past this Django answers 400
FILE_UPLOAD_HANDLERS = [
    "studio.photos.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Images: checked from the header before any decoding (request and worker), then normalised. PNG
# and WebP decode at full size, so they have a lower cap; pixels per byte: camera photos 3 to 30,
# a 1-bit "pixel flood" PNG thousands.
PHOTOS_MAX_PIXELS = env.int("PHOTOS_MAX_PIXELS", default=50_000_000)
PHOTOS_MAX_PIXELS_PNG_WEBP = env.int("PHOTOS_MAX_PIXELS_PNG_WEBP", default=25_000_000)
PHOTOS_MAX_PIXELS_PER_BYTE = env.int("PHOTOS_MAX_PIXELS_PER_BYTE", default=200)
PHOTOS_MIN_SIDE = 512
PHOTOS_MAX_ASPECT_RATIO = 3.0
PHOTOS_LONG_SIDE = 2048  # "about": JPEG draft decoding may stop a little short (4032 -> 2016)
PHOTOS_JPEG_QUALITY = 90
PHOTOS_THUMBNAIL_SIZE = 400
PHOTOS_THUMBNAIL_QUALITY = 80
# The coach: sharpness is the Laplacian variance at 512 px, brightness the mean grey level (0-255),
# face size a fraction of the shorter side, no main face when a second is `dominant_face_ratio` of
# the largest's width, pets' near-duplicates differ in at most this many dHash bits.
PHOTOS_COACH = {"sharpness_refuse": 12.0, "sharpness_warn": 40.0, "dark_refuse": 30.0, "dark_warn": 60.0,
                "bright_warn": 210.0, "bright_refuse": 235.0, "face_min_fraction": 0.08, "dominant_face_ratio": 0.8,
                "duplicate_max_distance": 4}
# The set of a person's photos: what these mean is in studio.photos.judgement.SetLimits.
PHOTOS_SAME_PERSON_MAX_DISTANCE = env.float("PHOTOS_SAME_PERSON_MAX_DISTANCE", default=0.6)
PHOTOS_SAME_SHOT = {"max_distance": 0.35, "min_similarity": 0.93}
PHOTOS_VARIETY = {"pose": 0.12, "look": 0.3, "background": 30.0, "light": 20.0, "low": 0.35}
LIKENESS_GUARANTEE = env.bool("LIKENESS_GUARANTEE", default=True)  # studio/avatars/likeness.py: what these mean
LIKENESS_REDO_SHARE = env.float("LIKENESS_REDO_SHARE", default=0.5)
# Processing that never reported back (lost enqueue, killed worker) is retried, then given up.
PHOTOS_PROCESSING_MAX_ATTEMPTS = 3
PHOTOS_PROCESSING_RETRY_AFTER = 120  # seconds
PHOTOS_PROCESSING_GIVE_UP_AFTER = 900  # seconds
# Photos one user may have waiting for the images worker at once: the queue is shared by everyone.
PHOTOS_MAX_PROCESSING = env.int("PHOTOS_MAX_PROCESSING", default=20)

# --- Themes and fair use --------------------------------------------------------------------
# Astria's fair use: on average 14 prompts per fine-tune, 8 images each; 7 system prompts.
FAIR_USE_MAX_THEME_PROMPTS = env.int("FAIR_USE_MAX_THEME_PROMPTS", default=7)
FAIR_USE_MAX_CUSTOM_PROMPTS = env.int("FAIR_USE_MAX_CUSTOM_PROMPTS", default=7)
FAIR_USE_MAX_PROMPTS = env.int("FAIR_USE_MAX_PROMPTS", default=14)
IMAGES_PER_PROMPT = env.int("IMAGES_PER_PROMPT", default=8)
# The prompt builder (studio/themes/prompting.py). Forbidden words: the list is
# studio/themes/data/forbidden_words.txt (which says how words match); THEMES_FORBIDDEN_WORDS replaces it.
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
# An avatar costs the tune plus one price per prompt ("generate more": the prompts); refunds alike.
CREDITS_SIGNUP_GRANT = env.int("CREDITS_SIGNUP_GRANT", default=8)
CREDITS_PRICE_TUNE = env.int("CREDITS_PRICE_TUNE", default=2)
CREDITS_PRICE_PROMPT = env.int("CREDITS_PRICE_PROMPT", default=1)
# The edit studio's paid edits of a delivered image (studio/avatars/edits.py); profile pictures are free.
CREDITS_PRICE_EDIT_MORE = env.int("CREDITS_PRICE_EDIT_MORE", default=1)
CREDITS_PRICE_EDIT_BIGGER = env.int("CREDITS_PRICE_EDIT_BIGGER", default=1)
CREDITS_PRICE_EDIT_EXTEND = env.int("CREDITS_PRICE_EDIT_EXTEND", default=1)
CREDITS_PRICE_EDIT_TOUCHUP = env.int("CREDITS_PRICE_EDIT_TOUCHUP", default=1)
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

# --- Avatar pipeline -----------------------------------------------------------------------
# Hosts result images may be downloaded from (besides the configured API host).
ASTRIA_IMAGE_HOSTS = env.list(
    "ASTRIA_IMAGE_HOSTS",
    default=["sdbooth2-production.s3.amazonaws.com", "cdn.astria.ai", "api.astria.ai", "www.astria.ai"],
)
# Result images come over https, port 443, from public addresses only; the local sandbox too,
# where it is allowed (studio/avatars/result_images.py).
RESULT_IMAGE_MAX_BYTES = 25 * 1024 * 1024
RESULT_MAX_PIXELS = 50_000_000
RESULT_LONG_SIDE = 4096
RESULT_DOWNLOAD_TIMEOUT = (5, 60)
RESULT_JPEG_QUALITY = 92
RESULT_THUMB_SIZE = 640  # a gallery column on a 3x phone (195 css px, 585 px) still uses the thumbnail
CALLBACK_MAX_BYTES = 256 * 1024
# Giving up on a submit (studio/avatars/submission.py); the reconciler's timings (schedule.py).
AVATAR_SUBMIT_MAX_CRASHES = 3
AVATAR_SUBMIT_GIVE_UP_AFTER = env.int("AVATAR_SUBMIT_GIVE_UP_AFTER", default=3600)
AVATAR_SUBMIT_LEASE = env.int("AVATAR_SUBMIT_LEASE", default=180)
RECONCILE_INTERVAL = env.int("RECONCILE_INTERVAL", default=60)
RECONCILE_POLL_INTERVAL = env.int("RECONCILE_POLL_INTERVAL", default=60)
RECONCILE_QUEUED_GRACE = env.int("RECONCILE_QUEUED_GRACE", default=120)
RECONCILE_PROMPT_POLL_AFTER = env.int("RECONCILE_PROMPT_POLL_AFTER", default=120)
CELERY_BEAT_SCHEDULE = beat.schedule(reconcile_interval=RECONCILE_INTERVAL)  # every periodic task
AVATAR_GIVE_UP_AFTER = env.int("AVATAR_GIVE_UP_AFTER", default=3 * 3600)
PROMPT_GIVE_UP_AFTER = env.int("PROMPT_GIVE_UP_AFTER", default=3 * 3600)
PHOTOS_RETENTION_DAYS = env.int("PHOTOS_RETENTION_DAYS", default=7)
DRAFT_RETENTION_DAYS = env.int("DRAFT_RETENTION_DAYS", default=30)
EXPORT_KEEP_HOURS = 24
# Drafts one user may hold at once (each keeps its photos until it is ordered or deleted).
AVATAR_MAX_DRAFTS = env.int("AVATAR_MAX_DRAFTS", default=5)
# Media files no row points to are removed once this old, so a file being written is never touched.
MEDIA_SWEEP_GRACE_HOURS = env.int("MEDIA_SWEEP_GRACE_HOURS", default=24)

# --- Teams ----------------------------------------------------------------------------------------
# Organisations: invitations stay open this many days (a link: as its admin chooses, up to 90),
# a link admits at most this many people, and a member is reminded at most once per this many hours.
TEAMS_INVITE_DAYS = env.int("TEAMS_INVITE_DAYS", default=14)
TEAMS_LINK_MAX_USES = env.int("TEAMS_LINK_MAX_USES", default=500)
TEAMS_REMINDER_HOURS = env.int("TEAMS_REMINDER_HOURS", default=24)

# --- Operator dashboard ------------------------------------------------------------------------
# What Astria charges in USD per branch, for "Astria spend" (studio/dashboard/rollups.py): Astria's
# list prices; a branch missing is shown as "no price set".
ASTRIA_COST_PER_TUNE = config.usd_by_branch(
    "ASTRIA_COST_PER_TUNE", env("ASTRIA_COST_PER_TUNE", default=""),
    {"fast": "0", "sd15": "1.50", "sdxl1": "1.50", "flux1": "1.50"},
)
ASTRIA_COST_PER_PROMPT = config.usd_by_branch(
    "ASTRIA_COST_PER_PROMPT", env("ASTRIA_COST_PER_PROMPT", default=""),
    {"fast": "0", "sd15": "0.10", "sdxl1": "0.10", "flux1": "0.10"},
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
LOGGING = config.logging_config(level=LOG_LEVEL, format=LOG_FORMAT, loggers=["django", "django.server"], quiet=DEBUG)
