from django.urls import path

from studio.themes import views

app_name = "themes"

urlpatterns = [
    path("avatars/<uuid:avatar_id>/styles/", views.styles, name="styles"),
    path(
        "avatars/<uuid:avatar_id>/styles/themes/<slug:slug>/choose/", views.theme_choose, name="theme_choose"
    ),
    path(
        "avatars/<uuid:avatar_id>/styles/themes/<slug:slug>/remove/", views.theme_remove, name="theme_remove"
    ),
    path("avatars/<uuid:avatar_id>/styles/prompts/", views.custom_prompt_add, name="custom_add"),
    path(
        "avatars/<uuid:avatar_id>/styles/prompts/preview/", views.custom_prompt_preview, name="custom_preview"
    ),
    path(
        "avatars/<uuid:avatar_id>/styles/prompts/<int:prompt_id>/remove/",
        views.custom_prompt_remove,
        name="custom_remove",
    ),
    path("prompts/search/", views.prompt_search, name="prompt_search"),
]
