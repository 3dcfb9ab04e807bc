"""The gallery's grid and the cards of "My avatars" are rendered once per version of what they show:
whatever changes them (a favourite, a new image, a failure) shows on the very next view, and the
forms in a kept grid still carry the visitor's own CSRF token."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from studio.avatars import exports, page_cache, progress, services
from studio.avatars.models import GalleryExport, GeneratedImage
from studio.credits.services import credit_grant
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


# --- Whole pages kept per version of what they show -------------------------------------------------


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _balance(html: str) -> str:
    return re.search(r'<span class="credit-balance-amount">(\d+)</span>', html).group(1)


@pytest.mark.parametrize("page", ["list", "gallery"])
def test_the_header_shows_a_new_balance_at_once_on_a_kept_page(page, user, user_client):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=2)
    url = reverse("avatars:list") if page == "list" else reverse("avatars:detail", args=[avatar.pk])
    before = int(_balance(_page(user_client, url)))
    _page(user_client, url)  # kept now

    credit_grant(user=user, amount=5, key="test:more", reason="More credits")

    assert int(_balance(_page(user_client, url))) == before + 5


def test_kept_pages_show_each_customer_only_their_own(user, other_user, user_client):
    mine = done_avatar(user=user, prompts=1, images_per_prompt=2, name="Mine")
    theirs = done_avatar(user=other_user, prompts=1, images_per_prompt=2, name="Theirs")
    other_client = Client()
    other_client.force_login(other_user)
    for client in (user_client, other_client):  # each page kept, in this process and in the cache
        _page(client, reverse("avatars:list"))
        _page(client, reverse("avatars:list"))

    my_list, their_list = _page(user_client, reverse("avatars:list")), _page(other_client, reverse("avatars:list"))

    assert "Mine" in my_list and "Theirs" not in my_list and user.email in my_list
    assert "Theirs" in their_list and "Mine" not in their_list and other_user.email in their_list
    assert user.email not in their_list
    _page(user_client, reverse("avatars:detail", args=[mine.pk]))
    assert other_client.get(reverse("avatars:detail", args=[mine.pk])).status_code == 404
    assert "Theirs" not in _page(user_client, reverse("avatars:list"))
    assert user_client.get(reverse("avatars:detail", args=[theirs.pk])).status_code == 404


def test_a_message_shows_once_on_a_kept_page(user, user_client):
    done_avatar(user=user, prompts=1, images_per_prompt=1, name="Keeper")
    gone = done_avatar(user=user, prompts=1, images_per_prompt=1, name="Leaving")
    url = reverse("avatars:list")
    _page(user_client, url)

    response = user_client.post(reverse("avatars:delete", args=[gone.pk]), {"confirm": "on"}, follow=True)

    assert "“Leaving” and everything in it were deleted." in response.content.decode()
    again = _page(user_client, url)
    assert "were deleted" not in again and "Leaving" not in again and "Keeper" in again


def test_staff_links_appear_on_a_kept_page_once_a_customer_is_staff(user, user_client):
    url = reverse("avatars:list")
    assert reverse("dashboard:index") not in _page(user_client, url)

    user.is_staff = True
    user.save(update_fields=["is_staff"])

    assert reverse("dashboard:index") in _page(user_client, url)


def test_a_new_zip_shows_at_once_on_a_kept_gallery(user, user_client, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=2)
    url = reverse("avatars:detail", args=[avatar.pk])
    assert "Preparing your zip" not in _page(user_client, url)

    with django_capture_on_commit_callbacks(execute=False):
        export = exports.export_create(user=user, avatar_id=avatar.pk, scope=GalleryExport.Scope.ALL)
    assert "Preparing your zip" in _page(user_client, url)

    exports.export_fail(export_id=str(export.pk))
    assert "We could not build that zip" in _page(user_client, url)


def test_log_out_works_from_a_page_kept_for_another_browser(user):
    first = Client(enforce_csrf_checks=True)
    first.force_login(user)
    _page(first, reverse("avatars:list"))  # renders and keeps the page

    second = Client(enforce_csrf_checks=True)  # another browser: its own CSRF secret
    second.force_login(user)
    html = _page(second, reverse("avatars:list"))
    form = html[html.index('action="' + reverse("account_logout")):]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    response = second.post(reverse("account_logout"), {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert second.get(reverse("avatars:list")).status_code == 302  # to the log-in page


def test_a_process_keeps_pages_within_its_budget_and_until_they_expire():
    recent = page_cache._Recent(budget=40)
    page = b"0123456789"
    later = time.time() + 60
    recent.put("expired", (time.time() - 1, page))
    assert recent.get("expired") is None
    recent.put("too big", (later, page * 2))
    for key in ("first", "second", "third", "fourth"):
        recent.put(key, (later, page))

    assert recent.get("too big") is None
    assert recent.get("first") == (later, page)  # served again: now the most recent
    recent.put("fifth", (later, page))
    assert recent.get("second") is None  # the least recently served went first
    assert all(recent.get(key) == (later, page) for key in ("first", "third", "fourth", "fifth"))
