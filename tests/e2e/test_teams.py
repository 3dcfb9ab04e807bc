"""Teams in a real browser: an admin starts a team, buys its credits and invites by link; two
colleagues join through the link, confirm (paid by the team), choose favourites; the admin
downloads the team zip. Training and painting are stood in for (the journey in test_journey.py
runs them for real): the avatars are finished as the images worker leaves them."""

import io
import zipfile

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from studio.avatars import tasks as avatar_tasks
from studio.avatars.models import Avatar, AvatarState, PromptState
from studio.credits.selectors import credit_balance, credit_pool_balance
from studio.teams.models import Organisation
from tests.avatars.factories import GeneratedImageFactory
from tests.factories import UserFactory
from tests.photos.factories import ready_photos

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def studio(settings, catalogue, monkeypatch):
    settings.STRIPE_SECRET_KEY = ""
    settings.IMAGES_PER_PROMPT = 2
    monkeypatch.setattr(avatar_tasks.avatar_submit, "delay", lambda *args: None)  # no Astria here


def finish(avatar: Avatar) -> None:
    """The avatar trained and painted: two images a style, as the images worker leaves them."""
    for prompt in avatar.prompts.all():
        for index in range(2):
            GeneratedImageFactory(prompt=prompt, avatar=avatar, index=index)
    avatar.prompts.update(state=PromptState.DONE)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE, finished_at=timezone.now())


def log_in_as(context, base_url: str, user) -> None:
    """The browser logged in as the user, without the form (the log-in form has tests of its own)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def member_joins_and_confirms(browser, base_url: str, link: str, user, name: str) -> Avatar:
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    log_in_as(context, base_url, user)
    page = context.new_page()
    page.goto(link)
    page.get_by_role("button", name="Join Acme").click()
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Start my portraits").click()
    page.wait_for_url("**/photos/")
    avatar = Avatar.objects.get(user=user)
    ready_photos(avatar, 4)  # as the images worker leaves accepted photos
    page.goto(f"/avatars/{avatar.pk}/confirm/")
    expect(page.get_by_text("paid by Acme")).to_be_visible()
    page.get_by_label(f"I am {name} in these photos").check()
    page.get_by_role("button", name="Confirm and start (4 credits)").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    finish(avatar)
    page.reload()
    page.locator(".favourite-form button").first.click()
    expect(page.locator(".favourite-form button[aria-pressed=true]")).to_have_count(1)
    context.close()
    return avatar


def test_an_admin_invites_by_link_two_colleagues_finish_and_the_admin_downloads_the_team_zip(
    page, browser, live_server, studio, screens
):
    admin = UserFactory(email="admin@acme.test")
    ada, grace = UserFactory(email="ada@acme.test"), UserFactory(email="grace@acme.test")
    log_in_as(page.context, live_server.url, admin)

    # The team, its look and its credits, bought through the usual checkout.
    page.goto("/teams/")
    page.get_by_label("Organisation name").fill("Acme")
    page.get_by_role("button", name="Create the team").click()
    expect(page.get_by_role("heading", name="Acme", exact=True)).to_be_visible()
    page.get_by_label("Styles per member").fill("2")
    page.get_by_role("button", name="Save the look").click()
    page.get_by_role("button", name="Buy 20 credits").click()
    page.get_by_role("button", name="Pay (test)").click()
    organisation = Organisation.objects.get()
    assert credit_pool_balance(pool=organisation.pool) == 20 and credit_balance(user=admin) == 0

    # A link for two people at acme.test.
    page.goto(f"/teams/{organisation.pk}/manage/")
    page.get_by_label("People it admits").fill("2")
    page.get_by_label("Only addresses at (optional)").fill("acme.test")
    page.get_by_role("button", name="Create a link").click()
    link = page.locator(".team-link input").first.input_value()
    assert "/teams/join/" in link

    for user, name in ((ada, "Ada"), (grace, "Grace")):
        member_joins_and_confirms(browser, live_server.url, link, user, name)
    assert credit_pool_balance(pool=organisation.pool) == 20 - 2 * 4
    assert credit_balance(user=ada) == credit_balance(user=grace) == 0

    # The admin sees both done with their favourites, and downloads the team zip.
    page.goto(f"/teams/{organisation.pk}/manage/")
    rows = page.locator(".team-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Done")).to_have_count(2)
    expect(page.locator(".team-favourites img")).to_have_count(2)
    screens("team-manage")
    page.get_by_role("button", name="Download everyone's favourites").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the team zip").click()
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        names = sorted(archive.namelist())
    assert names == ["ada/01-corporate-headshot.jpg", "grace/01-corporate-headshot.jpg", "team.csv"]
