from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from studio.avatars import webhooks as avatar_webhooks
from studio.core import views as core_views

# The admin logs in through the site's log-in page, and so under its throttling (accounts/login_limits.py).
admin.site.login = secure_admin_login(admin.site.login)

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
