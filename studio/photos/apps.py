from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "studio.photos"
    label = "photos"
