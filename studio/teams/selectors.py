"""Reads for organisations, each scoped to the user asking: a member sees their organisation and
their own avatar; only owners and admins see the team, and of each member only the status and
the favourites they chose (never training photos, never other portraits)."""

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Prefetch, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from studio.avatars.models import Avatar, AvatarState, GeneratedImage
from studio.credits.models import CreditEntry, EntryKind
from studio.credits.selectors import credit_pool_balance
from studio.teams.models import MANAGERS, Invite, InviteKind, Membership, MembershipState, Organisation, TeamExport


class Status:
    """Where a member is, in the words the admins' page uses."""

    INVITED = "invited"
    UPLOADING = "uploading"
    TRAINING = "training"
    DONE = "done"
    FAILED = "failed"


TRAINING_STATES = (AvatarState.QUEUED, AvatarState.SUBMITTED, AvatarState.TRAINING, AvatarState.GENERATING)


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    """The user's current memberships, with their organisations."""
    return (
        Membership.objects.filter(user=user, state=MembershipState.ACTIVE)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def membership_get_for_user(*, user: User, organisation_id: uuid.UUID) -> Membership:
    """The user's own current membership of the organisation; Membership.DoesNotExist otherwise."""
    return membership_list_for_user(user=user).get(organisation_id=organisation_id)


def organisation_get_for_manager(*, user: User, organisation_id: uuid.UUID) -> Organisation:
    """The organisation, for one of its current owners or admins; Organisation.DoesNotExist otherwise."""
    return Organisation.objects.select_related("pool").get(
        pk=organisation_id,
        memberships__user=user,
        memberships__state=MembershipState.ACTIVE,
        memberships__role__in=MANAGERS,
    )


def organisation_get_for_owner(*, user: User, organisation_id: uuid.UUID) -> Organisation:
    return Organisation.objects.select_related("pool").get(
        pk=organisation_id,
        memberships__user=user,
        memberships__state=MembershipState.ACTIVE,
        memberships__role=Membership.Role.OWNER,
    )


def manager_list(*, organisation: Organisation) -> list[Membership]:
    """Who runs the organisation: its owner first, then its admins by when they joined."""
    managers = organisation.memberships.filter(state=MembershipState.ACTIVE, role__in=MANAGERS).select_related("user")
    in_order = managers.order_by("created_at", "pk")
    return sorted(in_order, key=lambda membership: membership.role != Membership.Role.OWNER)


def organisations_left_without_owner(*, user: User) -> QuerySet[Organisation]:
    """The organisations the user alone owns, with other members but no admin to pass them to:
    closing the account leaves them without an owner."""
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER, state=MembershipState.ACTIVE)
    active = Membership.objects.filter(state=MembershipState.ACTIVE).exclude(user=user)
    with_others = active.values("organisation_id")
    with_heirs = active.filter(role__in=MANAGERS).values("organisation_id")
    return (
        Organisation.objects.filter(pk__in=owned.values("organisation_id"))
        .filter(pk__in=with_others)
        .exclude(pk__in=with_heirs)
        .order_by("name")
    )


def pool_balance(*, organisation: Organisation) -> int:
    return credit_pool_balance(pool=organisation.pool)


def member_cost(*, organisation: Organisation) -> int:
    """What one member's avatar takes from the pool: the training and the styles each member gets."""
    return settings.CREDITS_PRICE_TUNE + settings.CREDITS_PRICE_PROMPT * organisation.styles_per_member


# --- The admins' view of the team ---------------------------------------------------------------------


@dataclass
class MemberRow:
    """One line of the team page: a member (or an emailed invitation not yet taken)."""

    name: str
    email: str
    status: str
    folder: str = ""
    membership: Membership | None = None
    invite: Invite | None = None
    favourites: list[GeneratedImage] = field(default_factory=list)

    @property
    def needs_reminder(self) -> bool:
        return self.status == Status.INVITED

    @property
    def files(self) -> list[str]:
        return [team_file_name(self, image, index) for index, image in enumerate(self.favourites)]


def member_status(avatar: Avatar | None) -> str:
    if avatar is None:
        return Status.INVITED
    if avatar.state == AvatarState.DRAFT:
        return Status.UPLOADING if getattr(avatar, "photo_count", 0) else Status.INVITED
    if avatar.state in TRAINING_STATES:
        return Status.TRAINING
    return Status.DONE if avatar.state == AvatarState.DONE else Status.FAILED


