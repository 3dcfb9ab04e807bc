"""The gallery's grid and the cards of "My avatars" are rendered once per version of what they show:
whatever changes them (a favourite, a new image, a failure) shows on the very next view, and the
forms in a kept grid still carry the visitor's own CSRF token."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from studio.avatars import progress, services
from studio.avatars.models import GeneratedImage
from tests.avatars.factories import done_avatar

pytestmark = pytest.mark.django_db


def _gallery(client, avatar) -> str:
    response = client.get(reverse("avatars:detail", args=[avatar.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_favourite_shows_at_once_in_a_gallery_already_seen(user, user_client, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=3)
    image = avatar.images.order_by("index")[1]
    before = _gallery(user_client, avatar)
    assert before.count('aria-pressed="true"') == 0

    with django_capture_on_commit_callbacks(execute=False):
        services.image_set_favourite(user=user, image_id=image.pk, favourite=True)

    after = _gallery(user_client, avatar)
    assert after.count('aria-pressed="true"') == 1
    tile = after[after.index(f'id="image-{image.pk}"'):]
    assert tile.index('aria-pressed="true"') < tile.index("</li>")
    assert "1 favourite" in after


def test_a_kept_gallery_costs_fewer_queries_and_shows_the_same(user, user_client, django_assert_max_num_queries):
    avatar = done_avatar(user=user, prompts=2, images_per_prompt=4)
    first = _gallery(user_client, avatar)
    with django_assert_max_num_queries(5):
        again = _gallery(user_client, avatar)

    def tiles(html: str) -> list[str]:
        return re.findall(r'id="image-([0-9a-f-]+)"', html)

    assert tiles(again) == tiles(first) and len(tiles(first)) == 8
    assert "8 images" in again


def test_new_images_appear_in_a_gallery_seen_while_they_were_generated(
    user_client, trained_with_seven_prompts, studio_on_sandbox, django_capture_on_commit_callbacks
):
    avatar = trained_with_seven_prompts(prompt_delay=0)
    before = _gallery(user_client, avatar)
    assert "image-tile placeholder" in before and 'class="lightbox-link"' not in before

    studio_on_sandbox.advance()
    with django_capture_on_commit_callbacks(execute=True):
        progress.avatar_sync_prompts(avatar_id=str(avatar.pk))

    after = _gallery(user_client, avatar)
    assert after.count('class="lightbox-link"') == 7 * 2
    assert "image-tile placeholder" not in after


def test_a_failure_shows_at_once_in_a_gallery_already_seen(user, user_client, trained_with_seven_prompts):
    avatar = trained_with_seven_prompts(prompt_delay=3600)
    assert "could not be generated" not in _gallery(user_client, avatar)

    services.avatar_fail(avatar_id=avatar.pk, reason="Training did not finish in time.")

    assert _gallery(user_client, avatar).count("This style could not be generated") == 7


def test_a_favourite_from_a_kept_gallery_works_in_a_new_session(user):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=2)
    first = Client(enforce_csrf_checks=True)
    first.force_login(user)
    _gallery(first, avatar)  # renders and keeps the grid

    second = Client(enforce_csrf_checks=True)  # another browser: its own CSRF secret
    second.force_login(user)
    html = _gallery(second, avatar)
    image = avatar.images.order_by("index").first()
    form = html[html.index(f'id="favourite-{image.pk}"'):]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    response = second.post(
        reverse("avatars:favourite", args=[avatar.pk, image.pk]), {"favourite": "1", "csrfmiddlewaretoken": token}
    )

    assert response.status_code in (200, 302)
    assert GeneratedImage.objects.get(pk=image.pk).is_favourite


def test_my_avatars_shows_a_new_favourite_as_the_cover_at_once(user, user_client, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=3)
    last = avatar.images.order_by("-created_at").first()
    url = reverse("avatars:list")
    assert f"/{last.pk}/" not in user_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=False):
        services.image_set_favourite(user=user, image_id=last.pk, favourite=True)

    cover = re.search(r'<a class="avatar-cover"[^>]*>\s*<img src="([^"]+)"', user_client.get(url).content.decode())
    assert str(last.pk) in cover.group(1)


def test_my_avatars_costs_the_same_queries_for_many_finished_avatars_as_for_one(
    user, user_client, django_assert_max_num_queries
):
    done_avatar(user=user, prompts=1, images_per_prompt=1)
    url = reverse("avatars:list")
    user_client.get(url)
    with django_assert_max_num_queries(4):  # the session, the user, the avatars, the credit balance
        user_client.get(url)
    for _ in range(5):
        done_avatar(user=user, prompts=1, images_per_prompt=1)
    user_client.get(url)
    with django_assert_max_num_queries(4):
        html = user_client.get(url).content.decode()
    assert html.count('class="avatar-card"') == 6
