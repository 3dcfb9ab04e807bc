"""Log records as JSON lines (or plain text in development), with secrets redacted."""

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from studio.core.redaction import redact_text


class RedactSecrets(logging.Filter):
    """Removes callback tokens and API keys from every record before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if record.exc_info and record.exc_info[1] is not None:
            cleaned += "\n" + redact_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info, record.exc_text = None, None
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if hasattr(record, "request"):  # Django's request loggers attach the request itself
            record.request = redact_text(str(record.request))
        return True


# Requests development's server answers many times a minute: static files, private images and
# thumbnails, and the pages' pollers (gallery progress, "My avatars", the photo set, zips).
ROUTINE_REQUEST = re.compile(
    r"^(?:GET|HEAD) (?:/static/|/avatars/updates/|/avatars/[\w-]+/(?:progress|images|downloads)/"
    r"|/avatars/[\w-]+/photos/(?:set/|[\w-]+/(?:photo\.jpg|thumbnail\.webp)))"
)


class LeaveOutRoutineRequests(logging.Filter):
    """Leaves out the development server's line for a routine request that went well; page loads,
    form posts and every error are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) >= 400 or not record.args:
            return True
        return not ROUTINE_REQUEST.match(str(record.args[0]))


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
