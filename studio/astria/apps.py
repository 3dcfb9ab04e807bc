from django.apps import AppConfig


class AstriaConfig(AppConfig):
    name = "studio.astria"
    label = "astria"
