from django.contrib import admin
from django.urls import include, path

from studio.avatars import webhooks as avatar_webhooks
from studio.core import views as core_views

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("avatars/", include("studio.avatars.urls")),
    path("", include("studio.photos.urls")),
    path("", include("studio.themes.urls")),
    path("", include("studio.credits.urls")),
    path("", include("studio.dashboard.urls")),
    path("astria/callbacks/<str:token>/", avatar_webhooks.astria_callback, name="astria_callback"),
    # The same without the slash: a redirect would lose Astria's POST (APPEND_SLASH cannot keep it).
    path("astria/callbacks/<str:token>", avatar_webhooks.astria_callback, name="astria_callback_unslashed"),
    path("admin/", admin.site.urls),
]

handler400 = "studio.core.views.bad_request"
