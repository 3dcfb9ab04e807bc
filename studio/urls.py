"""The site map: each app mounted at its own prefix. Every path here is a promise (bookmarks,
emails, the addresses Astria and Stripe were given), so a path never changes."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from studio.avatars import webhooks as avatar_webhooks
from studio.core import views as core_views
from studio.credits import webhooks as credit_webhooks
from studio.themes import views as theme_views

# The admin logs in through the site's log-in page, and so under its throttling (accounts/login_limits.py).
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),  # sign-up, log-in, email and password
    path("account/", include("accounts.urls")),  # the user's own account, and deleting it
    path("avatars/", include("studio.avatars.urls")),
    path("avatars/<uuid:avatar_id>/photos/", include("studio.photos.urls")),
    path("avatars/<uuid:avatar_id>/styles/", include("studio.themes.urls")),
    path("prompts/search/", theme_views.prompt_search, name="prompt_search"),  # the prompt library
    path("credits/", include("studio.credits.urls")),
    path("teams/", include("studio.teams.urls")),  # organisations: invitations, the pool, the team's portraits
    path("staff/dashboard/", include("studio.dashboard.urls")),
    path("", include("studio.support.urls")),  # privacy, terms, questions and the contact form
    path("admin/", admin.site.urls),
    # Called by the providers, not by browsers.
    path("stripe/webhook/", credit_webhooks.stripe_webhook, name="stripe_webhook"),
    path("astria/callbacks/<str:token>/", avatar_webhooks.astria_callback, name="astria_callback"),
    # The same without the slash: a redirect would lose Astria's POST (APPEND_SLASH cannot keep it).
    path("astria/callbacks/<str:token>", avatar_webhooks.astria_callback, name="astria_callback_unslashed"),
]

handler400 = "studio.core.views.bad_request"
