from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from accounts import services


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                services.user_signup_complete(user=user)
        return user
