from django.urls import path

from studio.dashboard import views

app_name = "dashboard"

# Mounted at staff/dashboard/.
urlpatterns = [
    path("", views.index, name="index"),
]
