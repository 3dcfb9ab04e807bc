from django.apps import AppConfig


class AstriaConfig(AppConfig):
    name = "studio.astria"
    label = "astria"

    def ready(self) -> None:
        from studio.astria import checks  # noqa: F401  (registers the configuration check)
