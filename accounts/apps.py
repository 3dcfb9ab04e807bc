from django.apps import AppConfig


def _unlock_after_password_reset(sender, request, user, **kwargs) -> None:
    from accounts import login_limits

    login_limits.login_unlock_after_password_reset(request, user=user)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.account.signals import password_reset

        password_reset.connect(_unlock_after_password_reset, dispatch_uid="accounts.unlock_after_password_reset")
