from django.apps import AppConfig


class CoversConfig(AppConfig):
    """Provides `manage.py render_theme_covers`; installed only when DEBUG is on (studio/settings.py)."""

    name = "tools.covers"
