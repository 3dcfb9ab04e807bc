from django.apps import AppConfig


def _unlock_after_password_reset(sender, request, user, **kwargs) -> None:
    from accounts import login_limits

    login_limits.login_unlock_after_password_reset(request, user=user)


def _welcome_after_confirmation(sender, request, email_address, **kwargs) -> None:
    from accounts import services

    services.user_email_confirmed(user_id=email_address.user_id)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed, password_reset

        password_reset.connect(_unlock_after_password_reset, dispatch_uid="accounts.unlock_after_password_reset")
        email_confirmed.connect(_welcome_after_confirmation, dispatch_uid="accounts.welcome_after_confirmation")
