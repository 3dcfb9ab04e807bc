"""Log records as JSON lines (or plain text in development), with secrets redacted."""

import logging
import re

from pythonjsonlogger.json import JsonFormatter

_PATTERNS = [
    (re.compile(r"(/astria/callbacks/)[^/\s\"'?]+"), r"\1[redacted]"),
    (re.compile(r"(Bearer\s+)[^\s\"']+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"\bsd_[A-Za-z0-9_-]{6,}"), "sd_[redacted]"),
    (re.compile(r"\b(sk|whsec|rk)_(live|test)?_?[A-Za-z0-9]{8,}"), r"\1_[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Removes callback tokens and API keys from every record before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            cleaned += "\n" + redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info, record.exc_text = None, None
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if hasattr(record, "request"):  # Django's request loggers attach the request itself
            record.request = redact(str(record.request))
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
