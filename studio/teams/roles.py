"""Who runs an organisation: its name, making a member an admin (and back), handing ownership on,
and what happens to ownership when the owner's account closes.

Every organisation keeps at least one active owner: only an owner changes roles, nobody changes
their own, an owner is never demoted except by handing ownership on, and handing it on promotes
and demotes in one transaction under locks on the organisation and both memberships.
"""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from studio.core.exceptions import ApplicationError
from studio.credits.services import credit_pool_rename
from studio.teams.models import Membership, MembershipState, Organisation, Role

logger = logging.getLogger(__name__)


def organisation_clean_name(name: str) -> str:
    """The name as an organisation keeps it: spaces collapsed, at most 80 characters."""
    name = " ".join(name.split())
    if not name:
        raise ApplicationError("Give the organisation a name.")
    return name[:80]


@transaction.atomic
def organisation_rename(*, organisation: Organisation, name: str, by: User) -> Organisation:
    """A new name, for an owner or an admin (the view checks which), and for its pool."""
    name = organisation_clean_name(name)
    Organisation.objects.filter(pk=organisation.pk).update(name=name, updated_at=timezone.now())
    credit_pool_rename(pool_id=organisation.pool_id, name=name)
    organisation.refresh_from_db()
    logger.info("organisation %s renamed by user %s", organisation.pk, by.pk)
    return organisation


def _owner_locked(*, organisation: Organisation, by: User) -> Membership:
    """The acting user's own membership, locked, after the organisation's; refused unless an owner."""
    Organisation.objects.select_for_update().get(pk=organisation.pk)
    acting = (
        Membership.objects.select_for_update()
        .filter(organisation=organisation, user=by, state=MembershipState.ACTIVE, role=Role.OWNER)
        .first()
    )
    if acting is None:
        raise ApplicationError("Only the organisation's owner can change who runs it.")
    return acting


def _target_locked(*, organisation: Organisation, membership_id: int, acting: Membership) -> Membership:
    target = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership_id, organisation=organisation, state=MembershipState.ACTIVE)
        .first()
    )
    if target is None:
        raise Membership.DoesNotExist("No such member.")
    if target.pk == acting.pk:
        raise ApplicationError("You cannot change your own role.")
    return target


@transaction.atomic
def membership_set_role(*, organisation: Organisation, membership_id: int, role: str, by: User) -> bool:
    """Make a member an admin, or an admin a member; only an owner may, and never of an owner.
    True if the role changed (False if it already was that role)."""
    if role not in (Role.ADMIN, Role.MEMBER):
        raise ApplicationError("A person can be made an admin or a member.")
    acting = _owner_locked(organisation=organisation, by=by)
    target = _target_locked(organisation=organisation, membership_id=membership_id, acting=acting)
    if target.role == Role.OWNER:
        raise ApplicationError("An owner stays owner until they hand ownership to someone else.")
    expected = Role.MEMBER if role == Role.ADMIN else Role.ADMIN
    changed = Membership.objects.filter(
        pk=target.pk, state=MembershipState.ACTIVE, role=expected
    ).update(role=role, updated_at=timezone.now())
    if changed:
        logger.info("membership %s made %s by user %s", target.pk, role, by.pk)
    return bool(changed)


@transaction.atomic
def ownership_transfer(*, organisation: Organisation, membership_id: int, by: User) -> Membership:
    """Hand ownership to an active admin: they become the owner, the acting owner an admin."""
    acting = _owner_locked(organisation=organisation, by=by)
    target = _target_locked(organisation=organisation, membership_id=membership_id, acting=acting)
    if target.role != Role.ADMIN:
        raise ApplicationError("Ownership goes to an admin: make them an admin first.")
    promoted = Membership.objects.filter(pk=target.pk, state=MembershipState.ACTIVE, role=Role.ADMIN).update(
        role=Role.OWNER, updated_at=timezone.now()
    )
    demoted = Membership.objects.filter(pk=acting.pk, state=MembershipState.ACTIVE, role=Role.OWNER).update(
        role=Role.ADMIN, updated_at=timezone.now()
    )
    if not (promoted and demoted):  # cannot happen under the locks; never leave two owners or none
        raise ApplicationError("Ownership could not be handed on: try again.")
    logger.info("organisation %s handed from membership %s to %s", organisation.pk, acting.pk, target.pk)
    target.refresh_from_db()
    return target


def ownership_pass_on_for_user(*, user: User) -> int:
    """Before the user's memberships go: each organisation they alone own passes to its
    longest-standing active admin, if it has one. Returns how many organisations changed hands.
    Called inside the account's deletion transaction."""
    passed = 0
    owned = Membership.objects.filter(user=user, role=Role.OWNER, state=MembershipState.ACTIVE)
    for organisation_id in owned.values_list("organisation_id", flat=True):
        Organisation.objects.select_for_update().get(pk=organisation_id)
        others = Membership.objects.filter(organisation_id=organisation_id, state=MembershipState.ACTIVE).exclude(
            user=user
        )
        if others.filter(role=Role.OWNER).exists():
            continue
        heir = others.select_for_update().filter(role=Role.ADMIN).order_by("created_at", "pk").first()
        if heir is not None and Membership.objects.filter(pk=heir.pk, role=Role.ADMIN).update(
            role=Role.OWNER, updated_at=timezone.now()
        ):
            logger.info("organisation %s passed to membership %s", organisation_id, heir.pk)
            passed += 1
    return passed

