from django.urls import path

from studio.avatars import edit_views, views

app_name = "avatars"

urlpatterns = [
    path("", views.avatar_list, name="list"),
    path("updates/", views.avatar_list_updates, name="list_updates"),
    path("new/", views.avatar_create, name="create"),
    path("<uuid:avatar_id>/", views.avatar_detail, name="detail"),
    path("<uuid:avatar_id>/progress/", views.avatar_progress, name="progress"),
    path("<uuid:avatar_id>/confirm/", views.avatar_confirm, name="confirm"),
    path("<uuid:avatar_id>/more/", views.avatar_generate_more, name="more"),
    path("<uuid:avatar_id>/delete/", views.avatar_delete, name="delete"),
    path("<uuid:avatar_id>/images/<uuid:image_id>/", views.image_file, name="image"),
    path("<uuid:avatar_id>/images/<uuid:image_id>/thumbnail/", views.image_thumbnail, name="thumbnail"),
    path("<uuid:avatar_id>/images/<uuid:image_id>/favourite/", views.image_favourite, name="favourite"),
    path("<uuid:avatar_id>/images/<uuid:image_id>/edit/", edit_views.image_edit, name="edit"),
    path("<uuid:avatar_id>/images/<uuid:image_id>/edit/more/", edit_views.image_edit_more, name="edit_more"),
    path("<uuid:avatar_id>/images/<uuid:image_id>/edit/extend/", edit_views.image_edit_extend, name="edit_extend"),
    path("<uuid:avatar_id>/images/<uuid:image_id>/edit/bigger/", edit_views.image_edit_bigger, name="edit_bigger"),
    path(
        "<uuid:avatar_id>/images/<uuid:image_id>/edit/touch-up/", edit_views.image_edit_touchup, name="edit_touchup"
    ),
    path(
        "<uuid:avatar_id>/images/<uuid:image_id>/edit/profile-picture/",
        edit_views.image_profile_picture,
        name="profile_picture",
    ),
    path("<uuid:avatar_id>/downloads/", views.export_create, name="export_create"),
    path("<uuid:avatar_id>/downloads/<uuid:export_id>/", views.export_detail, name="export"),
]