def member_rows(*, organisation: Organisation) -> list[MemberRow]:
    """Everyone the admins follow: members (owners and admins who ordered an avatar included)
    with their status and chosen favourites, then emailed invitations still open."""
    favourites = GeneratedImage.objects.filter(is_favourite=True).select_related("prompt").order_by(
        "prompt__batch", "prompt__position", "index"
    )
    memberships = (
        organisation.memberships.filter(state=MembershipState.ACTIVE)
        .select_related("user", "avatar")
        .prefetch_related(Prefetch("avatar__images", queryset=favourites, to_attr="favourite_images"))
        .annotate(photo_count=Count("avatar__photos"))
        .order_by("user__email")
    )
    rows = []
    for membership in memberships:
        if membership.role != Membership.Role.MEMBER and membership.avatar is None:
            continue  # an admin who only runs the team
        avatar = membership.avatar
        if avatar is not None:
            avatar.photo_count = membership.photo_count
        rows.append(
            MemberRow(
                name=avatar.name if avatar else membership.user.email.split("@")[0],
                email=membership.user.email,
                status=member_status(avatar),
                membership=membership,
                favourites=list(avatar.favourite_images) if avatar else [],
            )
        )
    _name_folders(rows)
    joined = {row.email.lower() for row in rows}
    for invite in invite_list_open(organisation=organisation).filter(kind=InviteKind.EMAIL):
        if invite.email.lower() not in joined:
            name = invite.email.split("@")[0]
            rows.append(MemberRow(name=name, email=invite.email, status=Status.INVITED, invite=invite))
    return rows


def _name_folders(rows: list[MemberRow]) -> None:
    """Each member's folder in the team zip: their name, with their address's name when two
    members share a name."""
    names = [slugify(row.name)[:50] or "member" for row in rows]
    for row, name in zip(rows, names, strict=True):
        shared = names.count(name) > 1
        row.folder = f"{name}-{slugify(row.email.split('@')[0])[:30]}" if shared else name


def team_file_name(row: MemberRow, image: GeneratedImage, index: int) -> str:
    """A favourite's name in the team zip: the member's folder, then the style and a number."""
    return f"{row.folder or 'member'}/{index + 1:02d}-{slugify(image.prompt.label)[:40] or 'portrait'}.jpg"


def favourite_get_for_manager(
    *, user: User, organisation_id: uuid.UUID, membership_id: int, image_id: uuid.UUID
) -> GeneratedImage:
    """A member's favourite, for an admin of their organisation: only favourites, only of the
    member's own team avatar. GeneratedImage.DoesNotExist otherwise."""
    organisation = organisation_get_for_manager(user=user, organisation_id=organisation_id)
    membership = organisation.memberships.get(pk=membership_id, state=MembershipState.ACTIVE)
    return GeneratedImage.objects.select_related("prompt", "avatar").get(
        pk=image_id, avatar_id=membership.avatar_id, avatar__isnull=False, is_favourite=True
    )


def everyone_done(*, organisation: Organisation) -> bool:
    rows = member_rows(organisation=organisation)
    return bool(rows) and all(row.status in (Status.DONE, Status.FAILED) for row in rows)


# --- Invitations --------------------------------------------------------------------------------------------


def invite_list_open(*, organisation: Organisation) -> QuerySet[Invite]:
    return organisation.invites.filter(revoked_at=None, expires_at__gt=timezone.now()).exclude(
        uses__gte=F("max_uses")
    )


def invite_list_links(*, organisation: Organisation) -> QuerySet[Invite]:
    return organisation.invites.filter(kind=InviteKind.LINK).order_by("-created_at")


# --- Exports and figures --------------------------------------------------------------------------------------


def team_export_latest(*, organisation: Organisation) -> TeamExport | None:
    return organisation.exports.order_by("-created_at").first()


def team_export_get_for_manager(*, user: User, organisation_id: uuid.UUID, export_id: uuid.UUID) -> TeamExport:
    organisation = organisation_get_for_manager(user=user, organisation_id=organisation_id)
    return organisation.exports.get(pk=export_id)


def pool_spent(*, organisation: Organisation) -> int:
    """Credits the pool paid for avatars, less what came back."""
    entries = CreditEntry.objects.filter(pool=organisation.pool, kind__in=[EntryKind.SPEND, EntryKind.REFUND])
    return -sum(entries.values_list("amount", flat=True))


# --- The team's look, for the styles step and the planner ---------------------------------------------------


@dataclass(frozen=True)
class TeamStyle:
    """What a member's avatar paid by an organisation may order: only its styles, so many of them,
    each with its house style added."""

    organisation: str
    theme_slugs: frozenset[str]
    styles: int
    house_style: str


def team_style_for_avatar(*, avatar: Avatar) -> TeamStyle | None:
    """The rules of the organisation paying for the avatar's order, or None for anyone else's."""
    if avatar.pool_id is None:
        return None
    organisation = Organisation.objects.filter(pool_id=avatar.pool_id).prefetch_related("allowed_themes").first()
    if organisation is None:
        return None
    return TeamStyle(
        organisation=organisation.name,
        theme_slugs=frozenset(theme.slug for theme in organisation.allowed_themes.all()),
        styles=organisation.styles_per_member,
        house_style=organisation.house_style,
    )
