import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from studio.avatars.models import (
    Avatar,
    AvatarState,
    GalleryExport,
    GeneratedImage,
    Prompt,
    PromptState,
)
from studio.core.days import day_range
from studio.photos.models import Photo
from studio.teams.models import Membership, MembershipState
from studio.themes.models import ChosenTheme, CustomPrompt

PENDING_STATES = (
    AvatarState.QUEUED,
    AvatarState.SUBMITTED,
    AvatarState.TRAINING,
    AvatarState.GENERATING,
)


def avatar_list_for_user(*, user: User) -> QuerySet[Avatar]:
    return Avatar.objects.filter(user=user).order_by("-created_at")


# "My avatars" is kept whole per version of its cards (studio/avatars/page_cache.py), so this is all
# a view of it reads beyond the header: written out, as building it through the ORM cost five times
# the lookup itself.
_VERSIONS_SQL = "SELECT id, state, gallery_version FROM avatars_avatar WHERE user_id = %s ORDER BY created_at DESC"


def avatar_versions_for_user(*, user: User) -> list[tuple[uuid.UUID, str, int]]:
    """(pk, state, gallery_version) of each of the user's avatars, newest first."""
    to_uuid = Avatar._meta.pk.to_python
    with connection.cursor() as cursor:
        cursor.execute(_VERSIONS_SQL, [user.pk])
        return [(to_uuid(pk), state, version) for pk, state, version in cursor.fetchall()]


def avatar_list_drafts_for_user(*, user: User) -> QuerySet[Avatar]:
    return avatar_list_for_user(user=user).filter(state=AvatarState.DRAFT)


def avatar_list_idle_drafts() -> QuerySet[Avatar]:
    """Drafts whose owner changed nothing (name, photos, styles) for DRAFT_RETENTION_DAYS."""
    since = timezone.now() - timedelta(days=settings.DRAFT_RETENTION_DAYS)
    touched = [
        model.objects.filter(avatar=OuterRef("pk"), updated_at__gte=since)
        for model in (Photo, ChosenTheme, CustomPrompt)
    ]
    return Avatar.objects.filter(state=AvatarState.DRAFT, updated_at__lt=since).exclude(
        Exists(touched[0]) | Exists(touched[1]) | Exists(touched[2])
    )


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of a queryset filtered on avatar=OuterRef("pk"), as a subquery; 0 when empty."""
    counted = queryset.order_by().values("avatar").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def avatar_cards_for_user(*, user: User, pending_only: bool = False) -> QuerySet[Avatar]:
    """The user's avatars with what their cards show, in one query whatever their number.

    Each count is its own subquery: joining prompts and images together would multiply them
    (14 prompts x 112 images = 1,568 rows per avatar) before counting.
    """
    prompts = Prompt.objects.filter(avatar=OuterRef("pk"))
    cover = GeneratedImage.objects.filter(avatar=OuterRef("pk")).order_by("-is_favourite", "created_at")
    avatars = avatar_list_for_user(user=user).annotate(
        prompts_total=_count(prompts),
        prompts_done=_count(prompts.filter(state=PromptState.DONE)),
        prompts_failed=_count(prompts.filter(state=PromptState.FAILED)),
        image_count=_count(GeneratedImage.objects.filter(avatar=OuterRef("pk"))),
        cover_image_id=Subquery(cover.values("pk")[:1]),
    )
    if pending_only:
        avatars = avatars.filter(state__in=PENDING_STATES)
    return avatars


QUEUED_SLOW = timedelta(minutes=3)  # a submit that takes longer is meeting Astria errors


@dataclass(frozen=True)
class Progress:
    """How far an avatar has got, in words and as a percentage, for cards and the gallery."""

    words: str
    percent: int
    eta: datetime | None
    pending: bool

    @property
    def time_left(self) -> str:
        """"about 2 minutes left", "about a minute left", "almost there"; never "about 0 minutes"."""
        if self.eta is None:
            return ""
        minutes = round((self.eta - timezone.now()).total_seconds() / 60)
        if minutes <= 0:
            return "almost there"
        if minutes == 1:
            return "about a minute left"
        if minutes < 90:
            return f"about {minutes} minutes left"
        hours = round(minutes / 60)
        return f"about {hours} hour{'s' if hours != 1 else ''} left"


def avatar_progress(*, avatar: Avatar, prompts_total: int, prompts_finished: int) -> Progress:
    now = timezone.now()
    state = avatar.state
    if state == AvatarState.DRAFT:
        return Progress("Collecting photos", 0, None, False)
    if state == AvatarState.QUEUED:
        if avatar.queued_at and now - avatar.queued_at > QUEUED_SLOW:
            words = "Queued: Astria is slow to answer, we keep trying (your credits come back if it cannot start)"
            return Progress(words, 3, None, True)
        return Progress("Paid: training starts in a moment", 3, None, True)
    if state in (AvatarState.SUBMITTED, AvatarState.TRAINING):
        words = "Training your model…"  # queued at Astria or training: to its owner, the same wait
        percent = 5
        if avatar.tune_eta and avatar.submitted_at and avatar.tune_eta > avatar.submitted_at:
            total = (avatar.tune_eta - avatar.submitted_at).total_seconds()
            elapsed = (now - avatar.submitted_at).total_seconds()
            percent = 5 + int(55 * min(max(elapsed / total, 0), 0.98))
        return Progress(words, percent, avatar.tune_eta if avatar.tune_eta and avatar.tune_eta > now else None, True)
    if state == AvatarState.GENERATING:
        share = prompts_finished / prompts_total if prompts_total else 0
        styles = f"style{'s' if prompts_total != 1 else ''}"
        words = f"Painting your portraits… {prompts_finished} of {prompts_total} {styles} done"
        return Progress(words, 60 + int(40 * share), None, True)
    if state == AvatarState.DONE:
        return Progress("Done", 100, None, False)
    return Progress("Failed: credits refunded", 100, None, False)


def avatar_card_progress(avatar: Avatar) -> Progress:
    """Progress for an avatar annotated by avatar_cards_for_user."""
    return avatar_progress(
        avatar=avatar,
        prompts_total=avatar.prompts_total,
        prompts_finished=avatar.prompts_done + avatar.prompts_failed,
    )


def avatar_team_name(*, avatar: Avatar) -> str:
    """The organisation that receives the avatar's favourites (its owner a member of it, the avatar
    their team headshot), or "" when none does."""
    return (
        Membership.objects.filter(avatar=avatar, state=MembershipState.ACTIVE)
        .values_list("organisation__name", flat=True)
        .first()
        or ""
    )


def gallery_prompts(*, avatar: Avatar) -> QuerySet[Prompt]:
    """The avatar's prompts in order, each with its images, in two queries."""
    return avatar.prompts.order_by("batch", "position").select_related("source_image__prompt").prefetch_related(
        Prefetch("images", queryset=GeneratedImage.objects.order_by("index"))
    )


