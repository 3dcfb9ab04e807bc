from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts import login_limits, services
from accounts.forms import SIGNUP_USER
from studio.core.net import client_ip


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Too many failed log-in attempts for this account. Please wait a while and try again, "
            "or reset your password."
        ),
    }

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                services.user_signup_complete(user=user)
                request.session[SIGNUP_USER] = user.pk
        return user

    def send_mail(self, template_prefix, email, context):
        # The studio's emails end with where to get help.
        context = {**context, "support_url": settings.PUBLIC_URL + reverse("support:contact")}
        super().send_mail(template_prefix, email, context)

    def get_client_ip(self, request):
        # The address our own rate limits use: X-Forwarded-For only as far as our proxies wrote it.
        return client_ip(request) or super().get_client_ip(request)

    def pre_authenticate(self, request, **credentials):
        login = credentials.get("email") or credentials.get("username") or ""
        if not login_limits.login_allowed(request, login=login):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        login = credentials.get("email") or credentials.get("username") or ""
        login_limits.login_failure_record(request, login=login)

    def login(self, request, user):
        super().login(request, user)
        login_limits.login_address_remember(request, user=user)
