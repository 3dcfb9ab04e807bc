"""Writes for organisations: creating one, its styles, invitations, joining, a member's one avatar
paid by the pool, removing members, reminders, the progress emails and deleting it.

Money stays on the studio's ledger: the organisation's credits are a pool (`credits.CreditPool`),
bought through the same checkout, and a member's avatar is paid from it by the same confirm that
pays for anyone's avatar (`avatars.services.avatar_confirm`), never at invitation. Every change is
conditional on the state it expects, under a lock on the row it changes.
"""

import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from studio.avatars.models import Avatar, AvatarState, SubjectClass
from studio.avatars.services import avatar_create
from studio.core.exceptions import ApplicationError
from studio.core.tasks import enqueue_on_commit
from studio.credits.models import CreditEntry
from studio.credits.services import credit_pool_create
from studio.teams import selectors, tasks
from studio.teams.models import Invite, InviteKind, Membership, MembershipState, Organisation, Role
from studio.teams.roles import organisation_clean_name, ownership_pass_on_for_user
from studio.themes import prompting
from studio.themes.models import Theme
from studio.themes.services import theme_choose

logger = logging.getLogger(__name__)

_SALT = "studio.teams.invites"  # part of every invitation token: changing it voids them all


# Who a team portrait is of: the member, as they choose to be described.
TEAM_CLASSES = (SubjectClass.WOMAN, SubjectClass.MAN, SubjectClass.PERSON)


def theme_suits_team(theme: Theme) -> bool:
    return all(theme.suits(subject_class) for subject_class in TEAM_CLASSES)


class InviteRefused(ApplicationError):
    """The invitation cannot be used by this user (expired, used up, revoked, another address)."""


# --- Organisations and their styles ----------------------------------------------------------------------


@transaction.atomic
def organisation_create(*, user: User, name: str) -> Organisation:
    """A new organisation with its empty credit pool; its creator is its owner."""
    name = organisation_clean_name(name)
    pool = credit_pool_create(name=name)
    organisation = Organisation.objects.create(name=name, created_by=user, pool=pool)
    Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    suited = [theme for theme in Theme.objects.filter(is_active=True) if theme_suits_team(theme)]
    organisation.allowed_themes.set(suited[:3])
    return organisation


def _locked(organisation_id: uuid.UUID) -> Organisation:
    return Organisation.objects.select_for_update().get(pk=organisation_id)


@transaction.atomic
def organisation_set_styles(
    *,
    organisation: Organisation,
    theme_slugs: list[str],
    styles_per_member: int,
    house_background: str = "",
    house_clothing: str = "",
) -> Organisation:
    """The styles members choose among, how many each takes, and the house style added to every
    prompt. Members who already ordered keep what they ordered."""
    organisation = _locked(organisation.pk)
    themes = [theme for theme in Theme.objects.filter(slug__in=theme_slugs, is_active=True) if theme_suits_team(theme)]
    if not themes:
        raise ApplicationError("Choose at least one style for your team.")
    if not 1 <= styles_per_member <= min(len(themes), settings.FAIR_USE_MAX_THEME_PROMPTS):
        raise ApplicationError(
            f"Each member can take between 1 and {min(len(themes), settings.FAIR_USE_MAX_THEME_PROMPTS)} "
            "of the chosen styles."
        )
    wording = {}
    for field, text in (("house_background", house_background), ("house_clothing", house_clothing)):
        text = prompting.clean_text(text, max_chars=120)
        if reason := prompting.forbidden_reason(text):
            raise ApplicationError(reason)
        wording[field] = text
    organisation.allowed_themes.set(themes)
    Organisation.objects.filter(pk=organisation.pk).update(
        styles_per_member=styles_per_member, updated_at=timezone.now(), **wording
    )
    organisation.refresh_from_db()
    return organisation


# --- Invitations -------------------------------------------------------------------------------------------


def invite_token(invite: Invite) -> str:
    """The token in the invitation's URL: the server's secret over its random nonce; 256 bits."""
    return salted_hmac(_SALT, invite.nonce, algorithm="sha256").hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_find(*, token: str) -> Invite | None:
    """The invitation a token opens, whatever its limits (checked when it is used); None if none."""
    if not token or len(token) > 128:
        return None
    invite = Invite.objects.select_related("organisation").filter(token_hash=_token_hash(token)).first()
    if invite is None or not hmac.compare_digest(invite_token(invite), token):
        return None
    return invite


