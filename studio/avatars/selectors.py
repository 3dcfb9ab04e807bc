import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from studio.avatars.models import Avatar, AvatarState, GalleryExport, GeneratedImage, Prompt, PromptState

PENDING_STATES = (
    AvatarState.QUEUED,
    AvatarState.SUBMITTED,
    AvatarState.TRAINING,
    AvatarState.GENERATING,
)


def avatar_list_for_user(*, user: User) -> QuerySet[Avatar]:
    return Avatar.objects.filter(user=user).order_by("-created_at")


def avatar_get_for_user(*, user: User, avatar_id: uuid.UUID) -> Avatar:
    """The user's avatar; raises Avatar.DoesNotExist for anyone else's."""
    return avatar_list_for_user(user=user).get(pk=avatar_id)


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


@dataclass(frozen=True)
class Progress:
    """How far an avatar has got, in words and as a percentage, for cards and the gallery."""

    words: str
    percent: int
    eta: datetime | None
    pending: bool


def avatar_progress(*, avatar: Avatar, prompts_total: int, prompts_finished: int) -> Progress:
    now = timezone.now()
    state = avatar.state
    if state == AvatarState.DRAFT:
        return Progress("Collecting photos", 0, None, False)
    if state == AvatarState.QUEUED:
        return Progress("Queued: training starts in a moment", 3, None, True)
    if state in (AvatarState.SUBMITTED, AvatarState.TRAINING):
        words = "Waiting for training to start" if state == AvatarState.SUBMITTED else "Training your model"
        percent = 5
        if avatar.tune_eta and avatar.submitted_at and avatar.tune_eta > avatar.submitted_at:
            total = (avatar.tune_eta - avatar.submitted_at).total_seconds()
            elapsed = (now - avatar.submitted_at).total_seconds()
            percent = 5 + int(55 * min(max(elapsed / total, 0), 0.98))
        return Progress(words, percent, avatar.tune_eta if avatar.tune_eta and avatar.tune_eta > now else None, True)
    if state == AvatarState.GENERATING:
        share = prompts_finished / prompts_total if prompts_total else 0
        words = f"Generating: {prompts_finished} of {prompts_total} prompt{'s' if prompts_total != 1 else ''} done"
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
    return avatar.prompts.order_by("batch", "position").prefetch_related(
        Prefetch("images", queryset=GeneratedImage.objects.order_by("index"))
    )


def gallery_prompts_changed_since(*, avatar: Avatar, since: datetime) -> QuerySet[Prompt]:
    return gallery_prompts(avatar=avatar).filter(updated_at__gt=since)


def image_get_for_user(*, user: User, avatar_id: uuid.UUID, image_id: uuid.UUID) -> GeneratedImage:
    return GeneratedImage.objects.select_related("prompt", "avatar").get(
        pk=image_id, avatar_id=avatar_id, avatar__user=user
    )


def images_for_export(*, export: GalleryExport) -> QuerySet[GeneratedImage]:
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


def prompts_left(*, avatar: Avatar, limit: int) -> int:
    return max(limit - avatar.prompts.count(), 0)
