from django.urls import path

from studio.themes import views

app_name = "themes"

# Mounted at avatars/<avatar_id>/styles/. The prompt library's search is in studio/urls.py.
urlpatterns = [
    path("", views.styles, name="styles"),
    path("themes/<slug:slug>/choose/", views.theme_choose, name="theme_choose"),
    path("themes/<slug:slug>/remove/", views.theme_remove, name="theme_remove"),
    path("prompts/", views.custom_prompt_add, name="custom_add"),
    path("prompts/preview/", views.custom_prompt_preview, name="custom_preview"),
    path("prompts/<int:prompt_id>/remove/", views.custom_prompt_remove, name="custom_remove"),
]
