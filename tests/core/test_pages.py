import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_landing_page_explains_and_invites_sign_up(client):
    response = client.get(reverse("landing"))

    assert response.status_code == 200
    assert b"How it works" in response.content
    assert reverse("account_signup").encode() in response.content


def test_landing_page_shows_styles_and_the_prices_from_settings(client, settings, catalogue):
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


def test_a_theme_cover_missing_from_the_manifest_shows_the_default_cover_and_the_page_stays_up(
    client, catalogue, manifest_static
):
    from django.contrib.staticfiles.storage import staticfiles_storage

    from studio.themes.models import Theme
    from studio.themes.selectors import theme_showcase

    shown = theme_showcase()[0][0]
    Theme.objects.filter(pk=shown.pk).update(cover="themes/covers/astronautt.webp")
    with pytest.raises(ValueError):  # what {% static %} would have done with the typo
        staticfiles_storage.url("themes/covers/astronautt.webp")

    response = client.get(reverse("landing"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('src="/static/themes/covers/_default.0123456789ab.webp"') == 1
    assert html.count('<img src="/static/themes/covers/') == 8


def test_landing_page_and_empty_dashboard_give_the_photo_counts_from_settings(client, user_client, settings):
    settings.PHOTOS_MIN_ACCEPTED, settings.PHOTOS_MAX_PER_AVATAR = 6, 15

    assert "Upload 6 to 15 photos" in client.get(reverse("landing")).content.decode()
    assert "uploading 6 to 15 clear photos" in user_client.get(reverse("avatars:list")).content.decode()


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
