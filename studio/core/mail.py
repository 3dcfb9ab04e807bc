"""The email backend of a production without EMAIL_URL: it refuses to send, with the reason.

Printing the messages instead (the development default) would put password-reset and
confirmation links in the logs; `manage.py check --deploy` reports the missing setting.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend


class UnconfiguredEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        if self.fail_silently:
            return 0
        raise ImproperlyConfigured(
            "Email is not configured: set EMAIL_URL (e.g. smtp+tls://user:pass@host:587), or "
            "ALLOW_CONSOLE_EMAIL=1 to print emails, links included, to the output."
        )
