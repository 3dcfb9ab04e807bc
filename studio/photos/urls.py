from django.urls import path

from studio.photos import views

app_name = "photos"

urlpatterns = [
    path("avatars/<uuid:avatar_id>/photos/", views.photo_upload, name="upload"),
    path("avatars/<uuid:avatar_id>/photos/set/", views.photo_set, name="set"),
    path("avatars/<uuid:avatar_id>/photos/<uuid:photo_id>/delete/", views.photo_delete, name="delete"),
    path("avatars/<uuid:avatar_id>/photos/<uuid:photo_id>/photo.jpg", views.photo_image, name="image"),
    path(
        "avatars/<uuid:avatar_id>/photos/<uuid:photo_id>/thumbnail.webp",
        views.photo_thumbnail,
        name="thumbnail",
    ),
]
