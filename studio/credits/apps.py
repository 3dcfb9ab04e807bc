from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "studio.credits"
    label = "credits"

    def ready(self) -> None:
        from studio.credits import checks  # noqa: F401  (registers the configuration checks)