def _invite_new(*, organisation: Organisation, created_by: User, **fields) -> Invite:
    nonce = secrets.token_hex(16)
    invite = Invite(organisation=organisation, created_by=created_by, nonce=nonce, **fields)
    invite.token_hash = _token_hash(invite_token(invite))
    invite.save()
    return invite


def _days(days: int | None) -> timedelta:
    return timedelta(days=days or settings.TEAMS_INVITE_DAYS)


@transaction.atomic
def invite_by_email(*, organisation: Organisation, created_by: User, emails: list[str]) -> list[Invite]:
    """One invitation per address (one use each), emailed; an address already invited and still
    open, or already a member, is left as it is."""
    members = {
        email.lower()
        for email in organisation.memberships.filter(state=MembershipState.ACTIVE).values_list("user__email", flat=True)
    }
    open_invites = {
        email.lower()
        for email in selectors.invite_list_open(organisation=organisation).values_list("email", flat=True)
    }
    invites = []
    for email in dict.fromkeys(address.strip().lower() for address in emails if address.strip()):
        if email in members or email in open_invites:
            continue
        invite = _invite_new(
            organisation=organisation,
            created_by=created_by,
            kind=InviteKind.EMAIL,
            email=email,
            max_uses=1,
            expires_at=timezone.now() + _days(None),
        )
        enqueue_on_commit(tasks.invite_send_email, str(invite.pk))
        invites.append(invite)
    return invites


def _domain(value: str) -> str:
    return value.strip().lower().lstrip("@").rstrip(".")


def invite_link_create(
    *, organisation: Organisation, created_by: User, max_uses: int, days: int, email_domain: str = ""
) -> Invite:
    """A shareable link for up to `max_uses` people, for `days` days, optionally only for
    addresses at one domain."""
    if not 1 <= max_uses <= settings.TEAMS_LINK_MAX_USES:
        raise ApplicationError(f"A link can admit between 1 and {settings.TEAMS_LINK_MAX_USES} people.")
    if not 1 <= days <= 90:
        raise ApplicationError("A link can stay open between 1 and 90 days.")
    domain = _domain(email_domain)
    if domain and ("@" in domain or "." not in domain):
        raise ApplicationError("Write the domain alone, e.g. example.com.")
    return _invite_new(
        organisation=organisation,
        created_by=created_by,
        kind=InviteKind.LINK,
        email_domain=domain,
        max_uses=max_uses,
        expires_at=timezone.now() + _days(days),
    )


def invite_revoke(*, organisation: Organisation, invite_id: uuid.UUID) -> bool:
    """Close an invitation at once; True if it was open."""
    return bool(
        Invite.objects.filter(pk=invite_id, organisation=organisation, revoked_at=None).update(
            revoked_at=timezone.now(), updated_at=timezone.now()
        )
    )


def invite_refusal(*, invite: Invite, user: User) -> str:
    """Why this user cannot join with this invitation, or "" when they can."""
    if invite.revoked_at is not None:
        return "This invitation was withdrawn. Ask your team for a new one."
    if invite.expires_at <= timezone.now():
        return "This invitation has expired. Ask your team for a new one."
    email = user.email.lower()
    if invite.kind == InviteKind.EMAIL and email != invite.email.lower():
        return f"This invitation is for {invite.email}. Log in with that address to join."
    if invite.email_domain and email.rpartition("@")[2] != invite.email_domain:
        return f"This link is for addresses at {invite.email_domain}. Log in with your work address to join."
    if invite.uses >= invite.max_uses:
        return "This invitation has been used as many times as it allows. Ask your team for a new one."
    return ""


