"""The organisation's credits: a pool on the same ledger, bought through the same checkout, spent
only when a member confirms, refunded to the pool exactly once, and one paid avatar per member."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_delete
from studio.avatars import services as avatar_services
from studio.avatars.models import Avatar, AvatarState, PromptState
from studio.core.exceptions import ApplicationError, InsufficientCredits
from studio.credits import purchases
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_balance, credit_pool_balance, wallets_out_of_balance
from studio.credits.services import credit_grant, credit_spend
from studio.dashboard.figures import dashboard_get
from studio.teams import services
from studio.teams.models import Membership
from tests.avatars.factories import GeneratedImageFactory

pytestmark = pytest.mark.django_db

MEMBER_COST = 2 + 2 * 1  # training and the team's two styles


def pool(team) -> int:
    return credit_pool_balance(pool=team.pool)


def test_credits_for_the_team_are_bought_through_the_same_checkout_and_land_in_its_pool(team, owner, settings):
    settings.STRIPE_SECRET_KEY = ""
    before = pool(team)

    url = purchases.purchase_start(user=owner, pack_slug="starter", pool=team.pool)
    purchase = owner.credit_purchases.get()
    assert url.endswith(f"/credits/checkout/{purchase.pk}/")
    purchases.purchase_pay_test(user=owner, purchase_id=purchase.pk)
    purchases.purchase_pay_test(user=owner, purchase_id=purchase.pk)  # a second click grants nothing more

    assert pool(team) == before + purchase.credits
    assert credit_balance(user=owner) == 0  # the buyer's own credits did not move
    entry = CreditEntry.objects.get(key=purchase.ledger_key)
    assert (entry.pool_id, entry.user_id, entry.kind) == (team.pool_id, None, EntryKind.PURCHASE)
    assert not wallets_out_of_balance().exists()


def test_joining_and_starting_spend_nothing_confirming_spends_from_the_pool_once(team, member_draft):
    before = pool(team)
    user, _, avatar = member_draft()
    assert pool(team) == before  # invited, joined, started: nothing taken yet

    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)  # a double click

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.QUEUED
    assert pool(team) == before - MEMBER_COST
    assert credit_balance(user=user) == 0
    spend = CreditEntry.objects.get(kind=EntryKind.SPEND)
    assert (spend.pool_id, spend.user_id, spend.reference) == (team.pool_id, None, f"avatar:{avatar.pk}")
    assert not wallets_out_of_balance().exists()


def test_a_member_only_orders_the_teams_styles_with_the_house_style(team, member_draft):
    user, _, avatar = member_draft()

    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    prompts = list(avatar.prompts.all())
    assert sorted(prompt.theme_slug for prompt in prompts) == ["corporate-headshot", "golden-hour"]
    assert all(prompt.text.endswith(", plain light grey studio background") for prompt in prompts)


def test_a_pool_without_enough_credits_refuses_and_takes_nothing(team, member_draft, owner):
    user, _, avatar = member_draft()
    spend_all = pool(team) - MEMBER_COST + 1
    credit_spend(user=owner, pool=team.pool, amount=spend_all, key="test:drain", reason="Drain")

    with pytest.raises(InsufficientCredits):
        avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    avatar.refresh_from_db()
    assert avatar.state == AvatarState.DRAFT and pool(team) == MEMBER_COST - 1


def test_a_failed_team_avatar_is_refunded_to_the_pool_exactly_once(team, member_draft):
    user, _, avatar = member_draft()
    before = pool(team)
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    avatar_services.avatar_fail(avatar_id=avatar.pk, reason="Astria said no")
    avatar_services.avatar_fail(avatar_id=avatar.pk, reason="Astria said no")  # a replay

    assert pool(team) == before
    assert credit_balance(user=user) == 0
    refund = CreditEntry.objects.get(kind=EntryKind.REFUND)
    assert (refund.pool_id, refund.amount, refund.reference) == (team.pool_id, MEMBER_COST, f"avatar:{avatar.pk}")


def test_a_failed_style_goes_back_to_the_pool_and_the_members_own_extras_to_the_member(team, member_draft, fund):
    user, _, avatar = member_draft()
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    first = avatar.prompts.order_by("position").first()
    after_order = pool(team)

    avatar_services.prompt_fail(prompt_id=first.pk, reason="failed at Astria")
    assert pool(team) == after_order + 1

    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE)
    avatar.prompts.update(state=PromptState.DONE)
    fund(user, 5)
    avatar_services.avatar_generate_more(user=user, avatar_id=avatar.pk, theme_slugs=["watercolour"], custom_texts=[])
    assert credit_balance(user=user) == 4  # "generate more" is the member's own
    more = avatar.prompts.get(batch=1)
    avatar_services.prompt_fail(prompt_id=more.pk, reason="failed at Astria")

    assert credit_balance(user=user) == 5 and pool(team) == after_order + 1
    assert not wallets_out_of_balance().exists()


def test_supports_refund_of_a_finished_team_avatar_goes_to_the_pool(team, member_draft, staff):
    user, _, avatar = member_draft()
    before = pool(team)
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE)

    refunded = avatar_services.avatar_refund_by_staff(avatar_id=avatar.pk, staff_user=staff)
    again = avatar_services.avatar_refund_by_staff(avatar_id=avatar.pk, staff_user=staff)

    assert (refunded, again) == (MEMBER_COST, 0)
    assert pool(team) == before and credit_balance(user=user) == 0


def test_a_member_gets_one_paid_avatar_even_after_deleting_it(team, member_draft):
    user, _, avatar = member_draft()
    again = services.team_avatar_start(user=user, organisation_id=team.pk, name="Ada 2", subject_class="woman")
    assert again.pk == avatar.pk  # a second start (double click, another tab) is the same avatar
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    avatar_services.avatar_delete(user=user, avatar_id=avatar.pk)
    with pytest.raises(ApplicationError, match="already paid"):
        services.team_avatar_start(user=user, organisation_id=team.pk, name="Ada", subject_class="woman")
    assert Avatar.objects.filter(user=user).count() == 0


def test_a_draft_deleted_before_ordering_can_be_started_again(team, member_draft):
    user, _, avatar = member_draft()
    avatar_services.avatar_delete(user=user, avatar_id=avatar.pk)

    fresh = services.team_avatar_start(user=user, organisation_id=team.pk, name="Ada", subject_class="woman")

    assert fresh.pk != avatar.pk and fresh.pool_id == team.pool_id


def test_a_removed_member_loses_the_pool_and_keeps_their_avatar(team, member_draft, owner, fund):
    user, membership, avatar = member_draft()
    before = pool(team)

    assert services.member_remove(organisation=team, membership_id=membership.pk, by=owner)

    avatar.refresh_from_db()
    assert avatar.pool_id is None and avatar.user_id == user.pk
    assert Membership.objects.get(pk=membership.pk).state == Membership.State.REMOVED
    with pytest.raises(InsufficientCredits):  # now it is theirs to pay for
        avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    fund(user, 10)
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    assert pool(team) == before and credit_balance(user=user) == 10 - MEMBER_COST


def test_an_ordered_avatar_keeps_its_refunds_going_to_the_pool_after_its_member_leaves(team, member_draft, owner):
    user, membership, avatar = member_draft()
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    after_order = pool(team)
    services.member_remove(organisation=team, membership_id=membership.pk, by=owner)

    avatar_services.avatar_fail(avatar_id=avatar.pk, reason="Astria said no")

    assert pool(team) == after_order + MEMBER_COST and credit_balance(user=user) == 0


def test_the_last_owner_cannot_be_removed(team, owner):
    own = team.memberships.get(user=owner)
    with pytest.raises(ApplicationError, match="needs an owner"):
        services.member_remove(organisation=team, membership_id=own.pk, by=owner)


def test_deleting_the_team_refunds_nothing_and_deletes_nothing_of_the_members(team, member_draft, owner):
    done_user, _, done = member_draft("grace@acme.test", name="Grace")
    avatar_services.avatar_confirm(user=done_user, avatar_id=done.pk, consent=True)
    Avatar.objects.filter(pk=done.pk).update(state=AvatarState.DONE)
    GeneratedImageFactory(prompt=done.prompts.first(), avatar=done, index=0, is_favourite=True)
    draft_user, _, draft = member_draft()
    entries, left = CreditEntry.objects.count(), pool(team)

    services.organisation_delete(organisation=team, by=owner)

    assert CreditEntry.objects.count() == entries and pool(team) == left  # the pool's lines and balance stay
    assert credit_balance(user=done_user) == credit_balance(user=draft_user) == 0
    assert Avatar.objects.get(pk=done.pk).images.count() == 1
    assert Avatar.objects.get(pk=draft.pk).pool_id is None  # no longer paid by anyone but its owner
    assert not Membership.objects.exists()


def test_the_ledger_still_refuses_a_key_reused_for_another_payer(team, owner):
    credit_grant(user=owner, amount=3, key="test:same-key", reason="Own")
    with pytest.raises(ValueError, match="cannot be reused"):
        credit_grant(user=owner, pool=team.pool, amount=3, key="test:same-key", reason="Pool")


def test_a_pool_paid_avatar_is_named_in_the_pools_lines_until_it_is_deleted(team, member_draft):
    user, _, avatar = member_draft(name="Ada Lovelace")
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    assert "Ada Lovelace" in CreditEntry.objects.get(kind=EntryKind.SPEND).reason

    avatar_services.avatar_delete(user=user, avatar_id=avatar.pk)

    assert "Ada Lovelace" not in CreditEntry.objects.get(kind=EntryKind.SPEND).reason


def test_another_users_pool_cannot_be_spent_by_naming_it(team, member_draft):
    """Only the member's own team avatar carries the pool: any other avatar of theirs is their own."""
    user, _, _ = member_draft()
    other = avatar_services.avatar_create(user=user, name="Me again", subject_class="woman")
    assert other.pool_id is None


def test_the_dashboard_counts_teams_members_and_pool_credits(team, member_draft, staff):
    user, _, avatar = member_draft()
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    avatar_services.avatar_fail(avatar_id=avatar.pk, reason="Astria said no")

    figures = dashboard_get(days=7, today=timezone.localdate()).teams

    assert figures == {"created": 1, "members": 1, "sold": 0, "spent": MEMBER_COST, "refunded": MEMBER_COST}
    page = Client()
    page.force_login(staff)
    assert b"Pool credits spent" in page.get(reverse("dashboard:index")).content


def test_a_closed_account_leaves_its_teams_and_the_pool_keeps_its_lines(team, member_draft):
    user, _, avatar = member_draft()
    avatar_services.avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    left = pool(team)

    user_delete(user=user)

    assert not Membership.objects.filter(user=user).exists()
    assert pool(team) == left and CreditEntry.objects.filter(pool=team.pool, kind=EntryKind.SPEND).count() == 1
