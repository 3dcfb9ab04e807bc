from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The operator's dashboard: one staff-only page over credits, avatars and Astria."""

    name = "studio.dashboard"
    label = "dashboard"
