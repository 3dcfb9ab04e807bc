import pytest
from django.urls import reverse

from studio.core import selectors

pytestmark = pytest.mark.django_db


def test_healthz_reports_up_when_database_and_broker_answer(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "broker": "up"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    from studio.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.broker_url = original

    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "up"


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(selectors, "connection", _BrokenConnection())

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["database"] == "down"


class _BrokenConnection:
    def cursor(self):
        from django.db.utils import OperationalError

        raise OperationalError("connection refused")