@dataclass
class GalleryStyle:
    """One style as the gallery shows it: its prompt, and a likeness redo's images with its own,
    the best likeness first; those below the threshold apart (`doubtful`)."""

    prompt: Prompt
    redo: Prompt | None
    shown: list[GeneratedImage]
    doubtful: list[GeneratedImage]
    changed_at: datetime

    @property
    def images(self) -> list[GeneratedImage]:
        return self.shown + self.doubtful

    @property
    def redoing(self) -> bool:
        return self.redo is not None and not self.redo.is_finished


def gallery_styles(*, prompts: list[Prompt]) -> list[GalleryStyle]:
    """The styles of `gallery_prompts`, in order, each edit right after the section of its source
    (in the order they were made): a redo is shown within the style it redoes. Each image carries
    `made_into`, the edits made from it, so its tile links to them."""
    return _beside_sources(_styles(prompts))


def _beside_sources(styles: list[GalleryStyle]) -> list[GalleryStyle]:
    shown_in = {}  # prompt id -> the section its images are shown in
    for style in styles:
        shown_in[style.prompt.pk] = style
        if style.redo is not None:
            shown_in[style.redo.pk] = style
    following: dict[int, list[GalleryStyle]] = {}
    tops = []
    for style in styles:
        source = style.prompt.source_image
        home = shown_in.get(source.prompt_id) if source is not None else None
        (following.setdefault(id(home), []) if home is not None else tops).append(style)

    ordered: list[GalleryStyle] = []

    def place(style: GalleryStyle) -> None:
        ordered.append(style)
        for edit in following.get(id(style), []):
            place(edit)

    for style in tops:
        place(style)
    return ordered


