"""Likeness of the portraits delivered to a person, and the guarantee the ledger keeps.

- The face an avatar's training photos agree on (`studio.photos.selectors.photo_set_identity`) is
  kept on the avatar when it is ordered (`avatar_keep_identity`, in the confirm's transaction), so
  portraits are still scored after the photos are purged. It is biometric data: it goes with the
  avatar (and with its owner's account), is forgotten when the avatar fails and once no prompt can
  be made on its tune any more (`avatar_forget_identities`, a reconciler sweep: Astria deletes a
  tune IDENTITY_KEEP_DAYS after training), and is never logged, shown or sent to Astria.
- Every result image of a person is scored in the worker as it is stored (`image_likeness`):
  `likeness` 0-1 from its face's distance to that identity (`studio.faces.likeness`, 0.5 at the
  PHOTOS_SAME_PERSON_MAX_DISTANCE threshold) and `face_found`. Pets and couples are not scored.
- The guarantee (`prompts_settle_likeness`, run under the avatar's lock by every
  `progress.avatar_check_finished`): a finished prompt whose scored images are mostly (more than
  LIKENESS_REDO_SHARE of them) below 0.5 is made again once, free: a prompt of its own
  (`redo_of` the original, price 0) with a new seed and `inpaint_faces` where the branch has it,
  sent by the usual submit, callbacks and reconciler; when the tune's fair use
  (FAIR_USE_MAX_PROMPTS) leaves no room for it, or when that redo mostly fails too (or is not
  generated at all), the original's credits come back as one refund entry, keyed per prompt. Every
  step is a conditional update of the original's `likeness_outcome`, so replays, retries and
  checks running at once change nothing twice. With LIKENESS_GUARANTEE off, prompts are judged
  (for the dashboard) but nothing is redone or refunded.
"""

import secrets
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone
from PIL import Image

from studio import faces
from studio.avatars import tasks
from studio.avatars.models import (
    LIKENESS_LOOKS_LIKE,
    PERSON_CLASSES,
    Avatar,
    AvatarState,
    EditKind,
    LikenessOutcome,
    Prompt,
    PromptState,
    SubjectClass,
)
from studio.avatars.page_cache import gallery_changed
from studio.core.tasks import enqueue_on_commit
from studio.credits.services import credit_refund
from studio.photos.selectors import photo_set_identity

# Astria's face inpainting works on its Flux, SDXL and SD 1.5 models (not the free `fast` mock).
INPAINT_FACES_BRANCHES = frozenset({"sd15", "sdxl1", "flux1"})
SCORED_CLASSES = PERSON_CLASSES - {SubjectClass.COUPLE}  # one face to compare with
IDENTITY_KEEP_DAYS = 30  # Astria deletes a tune (so "generate more" ends) 30 days after training


def guarantee_share_words(*, avatar: Avatar) -> str:
    """How many of a style's images failing likeness make it redone ("more than half"), as the
    confirm page states the guarantee; empty when the avatar has none (pets, couples, or
    LIKENESS_GUARANTEE off)."""
    if not settings.LIKENESS_GUARANTEE or avatar.subject_class not in SCORED_CLASSES:
        return ""
    share = settings.LIKENESS_REDO_SHARE
    if share == 0.5:
        return "more than half"
    return "any" if share <= 0 else f"more than {share:.0%}"


# --- The identity ------------------------------------------------------------------------------


def avatar_keep_identity(*, avatar: Avatar) -> bool:
    """Keep the face the avatar's counted photos agree on (people only); False when there is none."""
    identity = photo_set_identity(avatar=avatar)
    if identity is None:
        return False
    return bool(
        Avatar.objects.filter(pk=avatar.pk, identity__isnull=True).update(
            identity=[round(float(v), 5) for v in identity]
        )
    )


def avatar_identity(*, avatar: Avatar) -> np.ndarray | None:
    """The descriptor portraits are scored against: the one kept at the order, or (an avatar ordered
    before identities were kept) the photos' own while they are still there."""
    if avatar.identity:
        return np.asarray(avatar.identity, dtype=np.float32)
    if avatar.photos_purged_at is not None or avatar.state == AvatarState.FAILED:
        return None
    if avatar_keep_identity(avatar=avatar):
        avatar.refresh_from_db(fields=["identity"])
        return np.asarray(avatar.identity, dtype=np.float32)
    return None


def image_likeness(*, identity: np.ndarray | None, img: Image.Image) -> tuple[float | None, bool | None]:
    """(likeness, face_found) of a result image, or (None, None) without an identity."""
    if identity is None:
        return None, None
    score = faces.score(img, identity, threshold=settings.PHOTOS_SAME_PERSON_MAX_DISTANCE)
    return round(score.likeness, 3), score.face_found


