from django.apps import AppConfig


class AvatarsConfig(AppConfig):
    name = "studio.avatars"
    label = "avatars"
