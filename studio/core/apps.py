from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created

from studio.core.db import replan_stale_statements


class CoreConfig(AppConfig):
    name = "studio.core"
    label = "core"

    def ready(self) -> None:
        from studio.core import checks  # noqa: F401  (registers the configuration checks)

        create_local_folders()
        connection_created.connect(replan_stale_statements, dispatch_uid="studio.core.db")


def create_local_folders() -> None:
    """Make the local folders the settings point at, which SQLite, the filesystem broker, beat and
    WhiteNoise expect to exist, in every process that starts the studio (never on import)."""
    folders = [Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent, Path(settings.STATIC_ROOT)]
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        folders.append(Path(database["NAME"]).parent)
    if settings.CELERY_BROKER_URL == "filesystem://":
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        keys = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")
        folders += [Path(options[key]) for key in keys]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
