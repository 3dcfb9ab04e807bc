from django.apps import AppConfig


class SupportConfig(AppConfig):
    """What a customer reads before trusting the studio: privacy, terms, questions, and a way to
    reach the people behind it."""

    name = "studio.support"
    label = "support"