def _styles(prompts: list[Prompt]) -> list[GalleryStyle]:
    redos = {prompt.redo_of_id: prompt for prompt in prompts if prompt.redo_of_id is not None}
    made_into: dict = {}
    for prompt in prompts:
        if prompt.source_image_id is not None:
            made_into.setdefault(prompt.source_image_id, []).append(prompt)
    styles = []
    for prompt in prompts:
        if prompt.redo_of_id is not None:
            continue
        redo = redos.get(prompt.pk)
        images = list(prompt.images.all()) + (list(redo.images.all()) if redo else [])
        for image in images:
            image.made_into = made_into.get(image.pk, [])
        # Best first; images not scored (pets) keep their order.
        ranked = sorted(images, key=lambda image: -image.likeness if image.likeness is not None else 0)
        styles.append(GalleryStyle(
            prompt=prompt,
            redo=redo,
            shown=[image for image in ranked if image.looks_like],
            doubtful=[image for image in ranked if not image.looks_like],
            changed_at=max(prompt.updated_at, redo.updated_at) if redo else prompt.updated_at,
        ))
    return styles


def image_get_for_user(*, user: User, avatar_id: uuid.UUID, image_id: uuid.UUID) -> GeneratedImage:
    return GeneratedImage.objects.select_related("prompt__source_image__prompt", "avatar").get(
        pk=image_id, avatar_id=avatar_id, avatar__user=user
    )


def image_list_for_export(*, export: GalleryExport) -> QuerySet[GeneratedImage]:
    images = export.avatar.images.select_related("prompt").order_by("prompt__batch", "prompt__position", "index")
    if export.scope == GalleryExport.Scope.FAVOURITES:
        images = images.filter(is_favourite=True)
    return images


def export_get_for_user(*, user: User, avatar_id: uuid.UUID, export_id: uuid.UUID) -> GalleryExport:
    return GalleryExport.objects.select_related("avatar").get(
        pk=export_id, avatar_id=avatar_id, avatar__user=user
    )


def export_latest(*, avatar: Avatar) -> GalleryExport | None:
    return avatar.exports.order_by("-created_at").first()


def avatar_for_gallery(*, user: User) -> QuerySet[Avatar]:
    """The user's avatars, each with its latest zip's id (None without one: no need to look for it)."""
    latest = GalleryExport.objects.filter(avatar=OuterRef("pk")).order_by("-created_at").values("pk")[:1]
    return avatar_list_for_user(user=user).annotate(latest_export_id=Subquery(latest))


# --- The operator's dashboard: aggregates over every user, in a fixed number of queries -------------


class BranchUsage(NamedTuple):
    branch: str
    tunes: int
    prompts: int


class FairUse(NamedTuple):
    tunes: int
    prompts: int
    images: int
    tunes_over_limit: int

    @property
    def prompts_per_tune(self) -> float:
        return self.prompts / self.tunes if self.tunes else 0.0

    @property
    def images_per_tune(self) -> float:
        return self.images / self.tunes if self.tunes else 0.0


def avatar_pending_oldest() -> QuerySet[Avatar]:
    """Paid avatars still in the pipeline, the longest waiting first, with their owner and how
    many prompts are finished (one query; the counts are subqueries, run for the rows taken only)."""
    prompts = Prompt.objects.filter(avatar=OuterRef("pk"))
    return (
        Avatar.objects.filter(state__in=PENDING_STATES)
        .select_related("user")
        .annotate(
            waiting_since=Coalesce("queued_at", "created_at"),
            prompts_total=_count(prompts),
            prompts_finished=_count(prompts.filter(state__in=[PromptState.DONE, PromptState.FAILED])),
        )
        .order_by("waiting_since", "pk")
    )


def avatar_pending_count() -> int:
    return Avatar.objects.filter(state__in=PENDING_STATES).count()


def avatar_failures(*, start: date, end: date) -> QuerySet[Avatar]:
    """Avatars that failed in the period, latest first, with their owner."""
    since, until = day_range(start, end)
    return (
        Avatar.objects.filter(state=AvatarState.FAILED, finished_at__gte=since, finished_at__lt=until)
        .select_related("user")
        .order_by("-finished_at", "pk")
    )


def prompt_failures(*, start: date, end: date) -> QuerySet[Prompt]:
    """Prompts that failed in the period on avatars that did not fail as a whole (those are
    listed as avatars), latest first, with their avatar and its owner."""
    since, until = day_range(start, end)
    return (
        Prompt.objects.filter(state=PromptState.FAILED, finished_at__gte=since, finished_at__lt=until)
        .exclude(avatar__state=AvatarState.FAILED)
        .select_related("avatar__user")
        .order_by("-finished_at", "pk")
    )


def image_edits(*, image: GeneratedImage) -> QuerySet[Prompt]:
    """The edits made from one of the user's images (found by `image_get_for_user`), newest first,
    each with its images."""
    return image.edits.order_by("-batch").prefetch_related(
        Prefetch("images", queryset=GeneratedImage.objects.order_by("index"))
    )
