"""Log records as JSON lines (or plain text in development), with secrets redacted."""

import logging

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


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
