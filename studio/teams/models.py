"""Organisations: a company orders consistent portraits for its people.

An organisation has owners and admins (who pay and review) and members (who each get one avatar
of themselves, paid from the organisation's credit pool on the studio's one ledger). Members join
through an invitation: one sent to an address, or a shareable link with limits.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.core.models import BaseModel, ExportState
from studio.core.schema import unique_exact


class Organisation(BaseModel):
    """A company, its credit pool and the look its portraits share."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pool = models.OneToOneField(
        "credits.CreditPool", on_delete=models.PROTECT, related_name="organisation",
        help_text="Its credits, on the studio's ledger; kept (with its lines) if the organisation is deleted.",
    )
    allowed_themes = models.ManyToManyField(
        "themes.Theme", blank=True, related_name="+", help_text="The styles its members may choose among."
    )
    styles_per_member = models.PositiveSmallIntegerField(
        default=3, help_text="How many of the allowed styles each member's avatar takes (and the pool pays for)."
    )
    house_background = models.CharField(
        max_length=120, blank=True, help_text='Added to every prompt, e.g. "plain light grey studio background".'
    )
    house_clothing = models.CharField(
        max_length=120, blank=True, help_text='Added to every prompt, e.g. "navy blazer, white shirt".'
    )
    everyone_done_at = models.DateTimeField(
        null=True, blank=True, help_text='When the admins were told "everyone is done" (once per round).'
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(styles_per_member__gte=1, styles_per_member__lte=7), name="org_styles_per_member_1_7"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def house_style(self) -> str:
        """The wording added to every member's prompts, or nothing."""
        return ", ".join(part for part in (self.house_background.strip(), self.house_clothing.strip()) if part)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


MANAGERS = (Role.OWNER, Role.ADMIN)


class MembershipState(models.TextChoices):
    ACTIVE = "active", "Member"
    REMOVED = "removed", "Removed"


class Membership(BaseModel):
    """A user in an organisation. A member's one avatar paid by the pool is `avatar`; `funded_avatar_id`
    keeps its id once ordered, so deleting it does not open the way to a second one."""

    Role = Role
    State = MembershipState

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role, default=Role.MEMBER)
    state = models.CharField(max_length=8, choices=MembershipState, default=MembershipState.ACTIVE)
    removed_at = models.DateTimeField(null=True, blank=True)
    avatar = models.OneToOneField(
        "avatars.Avatar", on_delete=models.SET_NULL, null=True, blank=True, related_name="membership"
    )
    funded_avatar_id = models.UUIDField(null=True, blank=True, editable=False)
    invite = models.ForeignKey("Invite", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    ready_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
            models.CheckConstraint(condition=Q(state__in=MembershipState.values), name="membership_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"

    @property
    def is_manager(self) -> bool:
        return self.state == MembershipState.ACTIVE and self.role in MANAGERS


class InviteKind(models.TextChoices):
    EMAIL = "email", "By email"
    LINK = "link", "Shareable link"


class Invite(BaseModel):
    """A way in: an emailed invitation for one address (one use), or a shareable link with limits.

    The token in its URL is the server's secret over a random nonce; only a hash is stored for the
    lookup, and the admins' page rebuilds the link from the nonce.
    """

    Kind = InviteKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invites")
    kind = models.CharField(max_length=6, choices=InviteKind)
    email = models.EmailField(blank=True, help_text="The one address an emailed invitation is for.")
    email_domain = models.CharField(
        max_length=120, blank=True, help_text="A link only admits addresses at this domain (e.g. example.com)."
    )
    nonce = models.CharField(max_length=32, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InviteKind.values), name="invite_kind_valid"),
            models.CheckConstraint(condition=Q(uses__lte=models.F("max_uses")), name="invite_uses_within_limit"),
            models.CheckConstraint(condition=~Q(kind=InviteKind.EMAIL) | ~Q(email=""), name="invite_email_named"),
            unique_exact("teams_invite", "token_hash"),
        ]

    def __str__(self) -> str:
        return self.email or f"link to {self.organisation}"

    @property
    def is_open(self) -> bool:
        return self.revoked_at is None and self.uses < self.max_uses and self.expires_at > timezone.now()


class TeamExport(BaseModel):
    """A zip of every member's favourites, one folder per member, with a CSV; built by a task."""

    State = ExportState

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State, default=State.BUILDING)
    file = models.FileField(upload_to="team-exports/", blank=True, max_length=200)
    image_count = models.PositiveIntegerField(default=0)
    member_count = models.PositiveIntegerField(default=0)
    bytes = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Team zip of {self.organisation}"
