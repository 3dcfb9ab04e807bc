from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "studio.core"
    label = "core"

    def ready(self) -> None:
        from studio.core import checks  # noqa: F401  (registers the configuration checks)
