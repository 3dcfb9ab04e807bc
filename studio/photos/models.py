import uuid

from django.db import models
from django.db.models import Q

from studio.core.models import BaseModel
from studio.photos import intake
from studio.photos.quality import REFUSE, WARN


class PhotoVerdict(models.TextChoices):
    PROCESSING = "processing", "Checking"
    ACCEPTED = intake.ACCEPTED, "Accepted"
    WARNED = intake.WARNED, "Accepted with warnings"
    REJECTED = intake.REJECTED, "Refused"


KEPT_VERDICTS = (PhotoVerdict.ACCEPTED, PhotoVerdict.WARNED)


class Photo(BaseModel):
    """One training photo of an avatar: a normalised JPEG and a WebP thumbnail in private
    storage, the verdict of the checks and what they found.

    Refused photos keep no file at all, only the name the browser gave and the findings, so the
    owner can see why. The upload itself sits in `incoming` only until a worker has processed it.
    """

    Verdict = PhotoVerdict

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    avatar = models.ForeignKey("avatars.Avatar", on_delete=models.CASCADE, related_name="photos")
    verdict = models.CharField(max_length=12, choices=PhotoVerdict, default=PhotoVerdict.PROCESSING)
    # [{"code": "blurry", "level": "warn", "message": "This photo looks a little blurry. ..."}]
    findings = models.JSONField(default=list, blank=True)
    original_name = models.CharField(max_length=120, blank=True, help_text="Shown to the owner only.")
    incoming = models.FileField(max_length=255, blank=True)
    image = models.FileField(max_length=255, blank=True)
    thumbnail = models.FileField(max_length=255, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveIntegerField(null=True, blank=True, help_text="Size of the normalised JPEG.")
    dhash = models.CharField(max_length=16, blank=True, help_text="64-bit perceptual hash, hex.")
    # The faces the images worker found (`studio.faces.Analysis.as_dict()`): descriptors are
    # biometric data, so they live only here, go with the row, and are never logged or shown.
    analysis = models.JSONField(null=True, blank=True, editable=False)
    # Counts toward the photos an avatar needs and is trained on: false for a repeat of another
    # photo's shot (the set's judgement, `studio.photos.judgement`).
    counted = models.BooleanField(default=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["avatar", "verdict"])]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=PhotoVerdict.values), name="photo_verdict_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name or self.pk} ({self.verdict})"

    @property
    def is_processing(self) -> bool:
        return self.verdict == PhotoVerdict.PROCESSING

    @property
    def is_kept(self) -> bool:
        return self.verdict in KEPT_VERDICTS

    @property
    def counts(self) -> bool:
        return self.is_kept and self.counted

    @property
    def refusals(self) -> list[dict]:
        return [f for f in self.findings if f.get("level") == REFUSE]

    @property
    def warnings(self) -> list[dict]:
        return [f for f in self.findings if f.get("level") == WARN]

    @property
    def dhash_int(self) -> int | None:
        return int(self.dhash, 16) if self.dhash else None
