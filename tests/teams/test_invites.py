"""Invitations: by email for one address, by link within its limits; neither can be guessed,
replayed past its limits, or used from another organisation's domain."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from studio.teams import services
from studio.teams.models import Invite, Membership
from studio.teams.services import InviteRefused
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def link(team, owner, **limits) -> str:
    invite = services.invite_link_create(
        organisation=team, created_by=owner, max_uses=limits.pop("max_uses", 5), days=limits.pop("days", 7), **limits
    )
    return services.invite_token(invite)


def test_an_emailed_invitation_admits_its_address_once_with_one_click(team, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (invite,) = services.invite_by_email(organisation=team, created_by=owner, emails=["Ada@Acme.test"])
    (message,) = mail.outbox
    assert message.to == ["ada@acme.test"] and "Acme" in message.subject
    token = services.invite_token(invite)
    assert f"/teams/join/{token}/" in message.body

    ada = UserFactory(email="ada@acme.test")
    membership = services.invite_accept(user=ada, token=token)
    assert membership.organisation_id == team.pk and membership.role == Membership.Role.MEMBER

    # The same link forwarded to a colleague admits nobody else.
    with pytest.raises(InviteRefused, match=r"for ada@acme\.test"):
        services.invite_accept(user=UserFactory(email="bob@acme.test"), token=token)
    assert services.invite_accept(user=ada, token=token).pk == membership.pk  # a second click changes nothing
    assert Invite.objects.get(pk=invite.pk).uses == 1


def test_inviting_the_same_address_twice_sends_one_invitation(team, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_by_email(organisation=team, created_by=owner, emails=["ada@acme.test"])
        again = services.invite_by_email(
            organisation=team, created_by=owner, emails=["ada@acme.test", "owner@acme.test"]
        )
    assert again == [] and len(mail.outbox) == 1


def test_a_link_admits_as_many_people_as_it_allows_and_no_more(team, owner):
    token = link(team, owner, max_uses=2)
    services.invite_accept(user=UserFactory(), token=token)
    services.invite_accept(user=UserFactory(), token=token)

    with pytest.raises(InviteRefused, match="used as many times"):
        services.invite_accept(user=UserFactory(), token=token)
    assert team.memberships.count() == 3  # the owner and two


def test_a_link_with_a_domain_admits_only_that_domain(team, owner):
    token = link(team, owner, email_domain="@Acme.test")

    for email in ("eve@evil.test", "eve@acme.test.evil.test", "eve@sub.acme.test", "acme.test@evil.test"):
        with pytest.raises(InviteRefused, match=r"addresses at acme\.test"):
            services.invite_accept(user=UserFactory(email=email), token=token)
    assert services.invite_accept(user=UserFactory(email="ada@acme.test"), token=token)


def test_a_withdrawn_or_expired_link_admits_nobody(team, owner):
    withdrawn = link(team, owner)
    services.invite_revoke(organisation=team, invite_id=services.invite_find(token=withdrawn).pk)
    expired = link(team, owner)
    past = timezone.now() - timedelta(seconds=1)
    Invite.objects.filter(pk=services.invite_find(token=expired).pk).update(expires_at=past)

    with pytest.raises(InviteRefused, match="withdrawn"):
        services.invite_accept(user=UserFactory(), token=withdrawn)
    with pytest.raises(InviteRefused, match="expired"):
        services.invite_accept(user=UserFactory(), token=expired)


def test_tokens_cannot_be_guessed_or_forged(team, owner):
    token = link(team, owner)
    invite = services.invite_find(token=token)
    assert len(token) == 64 and invite is not None

    for forged in ("", token[:-1], token.upper(), invite.token_hash, invite.nonce, str(invite.pk), "x" * 5000):
        assert services.invite_find(token=forged) is None
        with pytest.raises(Invite.DoesNotExist):
            services.invite_accept(user=UserFactory(), token=forged)
    assert team.memberships.count() == 1


def test_a_link_of_one_team_does_not_admit_to_another(team, owner, catalogue):
    other = services.organisation_create(user=UserFactory(), name="Globex")
    token = link(team, owner)

    membership = services.invite_accept(user=UserFactory(), token=token)

    assert membership.organisation_id == team.pk and other.memberships.count() == 1


def test_a_removed_member_invited_back_is_a_member_again_with_their_draft_paid_by_the_team(
    team, owner, member_draft, join
):
    user, membership, avatar = member_draft()
    services.member_remove(organisation=team, membership_id=membership.pk, by=owner)
    avatar.refresh_from_db()
    assert avatar.pool_id is None

    again = join(user)

    avatar.refresh_from_db()
    assert again.pk == membership.pk and again.state == Membership.State.ACTIVE
    assert avatar.pool_id == team.pool_id
