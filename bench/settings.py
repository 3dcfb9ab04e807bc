"""Settings for `make bench` and `make chaos` (DJANGO_SETTINGS_MODULE=bench.settings).

The studio's own settings, plus a bare view to compare pages against (bench/urls.py) and Celery
queues of their own, so a development worker sharing the same Redis never takes their messages.
Production never loads this module, so the bare view is never exposed there.
"""

from studio.settings import *  # noqa: F403
from studio.settings import env

ROOT_URLCONF = "bench.urls"

CELERY_TASK_DEFAULT_QUEUE = env("BENCH_QUEUE", default="bench")
CELERY_TASK_ROUTES = {"studio.photos.tasks.*": {"queue": f"{CELERY_TASK_DEFAULT_QUEUE}-images"}}