@transaction.atomic
def invite_accept(*, user: User, token: str) -> Membership:
    """Join the organisation with an invitation: one use of it, under a lock, within its limits.
    Someone already a member just gets their membership; nothing is spent here."""
    found = invite_find(token=token)
    if found is None:
        raise Invite.DoesNotExist("No such invitation.")
    invite = Invite.objects.select_for_update().get(pk=found.pk)
    existing = Membership.objects.select_for_update().filter(organisation_id=invite.organisation_id, user=user).first()
    if existing is not None and existing.state == MembershipState.ACTIVE:
        return existing
    if reason := invite_refusal(invite=invite, user=user):
        raise InviteRefused(reason)
    used = Invite.objects.filter(
        pk=invite.pk, revoked_at=None, expires_at__gt=timezone.now(), uses__lt=F("max_uses")
    ).update(uses=F("uses") + 1, updated_at=timezone.now())
    if not used:
        raise InviteRefused("This invitation has been used as many times as it allows. Ask your team for a new one.")
    Organisation.objects.filter(pk=invite.organisation_id).update(everyone_done_at=None)  # a new round
    if existing is not None:  # a member removed earlier, invited back
        Membership.objects.filter(pk=existing.pk, state=MembershipState.REMOVED).update(
            state=MembershipState.ACTIVE, removed_at=None, role=Role.MEMBER, invite=invite, updated_at=timezone.now()
        )
        # Their draft, if they had not ordered it yet, is the team's to pay again.
        Avatar.objects.filter(pk=existing.avatar_id, state=AvatarState.DRAFT, pool=None).update(
            pool_id=invite.organisation.pool_id, updated_at=timezone.now()
        )
        existing.refresh_from_db()
        return existing
    return Membership.objects.create(organisation_id=invite.organisation_id, user=user, invite=invite)


# --- A member's one avatar -------------------------------------------------------------------------------------


def _funded_already(membership: Membership) -> bool:
    """Whether the pool already paid for an avatar of this member (one that was deleted since)."""
    if membership.funded_avatar_id is None:
        return False
    return CreditEntry.objects.filter(
        pool_id=membership.organisation.pool_id, key=f"spend:avatar:{membership.funded_avatar_id}"
    ).exists()


def team_avatar_start(*, user: User, organisation_id: uuid.UUID, name: str, subject_class: str) -> Avatar:
    """The member's one avatar paid by the pool: a draft with the team's styles chosen, ready for
    photos. Asking again (double click, two tabs at once) returns the same avatar; a member whose
    avatar was ordered gets no second one, even after deleting it."""
    if subject_class not in TEAM_CLASSES:
        raise ApplicationError("Team portraits are of people: choose who the photos show.")
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("organisation")
            .get(organisation_id=organisation_id, user=user, state=MembershipState.ACTIVE)
        )
        if membership.avatar_id is not None:
            return membership.avatar
        if _funded_already(membership):
            raise ApplicationError("Your organisation has already paid for your portraits.")
        organisation = membership.organisation
        avatar = avatar_create(user=user, name=name, subject_class=subject_class)
        Avatar.objects.filter(pk=avatar.pk, state=AvatarState.DRAFT).update(pool=organisation.pool)
        claimed = Membership.objects.filter(pk=membership.pk, avatar=None).update(
            avatar=avatar, funded_avatar_id=avatar.pk, updated_at=timezone.now()
        )
        if not claimed:  # cannot happen under the lock; never leave a second paid draft behind
            raise ApplicationError("Your portraits have already been started.")
        avatar.refresh_from_db()
        themes = list(organisation.allowed_themes.filter(is_active=True).order_by("position", "title"))
        for theme in [theme for theme in themes if theme.suits(subject_class)][: organisation.styles_per_member]:
            theme_choose(avatar=avatar, theme_slug=theme.slug)
    return avatar


# --- Leaving ------------------------------------------------------------------------------------------------------


def _end_pool_access(*, organisation: Organisation, avatar_ids: list) -> None:
    """Drafts stop being paid by the pool: their owners keep them and may pay for them themselves.
    Avatars already ordered keep their payer, so their refunds still go back to the pool."""
    Avatar.objects.filter(pk__in=avatar_ids, state=AvatarState.DRAFT, pool=organisation.pool).update(
        pool=None, updated_at=timezone.now()
    )


