"""Writes for training photos: upload, processing in the images worker, deletion, sweeping.

Files live in the default (private) storage under generated names:
`photos/<user id>/<avatar id>/<random>.jpg` and `.webp`, plus the upload itself under
`.../incoming/` until a worker has processed it. Nothing of a refused file is kept.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from studio import faces
from studio.avatars.models import Avatar
from studio.core.tasks import enqueue_on_commit
from studio.photos import intake, judgement
from studio.photos.exceptions import PhotoLimitReached, PhotosLocked, PhotosStillProcessing
from studio.photos.imaging import ImageRefused
from studio.photos.models import Photo, PhotoVerdict
from studio.photos.quality import REFUSE, Finding
from studio.photos.selectors import photo_count_processing_for_user, photo_get_for_user
from studio.photos.tasks import photo_process as photo_process_task

logger = logging.getLogger(__name__)


PHOTOS_LOCKED_MESSAGE = "This avatar has been ordered, so its photos can no longer be changed."


def photo_folder(avatar: Avatar) -> str:
    return f"photos/{avatar.user_id}/{avatar.pk}"


def display_name(name: str | None) -> str:
    """The browser's file name, made safe to show (it is never used as a path)."""
    printable = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    return printable[: Photo._meta.get_field("original_name").max_length] or "photo"


# --- Upload (in the request) -----------------------------------------------------------------


@transaction.atomic
def photo_upload(*, user: User, avatar: Avatar, upload: UploadedFile) -> Photo:
    """Take one uploaded file for a draft avatar.

    Only cheap checks happen here (size, and the header's format, pixel count and shape). A file
    that fails them becomes a refused photo with no file kept. Otherwise the upload is stored
    privately and the images worker decodes, normalises and checks it (`photo_process`).
    """
    avatar = _lock_draft_avatar(user=user, avatar_id=avatar.pk)
    room = settings.PHOTOS_MAX_PER_AVATAR - Photo.objects.filter(avatar=avatar).exclude(
        verdict=PhotoVerdict.REJECTED
    ).count()
    if room <= 0:
        raise PhotoLimitReached(
            f"This avatar already has {settings.PHOTOS_MAX_PER_AVATAR} photos, the most it can use. "
            "Remove one to add another."
        )
    # Counted under this avatar's lock only: uploads to two avatars at the same instant may each
    # take the last place. The quota keeps one user from filling the shared queue; one over is harmless.
    if photo_count_processing_for_user(user=user) >= settings.PHOTOS_MAX_PROCESSING:
        raise PhotosStillProcessing(
            f"You have {settings.PHOTOS_MAX_PROCESSING} photos being checked right now. "
            "Wait for them to be checked, then add the rest."
        )
    name = display_name(upload.name)
    limits = intake.PhotoLimits.from_settings()
    try:
        intake.check_upload(upload, size=upload.size, limits=limits)
    except ImageRefused as refusal:
        return _photo_create_refused(avatar=avatar, name=name, refusal=refusal)

    photo = Photo(avatar=avatar, original_name=name)
    photo.incoming.name = default_storage.save(f"{photo_folder(avatar)}/incoming/{photo.pk}", upload)
    try:
        photo.save()
    except Exception:
        default_storage.delete(photo.incoming.name)
        raise
    enqueue_on_commit(photo_process_task, str(photo.pk))
    return photo


@transaction.atomic
def photo_upload_dropped(*, user: User, avatar: Avatar, name: str) -> Photo:
    """Record a file the upload limits dropped while it streamed in (it was over the size cap)."""
    avatar = _lock_draft_avatar(user=user, avatar_id=avatar.pk)
    refusal = intake.file_too_large(None, limits=intake.PhotoLimits.from_settings())
    return _photo_create_refused(avatar=avatar, name=display_name(name), refusal=refusal)


def _photo_create_refused(*, avatar: Avatar, name: str, refusal: ImageRefused) -> Photo:
    photo = Photo.objects.create(
        avatar=avatar,
        original_name=name,
        verdict=PhotoVerdict.REJECTED,
        findings=[Finding(refusal.code, REFUSE, refusal.message).as_dict()],
    )
    _prune_refused(avatar=avatar)
    return photo


