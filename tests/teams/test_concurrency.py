"""Real threads against PostgreSQL: a member cannot get two paid avatars, a link admits no more
people than it allows, a pool pays for no more avatars than it holds credits for, and a team
handed to two admins at once has one owner."""

import pytest

from studio.avatars import tasks as avatar_tasks
from studio.avatars.models import Avatar, AvatarState
from studio.avatars.services import avatar_confirm
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_pool_balance, wallets_out_of_balance
from studio.credits.services import credit_spend
from studio.teams import roles, services
from studio.teams.services import InviteRefused
from tests.concurrency import run_together
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_simultaneous_starts_give_one_paid_avatar(team, join):
    ada = UserFactory()
    join(ada)

    results = run_together(
        lambda i: services.team_avatar_start(user=ada, organisation_id=team.pk, name="Ada", subject_class="woman")
    )

    assert all(isinstance(result, Avatar) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert Avatar.objects.filter(user=ada).count() == 1
    assert team.memberships.get(user=ada).avatar_id == results[0].pk


def test_a_link_for_three_admits_three_of_ten_at_once(team, owner):
    invite = services.invite_link_create(organisation=team, created_by=owner, max_uses=3, days=1)
    token = services.invite_token(invite)
    users = [UserFactory() for _ in range(10)]

    results = run_together(lambda i: services.invite_accept(user=users[i], token=token))

    refused = [result for result in results if isinstance(result, InviteRefused)]
    assert len(refused) == 7, results
    assert team.memberships.count() == 1 + 3
    invite.refresh_from_db()
    assert invite.uses == 3


def test_a_pool_for_one_avatar_pays_for_one_of_five_confirming_at_once(team, member_draft, owner, monkeypatch):
    monkeypatch.setattr(avatar_tasks.avatar_submit, "delay", lambda *args: None)  # no Astria here
    members = [member_draft(f"m{i}@acme.test") for i in range(5)]
    cost = 2 + 2 * 1
    credit_spend(
        user=owner, pool=team.pool, amount=credit_pool_balance(pool=team.pool) - cost, key="test:drain", reason="Drain"
    )

    results = run_together(
        lambda i: avatar_confirm(user=members[i][0], avatar_id=members[i][2].pk, consent=True), count=5
    )

    paid = [result for result in results if isinstance(result, Avatar) and result.state != AvatarState.DRAFT]
    refused = [result for result in results if isinstance(result, InsufficientCredits)]
    assert (len(paid), len(refused)) == (1, 4), results
    assert credit_pool_balance(pool=team.pool) == 0
    spends = CreditEntry.objects.filter(pool=team.pool, kind=EntryKind.SPEND, reference__startswith="avatar:")
    assert spends.count() == 1
    assert not wallets_out_of_balance().exists()


def test_handing_ownership_to_two_admins_at_once_leaves_exactly_one_owner(team, owner, join):
    admins = [join(UserFactory()) for _ in range(2)]
    team.memberships.filter(pk__in=[admin.pk for admin in admins]).update(role="admin")

    results = run_together(
        lambda i: roles.ownership_transfer(organisation=team, membership_id=admins[i].pk, by=owner), count=2
    )

    assert sum(isinstance(result, ApplicationError) for result in results) == 1, results
    assert team.memberships.filter(role="owner").count() == 1
    assert team.memberships.get(user=owner).role == "admin"
