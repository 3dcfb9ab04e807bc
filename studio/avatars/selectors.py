import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple, TypedDict

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDay
from django.utils import timezone

from accounts.models import User
from studio.avatars.models import (
    LIKENESS_LOOKS_LIKE,
    LIKENESS_STRONG,
    Avatar,
    AvatarState,
    GalleryExport,
    GeneratedImage,
    LikenessOutcome,
    Prompt,
    PromptState,
)
from studio.core.days import day_range
from studio.photos.models import Photo
from studio.themes.models import ChosenTheme, CustomPrompt

PENDING_STATES = (
    AvatarState.QUEUED,
    AvatarState.SUBMITTED,
    AvatarState.TRAINING,
    AvatarState.GENERATING,
)


def avatar_list_for_user(*, user: User) -> QuerySet[Avatar]:
    return Avatar.objects.filter(user=user).order_by("-created_at")


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
    """The styles of `gallery_prompts`, in order: a redo is shown within the style it redoes."""
    redos = {prompt.redo_of_id: prompt for prompt in prompts if prompt.redo_of_id is not None}
    styles = []
    for prompt in prompts:
        if prompt.redo_of_id is not None:
            continue
        redo = redos.get(prompt.pk)
        images = list(prompt.images.all()) + (list(redo.images.all()) if redo else [])
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


class AvatarDay(TypedDict):
    day: date
    created: int
    paid: int
    done: int
    failed: int


def avatar_totals_by_day(*, start: date, end: date) -> list[AvatarDay]:
    """Per day from start to end inclusive (days with nothing are left out): avatars created
    (drafts included), paid (confirmed), and finished done or failed; three queries."""
    since, until = day_range(start, end)
    days: dict[date, AvatarDay] = {}

    def day(value: datetime) -> AvatarDay:
        key = timezone.localdate(value)
        return days.setdefault(key, AvatarDay(day=key, created=0, paid=0, done=0, failed=0))

    for field, name in (("created_at", "created"), ("queued_at", "paid")):
        rows = (
            Avatar.objects.filter(**{f"{field}__gte": since, f"{field}__lt": until})
            .annotate(day=TruncDay(field))
            .order_by()
            .values("day")
            .annotate(total=Count("pk"))
        )
        for row in rows:
            day(row["day"])[name] = row["total"]
    finished = (
        Avatar.objects.filter(finished_at__gte=since, finished_at__lt=until)
        .annotate(day=TruncDay("finished_at"))
        .order_by()
        .values("day")
        .annotate(
            done=Count("pk", filter=Q(state=AvatarState.DONE)),
            failed=Count("pk", filter=Q(state=AvatarState.FAILED)),
        )
    )
    for row in finished:
        entry = day(row["day"])
        entry["done"], entry["failed"] = row["done"], row["failed"]
    return [days[key] for key in sorted(days)]


class BranchUsage(NamedTuple):
    branch: str
    tunes: int
    prompts: int


def astria_usage_by_branch(*, start: date, end: date) -> list[BranchUsage]:
    """Tunes and prompts created at Astria in the period, per branch (two queries).

    A tune counts on the day it was submitted; a prompt on the day it was sent."""
    since, until = day_range(start, end)
    tunes = (
        Avatar.objects.filter(tune_id__isnull=False, submitted_at__gte=since, submitted_at__lt=until)
        .order_by()
        .values("branch")
        .annotate(total=Count("pk"))
    )
    prompts = (
        Prompt.objects.filter(astria_prompt_id__isnull=False, submitted_at__gte=since, submitted_at__lt=until)
        .order_by()
        .values("avatar__branch")
        .annotate(total=Count("pk"))
    )
    counts: dict[str, list[int]] = {}
    for row in tunes:
        counts.setdefault(row["branch"], [0, 0])[0] = row["total"]
    for row in prompts:
        counts.setdefault(row["avatar__branch"], [0, 0])[1] = row["total"]
    return [BranchUsage(branch, *counts[branch]) for branch in sorted(counts)]


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


