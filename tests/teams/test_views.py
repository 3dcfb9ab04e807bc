"""The teams' pages as members and admins use them: what each may open, and what they see."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from studio.avatars.models import Avatar, AvatarState, GeneratedImage
from studio.credits.models import CreditPurchase
from studio.credits.selectors import credit_pool_balance
from studio.teams import exports, services
from studio.teams.models import Membership, Organisation
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def finished(avatar: Avatar) -> tuple[GeneratedImage, GeneratedImage]:
    """The avatar done: one favourite, one portrait its owner did not choose."""
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE)
    prompt = PromptFactory(avatar=avatar, label="Corporate headshot")
    return (
        GeneratedImageFactory(prompt=prompt, avatar=avatar, index=0, is_favourite=True),
        GeneratedImageFactory(prompt=prompt, avatar=avatar, index=1),
    )


@pytest.fixture
def two_members(team, member_draft):
    ada, ada_membership, ada_avatar = member_draft("ada@acme.test", name="Ada")
    grace, grace_membership, grace_avatar = member_draft("grace@acme.test", name="Grace")
    return (ada, ada_membership, ada_avatar), (grace, grace_membership, grace_avatar)


def test_a_member_sees_none_of_another_members_things_nor_the_admin_pages(team, two_members):
    (ada, _, ada_avatar), (_, grace_membership, grace_avatar) = two_members
    favourite, _ = finished(grace_avatar)
    photo = grace_avatar.photos.first()
    ada_client = client_for(ada)
    export = exports.team_export_create(user=team.created_by, organisation=team)

    forbidden = [
        reverse("avatars:detail", args=[grace_avatar.pk]),
        reverse("avatars:image", args=[grace_avatar.pk, favourite.pk]),
        reverse("avatars:thumbnail", args=[grace_avatar.pk, favourite.pk]),
        reverse("photos:image", args=[grace_avatar.pk, photo.pk]),
        reverse("photos:upload", args=[grace_avatar.pk]),
        reverse("teams:manage", args=[team.pk]),
        reverse("teams:favourite", args=[team.pk, grace_membership.pk, favourite.pk]),
        reverse("teams:export", args=[team.pk, export.pk]),
        reverse("teams:delete", args=[team.pk]),
    ]
    for url in forbidden:
        assert ada_client.get(url).status_code == 404, url
    remove = reverse("teams:member_remove", args=[team.pk, grace_membership.pk])
    for url in (reverse("teams:remind", args=[team.pk]), remove):
        assert ada_client.post(url).status_code == 404, url
    assert Membership.objects.get(pk=grace_membership.pk).state == Membership.State.ACTIVE

    page = ada_client.get(reverse("teams:detail", args=[team.pk]))
    assert page.status_code == 200 and b"Grace" not in page.content and str(ada_avatar.pk).encode() in page.content


def test_the_admin_sees_favourites_only_never_training_photos(team, two_members, owner):
    (_, _, _), (_, grace_membership, grace_avatar) = two_members
    favourite, other = finished(grace_avatar)
    photo = grace_avatar.photos.first()
    admin = client_for(owner)

    page = admin.get(reverse("teams:manage", args=[team.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert str(favourite.pk) in body and str(other.pk) not in body and str(photo.pk) not in body
    assert "grace@acme.test" in body and "Uploading" in body and "Done" in body

    thumbnail = admin.get(reverse("teams:favourite", args=[team.pk, grace_membership.pk, favourite.pk]))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    for image_id in (other.pk, photo.pk):  # a portrait not chosen, a training photo's id
        url = reverse("teams:favourite", args=[team.pk, grace_membership.pk, image_id])
        assert admin.get(url).status_code == 404
    # The member's own pages stay theirs, admin or not.
    assert admin.get(reverse("avatars:detail", args=[grace_avatar.pk])).status_code == 404
    assert admin.get(reverse("photos:image", args=[grace_avatar.pk, photo.pk])).status_code == 404


def test_a_removed_member_no_longer_reaches_the_team(team, two_members, owner):
    (ada, ada_membership, ada_avatar), _ = two_members
    admin, member = client_for(owner), client_for(ada)

    response = admin.post(reverse("teams:member_remove", args=[team.pk, ada_membership.pk]))

    assert response.status_code == 302
    assert member.get(reverse("teams:detail", args=[team.pk])).status_code == 404
    assert member.get(reverse("photos:upload", args=[ada_avatar.pk])).status_code == 200  # still theirs


def test_joining_by_link_asks_a_visitor_to_log_in_and_a_user_to_click(team, owner):
    invite = services.invite_link_create(
        organisation=team, created_by=owner, max_uses=3, days=7, email_domain="acme.test"
    )
    url = reverse("teams:join", args=[services.invite_token(invite)])

    visitor = Client().get(url)
    assert visitor.status_code == 200 and b"Join Acme" in visitor.content
    assert f"/accounts/login/?next={url}".encode() in visitor.content.replace(b"%2F", b"/")

    outsider = client_for(UserFactory(email="eve@evil.test"))
    page = outsider.post(url)
    assert page.status_code == 422 and b"addresses at acme.test" in page.content
    assert not team.memberships.filter(user__email="eve@evil.test").exists()

    ada = UserFactory(email="ada@acme.test")
    joined = client_for(ada).post(url)
    assert joined.status_code == 302 and joined["Location"] == reverse("teams:detail", args=[team.pk])
    assert team.memberships.filter(user=ada).exists()


def test_a_guessed_join_link_is_a_404_and_guessing_is_slowed_down(team, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "invite": "3/h"}
    client = Client()
    answers = [client.get(reverse("teams:join", args=[f"guess{n}"])).status_code for n in range(5)]
    assert answers[:3] == [404, 404, 404] and answers[3:] == [429, 429]


def test_a_member_starts_their_portrait_then_uploads(team, join):
    ada = UserFactory(email="ada@acme.test")
    join(ada)
    client = client_for(ada)

    response = client.post(reverse("teams:detail", args=[team.pk]), {"name": "Ada", "subject_class": "woman"})

    avatar = Avatar.objects.get(user=ada)
    assert response.status_code == 302 and response["Location"] == reverse("photos:upload", args=[avatar.pk])
    assert avatar.pool_id == team.pool_id and avatar.chosen_themes.count() == 2
    styles = client.get(reverse("themes:styles", args=[avatar.pk]))
    assert b"Write your own" not in styles.content and b"Astronaut" not in styles.content
    assert b"Acme chose these styles" in styles.content


def test_the_confirm_page_says_the_team_pays(team, member_draft):
    ada, _, avatar = member_draft()
    page = client_for(ada).get(reverse("avatars:confirm", args=[avatar.pk]))
    assert b"paid by <strong>Acme</strong>" in page.content and b"Confirm and start (4 credits)" in page.content


def test_buying_for_the_team_opens_the_usual_checkout(team, owner, settings):
    settings.STRIPE_SECRET_KEY = ""
    admin = client_for(owner)
    before = credit_pool_balance(pool=team.pool)

    response = admin.post(reverse("teams:buy", args=[team.pk]), {"pack": "starter"})

    purchase = CreditPurchase.objects.get(user=owner)
    assert purchase.pool_id == team.pool_id
    assert response["Location"] == reverse("credits:checkout", args=[purchase.pk])
    paid = admin.post(response["Location"], {"pay": "1"}, follow=True)
    assert credit_pool_balance(pool=team.pool) == before + purchase.credits
    assert b"in the pool of\n        <strong>Acme</strong>" in paid.content
    assert reverse("teams:manage", args=[team.pk]).encode() in paid.content  # "Continue where you left off"


def test_deleting_shows_the_pools_credits_first_and_keeps_the_members_avatars(team, two_members, owner):
    (_, _, ada_avatar), _ = two_members
    admin = client_for(owner)

    page = admin.get(reverse("teams:delete", args=[team.pk]))
    assert b"pool has <strong>100 credits left</strong>. They are lost" in page.content

    admin.post(reverse("teams:delete", args=[team.pk]))
    assert not Organisation.objects.exists() and Avatar.objects.filter(pk=ada_avatar.pk).exists()


def test_only_an_owner_may_delete_the_team(team, owner, join):
    admin_user = UserFactory()
    membership = join(admin_user)
    Membership.objects.filter(pk=membership.pk).update(role=Membership.Role.ADMIN)
    client = client_for(admin_user)

    assert client.get(reverse("teams:manage", args=[team.pk])).status_code == 200
    assert client.post(reverse("teams:delete", args=[team.pk])).status_code == 404
    assert Organisation.objects.filter(pk=team.pk).exists()


def test_the_team_zip_is_built_and_downloaded(team, two_members, owner, django_capture_on_commit_callbacks):
    (_, _, ada_avatar), _ = two_members
    finished(ada_avatar)
    admin = client_for(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("teams:export_create", args=[team.pk]))
    page = admin.get(response["Location"])
    assert b"Download the team zip" in page.content
    download = admin.get(response["Location"] + "?download=1")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"


def test_a_newcomer_signs_up_from_an_invitation_and_comes_back_to_it(team, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (invite,) = services.invite_by_email(organisation=team, created_by=owner, emails=["new@acme.test"])
    join_url = reverse("teams:join", args=[services.invite_token(invite)])
    browser = Client()
    signup = reverse("account_signup") + f"?next={join_url}"
    password = "a-long-and-unusual-passphrase"

    browser.post(signup, {"email": "new@acme.test", "password1": password, "password2": password, "next": join_url})
    confirm = re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    landed = browser.get(confirm, follow=True)

    assert landed.redirect_chain[-1][0] == join_url
    joined = browser.post(join_url)
    assert joined["Location"] == reverse("teams:detail", args=[team.pk])
    assert team.memberships.filter(user__email="new@acme.test").exists()


def test_a_members_gallery_says_who_receives_the_favourites_until_they_leave(team, owner, member_draft):
    ada, membership, avatar = member_draft()
    finished(avatar)
    gallery = reverse("avatars:detail", args=[avatar.pk])
    says = b"Paid by Acme: it receives the portraits you mark as favourites, and only those."

    assert says in client_for(ada).get(gallery).content

    services.member_remove(organisation=team, membership_id=membership.pk, by=owner)

    assert says not in client_for(ada).get(gallery).content
