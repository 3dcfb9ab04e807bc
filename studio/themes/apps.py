from django.apps import AppConfig


class ThemesConfig(AppConfig):
    name = "studio.themes"
    label = "themes"
