"""Emailed links are as good as a password: they never reach the logs."""

import logging

import pytest

from studio.core.logging import RedactSecrets
from studio.core.redaction import redact_text, redact_url

RESET_KEY = "1-cz9k3f-7d2a6e0b94c1f8a3e5d7"
CONFIRM_KEY = "MQ:1tZ9xQ:Hk3pX0oKqv2bB7eR1yW4u"


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (f"https://studio.example.com/accounts/password/reset/key/{RESET_KEY}/", RESET_KEY),
        (f'127.0.0.1 "GET /accounts/password/reset/key/{RESET_KEY}/ HTTP/1.1" 302 0 12ms', RESET_KEY),
        (f"https://studio.example.com/accounts/confirm-email/{CONFIRM_KEY}/", CONFIRM_KEY),
        (f'127.0.0.1 "POST /accounts/confirm-email/{CONFIRM_KEY}/ HTTP/1.1" 302 0 9ms', CONFIRM_KEY),
    ],
)
def test_password_reset_and_email_confirmation_keys_are_redacted_from_log_lines(line, key):
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%s", (line,), None)

    RedactSecrets().filter(record)

    assert key not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_redacted_links_still_say_which_page_was_meant():
    assert redact_url(f"https://studio.example.com/accounts/password/reset/key/{RESET_KEY}/") == (
        "https://studio.example.com/accounts/password/reset/key/[redacted]"
    )
    assert redact_text(f"Not Found: /accounts/confirm-email/{CONFIRM_KEY}/") == (
        "Not Found: /accounts/confirm-email/[redacted]/"
    )
    assert redact_text("GET /accounts/password/reset/ 200") == "GET /accounts/password/reset/ 200"
