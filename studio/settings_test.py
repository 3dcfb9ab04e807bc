"""The test overlay: the real settings plus what makes tests fast and isolated."""

import atexit
import os
import shutil
import tempfile

# A development .env (`make run` writes one saying DEBUG=1) must not make the tests' settings development's.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("LOG_FORMAT", "plain")
if "VAR_DIR" not in os.environ:  # a folder of this test process's own, gone when it ends
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="studio-test-")
    atexit.register(shutil.rmtree, os.environ["VAR_DIR"], ignore_errors=True)

from studio.settings import *  # noqa: F403
from studio.settings import DATABASES, REDIS_URL, STORAGES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run with DEBUG off (as pytest-django does) on the development stand-ins, so they name them.
ALLOW_TEST_CHECKOUT = ALLOW_ASTRIA_SANDBOX = True

# Tasks run inline unless a test starts a real worker; each pytest-xdist process gets its own
# queue so parallel runs sharing one Redis never take each other's messages.
CELERY_TASK_ALWAYS_EAGER = True
# The cache (rate limits above all) stays in each test process, so parallel runs never see each
# other's counters, whatever REDIS_URL says; Redis is still exercised as the broker.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_DEFAULT_QUEUE = f"studio-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
CELERY_TASK_ROUTES = {"studio.photos.tasks.*": {"queue": f"{CELERY_TASK_DEFAULT_QUEUE}-images"}}

# SQLite: a test database in a file rather than shared-cache memory, so the live server's threads
# (browser tests firing several requests at once) wait on each other's locks instead of failing
# with "database table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# Without REDIS_URL, a test's real worker is a thread of the test process, fed by the in-memory
# broker: polled every 0.1 s, each task starts within a tenth of a second.
if not REDIS_URL:
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT = None
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.1}
