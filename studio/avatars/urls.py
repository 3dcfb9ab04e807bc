from django.urls import path

from studio.avatars import views

app_name = "avatars"

urlpatterns = [
    path("", views.avatar_list, name="list"),
    path("new/", views.avatar_create, name="create"),
    path("<uuid:avatar_id>/", views.avatar_detail, name="detail"),
    path("<uuid:avatar_id>/confirm/", views.avatar_confirm, name="confirm"),
]
