from django.urls import path

from studio.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("staff/dashboard/", views.index, name="index"),
]
