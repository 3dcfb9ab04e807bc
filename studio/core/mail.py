"""The studio's emails: sending one from its template, and the backends of development (printed,
links gathered) and of a production without EMAIL_URL (refused, with the reason).

Printing the messages in production would put password-reset and confirmation links in the
logs; `manage.py check --deploy` reports the missing setting.
"""

import re
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from django.template.loader import render_to_string
from django.urls import reverse

LINK = re.compile(r"https?://\S+")
RULE = "─" * 72


def mail_send(*, to: list[str], subject: str, template: str, context: dict) -> None:
    """A plain-text email rendered from its template, which can also link to the contact page."""
    context = {**context, "support_url": settings.PUBLIC_URL + reverse("support:contact")}
    send_mail(subject=subject, message=render_to_string(template, context), from_email=None, recipient_list=to)


class UnconfiguredEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        if self.fail_silently:
            return 0
        raise ImproperlyConfigured(
            "Email is not configured: set EMAIL_URL (e.g. smtp+tls://user:pass@host:587), or "
            "ALLOW_CONSOLE_EMAIL=1 to print emails, links included, to the output."
        )


class ConsoleEmailBackend(DjangoConsoleBackend):
    """Development's email: each message printed as its reader would see it (no MIME headers),
    with its links repeated at the end, so a confirmation link is found at a glance.

    It writes to the process's own output (under a Celery worker too, whose print redirection
    would turn every message into a warning)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("stream", sys.__stdout__)
        super().__init__(*args, **kwargs)

    def write_message(self, message) -> None:
        body = message.body if isinstance(message.body, str) else str(message.body)
        links = LINK.findall(body)
        lines = [
            RULE,
            f"Email to {', '.join(message.to)}: {message.subject}",
            "",
            *body.strip().splitlines(),
            "",
            *(f"  ➜ {link}" for link in links),
            RULE,
        ]
        self.stream.write("\n".join(lines) + "\n")