def _prune_refused(*, avatar: Avatar) -> None:
    """Refused photos are only there to explain themselves: keep the most recent few. (A photo the
    set refused, as someone else's, keeps its files: it comes back if the set changes its mind.)"""
    refused = Photo.objects.filter(avatar=avatar, verdict=PhotoVerdict.REJECTED)
    newest = refused.order_by("-created_at", "-id").values_list("pk", flat=True)
    keep = list(newest[: settings.PHOTOS_MAX_PER_AVATAR])
    pruned = list(refused.exclude(pk__in=keep))
    if pruned:
        names = _file_names(pruned)
        Photo.objects.filter(pk__in=[p.pk for p in pruned]).delete()
        transaction.on_commit(lambda: _delete_files(names))


def _lock_draft_avatar(*, user: User, avatar_id: uuid.UUID) -> Avatar:
    """The user's avatar, locked for this transaction; refuses unless it is still a draft."""
    avatar = Avatar.objects.select_for_update().get(pk=avatar_id, user=user)
    if not avatar.is_draft:
        raise PhotosLocked(PHOTOS_LOCKED_MESSAGE)
    return avatar


# --- Processing (in the images worker) -------------------------------------------------------


def photo_process(*, photo_id: uuid.UUID | str) -> None:
    """Decode, normalise and check an uploaded photo, store the clean copies, record the verdict.

    Safe to run twice or concurrently: the verdict is written only from `processing`, and a run
    that loses (or finds the photo deleted meanwhile) removes the files it wrote.
    """
    claimed = Photo.objects.filter(
        pk=photo_id, verdict=PhotoVerdict.PROCESSING, attempts__lt=settings.PHOTOS_PROCESSING_MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    if not claimed:
        # Already finished, deleted, or it failed too often (it may be killing workers).
        photo_fail(photo_id=photo_id)
        return
    photo = Photo.objects.select_related("avatar").filter(pk=photo_id).first()
    if photo is None:
        return
    try:
        with default_storage.open(photo.incoming.name, "rb") as upload:
            data = upload.read()
    except (OSError, ValueError):  # deleted meanwhile, or the storage lost it
        photo_fail(photo_id=photo_id)
        return

    result = intake.process(
        data,
        expected_faces=intake.expected_faces_for(photo.avatar.subject_class),
        limits=intake.PhotoLimits.from_settings(),
    )
    del data
    written: list[str] = []
    fields = {}
    if result.verdict != intake.REJECTED:
        folder = photo_folder(photo.avatar)
        for content, extension in ((result.jpeg, "jpg"), (result.thumbnail, "webp")):
            name = f"{folder}/{uuid.uuid4().hex}.{extension}"
            written.append(default_storage.save(name, ContentFile(content)))
        fields = {
            "image": written[0],
            "thumbnail": written[1],
            "width": result.width,
            "height": result.height,
            "bytes": len(result.jpeg),
            "dhash": f"{result.dhash:016x}",
            "analysis": result.analysis.as_dict() if result.analysis else None,
        }
    elif result.thumbnail:  # refused, but it decoded: its owner sees which photo it was
        name = f"{photo_folder(photo.avatar)}/{uuid.uuid4().hex}.webp"
        written.append(default_storage.save(name, ContentFile(result.thumbnail)))
        fields = {"thumbnail": written[0]}
    with transaction.atomic():
        _lock_avatar_row(photo.avatar_id)
        finished = Photo.objects.filter(pk=photo.pk, verdict=PhotoVerdict.PROCESSING).update(
            verdict=result.verdict,
            findings=[f.as_dict() for f in result.findings],
            incoming="",
            updated_at=timezone.now(),
            **fields,
        )
        if finished and result.verdict != intake.REJECTED:
            _judge_set(avatar=photo.avatar)
    if not finished:
        _delete_files(written)
    _delete_files([photo.incoming.name])


def photo_fail(*, photo_id: uuid.UUID | str) -> None:
    """Give up on a photo still being processed: refused with an apology, its upload deleted."""
    photo = Photo.objects.filter(pk=photo_id, verdict=PhotoVerdict.PROCESSING).first()
    if photo is None:
        return
    finding = Finding(
        "processing_failed",
        REFUSE,
        "Something went wrong while we checked this photo. Please add it again, or choose another.",
    )
    failed = Photo.objects.filter(pk=photo.pk, verdict=PhotoVerdict.PROCESSING).update(
        verdict=PhotoVerdict.REJECTED, findings=[finding.as_dict()], incoming="", updated_at=timezone.now()
    )
    if failed:
        logger.warning("photo %s: processing failed after %s attempt(s)", photo.pk, photo.attempts)
        _delete_files([photo.incoming.name])


def photo_sweep() -> None:
    """Beat: re-enqueue photos whose processing was lost (broker down, worker killed), and give
    up on those that keep failing or have waited too long."""
    now = timezone.now()
    stale = Photo.objects.filter(
        verdict=PhotoVerdict.PROCESSING,
        updated_at__lt=now - timedelta(seconds=settings.PHOTOS_PROCESSING_RETRY_AFTER),
    )
    give_up = now - timedelta(seconds=settings.PHOTOS_PROCESSING_GIVE_UP_AFTER)
    for photo in stale.only("pk", "attempts", "created_at", "updated_at"):
        if photo.attempts >= settings.PHOTOS_PROCESSING_MAX_ATTEMPTS or photo.created_at < give_up:
            photo_fail(photo_id=photo.pk)
            continue
        with transaction.atomic():
            if stale.filter(pk=photo.pk, updated_at=photo.updated_at).update(updated_at=now):
                enqueue_on_commit(photo_process_task, str(photo.pk))


# --- The set ---------------------------------------------------------------------------------


def _lock_avatar_row(avatar_id: uuid.UUID) -> None:
    # Serialises the set's judgement per avatar (a no-op on SQLite, which locks the file): two
    # photos finishing at once each judge the set with the other's analysis in it.
    list(Avatar.objects.select_for_update().filter(pk=avatar_id).values_list("pk", flat=True))


def _judge_set(*, avatar: Avatar) -> None:
    """Judge the avatar's photos again as one set (`studio.photos.judgement`), from the analyses
    stored with them, and write each photo's set findings, verdict and whether it counts. Call
    with the avatar's row locked. Photos still being checked, and photos refused on their own
    (they keep no file), are left alone."""
    photos = list(Photo.objects.filter(avatar_id=avatar.pk).exclude(verdict=PhotoVerdict.PROCESSING)
                  .exclude(image="").order_by("created_at", "id"))
    own = {p.pk: [f for f in p.findings if f["code"] not in judgement.SET_CODES] for p in photos}
    members = [
        judgement.Member(
            key=p.pk,
            name=p.original_name,
            analysis=faces.Analysis.from_dict(p.analysis) if p.analysis else None,
            dhash=p.dhash_int,
        )
        for p in photos
        if intake.verdict_for([Finding.from_dict(f) for f in own[p.pk]]) != intake.REJECTED
    ]
    verdicts = judgement.judge(
        members, subject=judgement.subject_for(avatar.subject_class), limits=judgement.SetLimits.from_settings()
    )
    for photo in photos:
        findings = own[photo.pk] + [f.as_dict() for f in verdicts.findings.get(photo.pk, [])]
        verdict = intake.verdict_for([Finding.from_dict(f) for f in findings])
        counted = photo.pk in verdicts.counted
        if (findings, verdict, counted) != (photo.findings, photo.verdict, photo.counted):
            Photo.objects.filter(pk=photo.pk).exclude(verdict=PhotoVerdict.PROCESSING).update(
                findings=findings, verdict=verdict, counted=counted, updated_at=timezone.now()
            )


# --- Deletion --------------------------------------------------------------------------------


@transaction.atomic
def photo_delete(*, user: User, photo_id: uuid.UUID, avatar_id: uuid.UUID | None = None) -> None:
    """Remove one photo of a draft avatar, files included. Raises Photo.DoesNotExist for a photo
    that is not the user's (or not of `avatar_id`, when given), PhotosLocked once the avatar is
    ordered."""
    photo = photo_get_for_user(user=user, avatar_id=avatar_id, photo_id=photo_id)
    _lock_draft_avatar(user=user, avatar_id=photo.avatar_id)
    names = _file_names([photo])
    photo.delete()
    _judge_set(avatar=photo.avatar)
    transaction.on_commit(lambda: _delete_files(names))


@transaction.atomic
def photo_delete_all_for_avatar(*, avatar: Avatar) -> int:
    """Delete every photo of the avatar, rows and files, whatever its state (for retention and
    avatar deletion). Returns how many photos there were."""
    _lock_avatar_row(avatar.pk)  # no upload can add a photo while we list them
    photos = list(Photo.objects.filter(avatar=avatar))
    names = _file_names(photos)
    Photo.objects.filter(pk__in=[p.pk for p in photos]).delete()
    transaction.on_commit(lambda: _delete_files(names))
    return len(photos)


def _file_names(photos: Iterable[Photo]) -> list[str]:
    return [f.name for p in photos for f in (p.incoming, p.image, p.thumbnail) if f.name]


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("could not delete stored photo file %s", name)
