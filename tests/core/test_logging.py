"""`make run` stays calm: routine requests are left out, errors and page loads are kept."""

import logging

import pytest

from studio.core import config
from studio.core.logging import LeaveOutRoutineRequests

AVATAR = "0f6c3f3e-8f0b-4b7e-9a53-2b1d2c3e4f50"


def server_line(request_line: str, status: int) -> logging.LogRecord:
    args = (request_line, str(status), "10")
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s', args, None)
    record.status_code = status
    return record


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /static/css/studio.css HTTP/1.1",
        f"GET /avatars/{AVATAR}/progress/?since=2026-12-07T07%3A00 HTTP/1.1",
        "GET /avatars/updates/?id=1 HTTP/1.1",
        f"GET /avatars/{AVATAR}/images/{AVATAR}/thumbnail/ HTTP/1.1",
        f"GET /avatars/{AVATAR}/photos/set/ HTTP/1.1",
        f"GET /avatars/{AVATAR}/photos/{AVATAR}/thumbnail.webp HTTP/1.1",
        f"GET /avatars/{AVATAR}/downloads/{AVATAR}/ HTTP/1.1",
    ],
)
def test_routine_requests_that_went_well_are_left_out(request_line):
    assert not LeaveOutRoutineRequests().filter(server_line(request_line, 200))
    assert LeaveOutRoutineRequests().filter(server_line(request_line, 404))  # trouble is always shown


@pytest.mark.parametrize(
    "request_line", ["GET / HTTP/1.1", f"GET /avatars/{AVATAR}/ HTTP/1.1", "POST /accounts/signup/ HTTP/1.1"]
)
def test_page_loads_and_posts_are_kept(request_line):
    assert LeaveOutRoutineRequests().filter(server_line(request_line, 200))


def test_only_development_leaves_lines_out():
    development = config.logging_config(level="INFO", format="plain", loggers=["django.server"], quiet=True)
    production = config.logging_config(level="INFO", format="json", loggers=["django.server"])

    assert development["loggers"]["django.server"]["filters"] == ["routine_requests"]
    assert development["loggers"]["celery.app.trace"]["level"] == "WARNING"
    assert "filters" not in production["loggers"]["django.server"]
    assert "celery.app.trace" not in production["loggers"]
    assert production["loggers"]["kombu.connection"]["level"] == "ERROR"  # "No hostname was supplied"