@transaction.atomic
def member_remove(*, organisation: Organisation, membership_id: int, by: User) -> bool:
    """Take a member out of the organisation (an admin, or the member leaving): their access to
    the pool ends, and their avatar stays theirs. The last owner cannot be removed."""
    organisation = _locked(organisation.pk)
    membership = organisation.memberships.select_for_update().filter(pk=membership_id).first()
    if membership is None or membership.state != MembershipState.ACTIVE:
        return False
    if membership.role == Role.OWNER and not organisation.memberships.filter(
        role=Role.OWNER, state=MembershipState.ACTIVE
    ).exclude(pk=membership.pk).exists():
        raise ApplicationError("An organisation needs an owner: delete the organisation instead.")
    removed = Membership.objects.filter(pk=membership.pk, state=MembershipState.ACTIVE).update(
        state=MembershipState.REMOVED, removed_at=timezone.now(), updated_at=timezone.now()
    )
    if membership.avatar_id:
        _end_pool_access(organisation=organisation, avatar_ids=[membership.avatar_id])
    logger.info("membership %s of organisation %s removed by user %s", membership.pk, organisation.pk, by.pk)
    return bool(removed)


@transaction.atomic
def organisation_delete(*, organisation: Organisation, by: User) -> None:
    """Delete the organisation: its memberships, invitations and team zips. Members keep their
    avatars (unordered drafts are no longer paid by the pool), nothing is refunded to anyone, and
    the pool's ledger lines stay, as every ledger line does."""
    organisation = _locked(organisation.pk)
    avatar_ids = list(organisation.memberships.exclude(avatar=None).values_list("avatar_id", flat=True))
    _end_pool_access(organisation=organisation, avatar_ids=avatar_ids)
    files = [name for name in organisation.exports.values_list("file", flat=True) if name]
    organisation.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    logger.info("organisation %s deleted by user %s", organisation.pk, by.pk)


# --- Reminders and progress emails ------------------------------------------------------------------------


def members_remind(*, organisation: Organisation) -> int:
    """Email everyone who has not uploaded photos yet (members, and emailed invitations not taken),
    at most once per TEAMS_REMINDER_HOURS each. Returns how many were reminded."""
    cutoff = timezone.now() - timedelta(hours=settings.TEAMS_REMINDER_HOURS)
    due = Q(reminded_at=None) | Q(reminded_at__lt=cutoff)
    count = 0
    for row in selectors.member_rows(organisation=organisation):
        if not row.needs_reminder:
            continue
        if row.membership is not None:
            claimed = Membership.objects.filter(due, pk=row.membership.pk).update(reminded_at=timezone.now())
            if claimed:
                enqueue_on_commit(tasks.member_send_reminder, row.membership.pk)
        else:
            claimed = Invite.objects.filter(due, pk=row.invite.pk).update(reminded_at=timezone.now())
            if claimed:
                enqueue_on_commit(tasks.invite_send_email, str(row.invite.pk))
        count += claimed
    return count


def team_progress_notify() -> int:
    """The progress emails, each once: "your headshot is ready" to each member whose avatar is
    done, and "everyone is done" to the admins once every member is. Returns emails enqueued."""
    sent = 0
    ready = Membership.objects.filter(
        state=MembershipState.ACTIVE, ready_notified_at=None, avatar__state=AvatarState.DONE, avatar__pool__isnull=False
    )
    for membership in ready.select_related("organisation"):
        if Membership.objects.filter(pk=membership.pk, ready_notified_at=None).update(ready_notified_at=timezone.now()):
            enqueue_on_commit(tasks.member_send_ready_email, membership.pk)
            sent += 1
    waiting = Organisation.objects.filter(everyone_done_at=None, memberships__ready_notified_at__isnull=False)
    for organisation in waiting.distinct():
        if not selectors.everyone_done(organisation=organisation):
            continue
        now = timezone.now()
        if Organisation.objects.filter(pk=organisation.pk, everyone_done_at=None).update(everyone_done_at=now):
            enqueue_on_commit(tasks.organisation_send_everyone_done, str(organisation.pk))
            sent += 1
    return sent


def memberships_delete_for_user(*, user: User) -> int:
    """A closed account leaves no trace in organisations: its memberships go. An organisation it
    alone owned passes to its longest-standing admin; with no admin it is left without an owner
    (staff can name one in the admin). Its avatars went first."""
    ownership_pass_on_for_user(user=user)
    deleted, _ = Membership.objects.filter(user=user).delete()
    return deleted
