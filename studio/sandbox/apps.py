from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "studio.sandbox"
    label = "sandbox"