def fair_use_for_tunes(*, start: date, end: date, prompt_limit: int) -> FairUse:
    """For the tunes submitted in the period: how many prompts and images were asked of Astria
    on them (at any time, "generate more" included), and how many tunes went past prompt_limit.
    One query."""
    since, until = day_range(start, end)
    sent = Q(prompts__astria_prompt_id__isnull=False)
    totals = (
        Avatar.objects.filter(tune_id__isnull=False, submitted_at__gte=since, submitted_at__lt=until)
        .order_by()
        .annotate(
            sent_prompts=Count("prompts", filter=sent),
            sent_images=Coalesce(Sum("prompts__num_images", filter=sent), Value(0)),
        )
        .aggregate(
            tunes=Count("pk"),
            prompts=Coalesce(Sum("sent_prompts"), Value(0)),
            images=Coalesce(Sum("sent_images"), Value(0)),
            over=Count("pk", filter=Q(sent_prompts__gt=prompt_limit)),
        )
    )
    return FairUse(totals["tunes"], totals["prompts"], totals["images"], totals["over"])


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


class LikenessDay(TypedDict):
    day: date
    branch: str
    scored: int  # images scored for likeness
    strong: int
    good: int
    weak: int  # a face, but it may not be the person
    no_face: int
    styles: int  # styles (original prompts) judged
    redone: int  # made again, free
    refunded: int


def likeness_by_day_and_branch(*, start: date, end: date) -> list[LikenessDay]:
    """Per day and Astria branch from start to end inclusive (empty days left out): how the
    images stored that day scored, and how the styles finished that day fared under the likeness
    guarantee. Two queries."""
    since, until = day_range(start, end)
    rows: dict[tuple[date, str], LikenessDay] = {}

    def row(day: datetime, branch: str) -> LikenessDay:
        key = (timezone.localdate(day), branch)
        return rows.setdefault(key, LikenessDay(day=key[0], branch=branch, scored=0, strong=0, good=0, weak=0,
                                                no_face=0, styles=0, redone=0, refunded=0))

    images = (
        GeneratedImage.objects.filter(likeness__isnull=False, created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDay("created_at"))
        .order_by()
        .values("day", "avatar__branch")
        .annotate(
            scored=Count("pk"),
            strong=Count("pk", filter=Q(face_found=True, likeness__gte=LIKENESS_STRONG)),
            good=Count(
                "pk", filter=Q(face_found=True, likeness__gte=LIKENESS_LOOKS_LIKE, likeness__lt=LIKENESS_STRONG)
            ),
            weak=Count("pk", filter=Q(face_found=True, likeness__lt=LIKENESS_LOOKS_LIKE)),
            no_face=Count("pk", filter=Q(face_found=False)),
        )
    )
    for found in images:
        entry = row(found["day"], found["avatar__branch"])
        for name in ("scored", "strong", "good", "weak", "no_face"):
            entry[name] = found[name]
    styles = (
        Prompt.objects.filter(redo_of__isnull=True, finished_at__gte=since, finished_at__lt=until)
        .exclude(likeness_outcome=LikenessOutcome.NONE)
        .annotate(day=TruncDay("finished_at"))
        .order_by()
        .values("day", "avatar__branch")
        .annotate(
            styles=Count("pk"),
            redone=Count("pk", filter=Q(redo__isnull=False)),
            refunded=Count("pk", filter=Q(likeness_outcome=LikenessOutcome.REFUNDED)),
        )
    )
    for judged in styles:
        entry = row(judged["day"], judged["avatar__branch"])
        entry["styles"], entry["redone"], entry["refunded"] = judged["styles"], judged["redone"], judged["refunded"]
    return [rows[key] for key in sorted(rows)]


def image_edits(*, image: GeneratedImage) -> QuerySet[Prompt]:
    """The edits made from one of the user's images (found by `image_get_for_user`), newest first,
    each with its images."""
    return image.edits.order_by("-batch").prefetch_related(
        Prefetch("images", queryset=GeneratedImage.objects.order_by("index"))
    )