def avatar_forget_identities(now: datetime) -> int:
    """Forget the identities no prompt can need any more: of failed avatars, and of finished ones
    trained IDENTITY_KEEP_DAYS ago (their tune is gone at Astria)."""
    gone = now - timedelta(days=IDENTITY_KEEP_DAYS)
    return Avatar.objects.filter(identity__isnull=False).filter(
        Q(state=AvatarState.FAILED) | Q(state=AvatarState.DONE, trained_at__lt=gone)
    ).update(identity=None)


# Edits made from the chosen picture itself rather than from its prompt.
MADE_FROM_THE_PICTURE = frozenset({EditKind.BIGGER, EditKind.EXTEND, EditKind.TOUCHUP})


# --- The guarantee -----------------------------------------------------------------------------


def _mostly_unlike(prompt: Prompt) -> bool | None:
    """Whether most of the prompt's scored images fail likeness; None when none was scored."""
    scores = [s for s in prompt.images.values_list("likeness", flat=True) if s is not None]
    if not scores:
        return None
    failing = sum(1 for s in scores if s < LIKENESS_LOOKS_LIKE)
    return failing / len(scores) > settings.LIKENESS_REDO_SHARE


def prompts_settle_likeness(*, avatar: Avatar) -> None:
    """Judge the avatar's newly finished prompts and settle the redos that finished. The caller
    holds the avatar's row lock, in its transaction."""
    for prompt in avatar.prompts.filter(state=PromptState.DONE, likeness_outcome=LikenessOutcome.NONE):
        unlike = _mostly_unlike(prompt)
        if prompt.redo_of_id is not None:
            # A redo with nothing scored (its images could not be judged) counts against it.
            _set_outcome(prompt, LikenessOutcome.FAILED if unlike in (True, None) else LikenessOutcome.PASSED)
        elif unlike is None:
            continue
        elif not unlike:
            _set_outcome(prompt, LikenessOutcome.PASSED)
        elif not settings.LIKENESS_GUARANTEE or prompt.kind in MADE_FROM_THE_PICTURE:
            # A bigger, extended or touched-up copy of a picture the customer chose starts from that
            # picture, face included: there is no style to make again.
            _set_outcome(prompt, LikenessOutcome.FAILED)
        elif avatar.prompts.count() < settings.FAIR_USE_MAX_PROMPTS:
            _redo(avatar=avatar, original=prompt)
        else:
            _refund(avatar=avatar, original=prompt, expected=LikenessOutcome.NONE)
    for original in avatar.prompts.filter(likeness_outcome=LikenessOutcome.REDOING).select_related("redo"):
        redo = original.redo
        if redo.state == PromptState.FAILED or redo.likeness_outcome == LikenessOutcome.FAILED:
            _refund(avatar=avatar, original=original, expected=LikenessOutcome.REDOING)
        elif redo.likeness_outcome == LikenessOutcome.PASSED:
            _set_outcome(original, LikenessOutcome.REDO_PASSED, expected=LikenessOutcome.REDOING)


def prompts_refund_stopped_redos(*, avatar: Avatar) -> None:
    """The avatar is failing while redos are under way: their originals are refunded, as a failed
    redo's would be. The caller holds the avatar's row lock."""
    for original in avatar.prompts.filter(likeness_outcome=LikenessOutcome.REDOING):
        _refund(avatar=avatar, original=original, expected=LikenessOutcome.REDOING)


def _set_outcome(prompt: Prompt, outcome: str, *, expected: str = LikenessOutcome.NONE, **also) -> bool:
    gallery_changed(avatar_id=prompt.avatar_id)  # its notes and its redo's images are in the gallery
    return bool(
        Prompt.objects.filter(pk=prompt.pk, likeness_outcome=expected).update(
            likeness_outcome=outcome, updated_at=timezone.now(), **also
        )
    )


def _redo(*, avatar: Avatar, original: Prompt) -> None:
    if not _set_outcome(original, LikenessOutcome.REDOING):
        return
    last = avatar.prompts.filter(batch=original.batch).aggregate(last=Max("position"))["last"]
    Prompt.objects.create(
        avatar=avatar,
        batch=original.batch,
        position=last + 1,
        label=original.label,
        theme_slug=original.theme_slug,
        text=original.text,
        negative_prompt=original.negative_prompt,
        num_images=original.num_images,
        cfg_scale=original.cfg_scale,
        steps=original.steps,
        width=original.width,
        height=original.height,
        price=0,
        redo_of=original,
        seed=secrets.randbelow(2**32),
        inpaint_faces=avatar.branch in INPAINT_FACES_BRANCHES,
    )
    enqueue_on_commit(tasks.avatar_submit_prompts, str(avatar.pk))


def _refund(*, avatar: Avatar, original: Prompt, expected: str) -> None:
    if not _set_outcome(original, LikenessOutcome.REFUNDED, expected=expected, refunded=original.price > 0):
        return
    if original.price:
        credit_refund(
            **avatar.payer(original.batch),
            amount=original.price,
            key=f"refund:likeness:prompt:{original.pk}",
            reason=f"Refund: “{original.label}” of “{avatar.name}” did not look like them",
            reference=f"prompt:{original.pk}",
        )

