import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("studio.celery_settings:CELERY", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect
@signals.beat_init.connect
def private_files(**kwargs) -> None:
    """Files the worker (and its children) and beat write (photos, results, exports, a SQLite
    database) are the owner's only."""
    os.umask(0o077)
