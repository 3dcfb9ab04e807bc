from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def email_configuration(app_configs, **kwargs) -> list:
    if settings.EMAIL_BACKEND != "studio.core.mail.UnconfiguredEmailBackend":
        return []
    return [
        Error(
            "EMAIL_URL is not set (or names the console) and console email is not allowed: sign-up "
            "confirmations and password resets cannot be sent.",
            hint="Set EMAIL_URL (smtp+tls://user:pass@host:587). Only where nobody else reads the logs: "
            "ALLOW_CONSOLE_EMAIL=1 prints every email, reset links included, to the output.",
            id="core.E001",
        )
    ]
