from django.apps import AppConfig


class AstriaSandboxConfig(AppConfig):
    """Provides `manage.py astria_sandbox`; installed only when DEBUG is on (studio/settings.py)."""

    name = "astria_sandbox"
