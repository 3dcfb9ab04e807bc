import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_landing_page_explains_and_invites_sign_up(client):
    response = client.get(reverse("landing"))

    assert response.status_code == 200
    assert b"How it works" in response.content
    assert reverse("account_signup").encode() in response.content


def test_landing_page_shows_styles_and_the_prices_from_settings(client, settings):
    settings.CREDITS_SIGNUP_GRANT = 10
    settings.CREDITS_PRICE_TUNE = 4
    settings.CREDITS_PRICE_PROMPT = 2

    html = client.get(reverse("landing")).content.decode()
    text = " ".join(html.split())

    assert "Styles to choose from" in html
    assert html.count('<img src="/static/themes/covers/') == 8
    assert " more, for people and pets" in text
    assert "Your first account gets <strong>10 free credits</strong>, enough for a first avatar with 3 styles" in text
    assert "Training your model costs 4 credits, and each style 2 credits for 8 portraits" in text
    assert "Packs of credits start at $6.00 for 20" in text


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


def test_landing_page_answers_head_requests(client):
    response = client.head(reverse("landing"))

    assert response.status_code == 200
    assert response.content == b""
