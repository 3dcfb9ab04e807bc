import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_landing_page_explains_and_invites_sign_up(client):
    response = client.get(reverse("landing"))

    assert response.status_code == 200
    assert b"How it works" in response.content
    assert reverse("account_signup").encode() in response.content


def test_base_template_carries_csrf_header_htmx_and_no_inline_code(user_client):
    response = user_client.get(reverse("avatars:list"))
    html = response.content.decode()

    assert 'hx-headers=\'{"x-csrftoken": "' in html
    assert "/static/django_htmx/htmx-2" in html
    assert 'id="toasts"' in html
    assert "Log out" in html
    assert "<script>" not in html and "<style" not in html and " style=" not in html


def test_dashboard_requires_login(client):
    response = client.get(reverse("avatars:list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_empty_dashboard_says_what_to_do_next(user_client):
    response = user_client.get(reverse("avatars:list"))

    assert b"No avatars yet" in response.content
    assert b"Create your first avatar" in response.content
