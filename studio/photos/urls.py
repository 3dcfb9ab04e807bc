from django.urls import path

from studio.photos import views

app_name = "photos"

# Mounted at avatars/<avatar_id>/photos/.
urlpatterns = [
    path("", views.photo_upload, name="upload"),
    path("set/", views.photo_set, name="set"),
    path("<uuid:photo_id>/delete/", views.photo_delete, name="delete"),
    path("<uuid:photo_id>/photo.jpg", views.photo_image, name="image"),
    path("<uuid:photo_id>/thumbnail.webp", views.photo_thumbnail, name="thumbnail"),
]
