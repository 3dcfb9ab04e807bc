import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from studio.core.models import BaseModel, ExportState
from studio.core.schema import unique_exact


class SubjectClass(models.TextChoices):
    """The class word Astria trains the subject as (`sks man`, `sks dog`)."""

    MAN = "man", "Man"
    WOMAN = "woman", "Woman"
    BOY = "boy", "Boy"
    GIRL = "girl", "Girl"
    BABY = "baby", "Baby"
    PERSON = "person", "Person"
    COUPLE = "couple", "Couple"
    DOG = "dog", "Dog"
    CAT = "cat", "Cat"


PET_CLASSES = frozenset({SubjectClass.DOG, SubjectClass.CAT})
PERSON_CLASSES = frozenset(set(SubjectClass) - PET_CLASSES)


class AvatarState(models.TextChoices):
    DRAFT = "draft", "Collecting photos"
    QUEUED = "queued", "Queued"
    SUBMITTED = "submitted", "Submitted"
    TRAINING = "training", "Training"
    GENERATING = "generating", "Generating"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# The avatar's tune exists at Astria and the pipeline still has to move it forward.
IN_FLIGHT = (AvatarState.SUBMITTED, AvatarState.TRAINING, AvatarState.GENERATING)


class CallbackTarget(models.Model):
    """Something Astria calls back about: it owns a random token carried in its callback URL.

    Only a hash of the token is stored (for lookup; each subclass declares it unique in its Meta);
    the token itself is derived from a random per-object nonce and the server's secret, so it can be
    rebuilt for a retried request.
    """

    callback_nonce = models.CharField(max_length=32, blank=True, editable=False)
    callback_token_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class Avatar(CallbackTarget, BaseModel):
    """One subject, its training photos, one Astria tune and the images generated from it.

    The primary key is a UUID; it is also the tune's title at Astria, so a retried create can be
    recognised.
    """

    State = AvatarState

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="avatars")
    name = models.CharField(max_length=60)
    subject_class = models.CharField(max_length=10, choices=SubjectClass)
    state = models.CharField(max_length=12, choices=AvatarState, default=AvatarState.DRAFT, db_index=True)

    branch = models.CharField(max_length=16, blank=True)
    tune_id = models.BigIntegerField(null=True, blank=True, unique=True)
    tune_eta = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True, db_index=True)  # the dashboard counts by day
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)  # Astria spend by day
    trained_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(
        null=True, blank=True, default=timezone.now,
        help_text="When the reconciler next looks at it, while in flight (schedule.py).",
    )
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    submit_crashes = models.PositiveSmallIntegerField(
        default=0, help_text="Submits that died while talking to Astria (their claim ran out)."
    )
    submitting_since = models.DateTimeField(
        null=True, blank=True, help_text="Set while one submit talks to Astria, so no other creates a tune too."
    )
    tune_price = models.PositiveSmallIntegerField(default=0, help_text="Credits paid for training.")
    failure_reason = models.CharField(max_length=500, blank=True)
    photos_purged_at = models.DateTimeField(null=True, blank=True)
    # The face the training photos agree on (a person's dlib descriptor, 128 floats), kept from
    # the order on so delivered portraits are scored after the photos are purged. Biometric data:
    # it goes with the row, is forgotten once no prompt can be made (studio/avatars/likeness.py),
    # and is never logged, shown or sent to Astria.
    identity = models.JSONField(null=True, blank=True, editable=False)
    gallery_version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Counts changes to what the gallery shows; its cached grid is keyed on it."
    )
    consent_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the owner confirmed, before ordering, that they are the subject or have its permission.",
    )
    pool = models.ForeignKey(
        "credits.CreditPool", on_delete=models.PROTECT, null=True, blank=True, related_name="avatars",
        help_text="The shared pool (an organisation's) that pays for its first order, and gets its refunds.",
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("refund_avatar", "Can refund an avatar's credits"),
            ("delete_avatar_tune", "Can delete an avatar's tune at Astria"),
        ]
        constraints = [
            unique_exact("avatars_avatar", "callback_token_hash"),
            models.CheckConstraint(condition=Q(state__in=AvatarState.values), name="avatar_state_valid"),
            models.CheckConstraint(
                condition=Q(subject_class__in=SubjectClass.values), name="avatar_subject_class_valid"
            ),
        ]
        indexes = [
            # The reconciler's due query: in-flight avatars by next check, oldest first.
            models.Index(
                fields=["next_check_at"],
                condition=Q(state__in=["queued", "submitted", "training", "generating"]),
                name="avatar_due_check",
            ),
            # The give-up sweep: tunes still training long after their submit.
            models.Index(
                fields=["submitted_at"], condition=Q(state__in=["submitted", "training"]), name="avatar_tune_age"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.subject_class})"

    def get_absolute_url(self) -> str:
        return reverse("avatars:detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def is_pet(self) -> bool:
        return self.subject_class in PET_CLASSES

    @property
    def is_lora(self) -> bool:
        """A LoRA tune takes its prompts once trained, on the base tune (a checkpoint at once, on itself)."""
        return self.branch in settings.ASTRIA_LORA_BRANCHES

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    def payer(self, batch: int = 0) -> dict:
        """Who paid for a batch of its prompts, and so gets their refunds: a pool pays only for the
        first order (batch 0, the training with it); whatever the owner adds later is their own."""
        return {"user": self.user, "pool": self.pool if batch == 0 else None}


class PromptState(models.TextChoices):
    PENDING = "pending", "Waiting"
    SUBMITTED = "submitted", "Generating"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class LikenessOutcome(models.TextChoices):
    """What a finished prompt's images meant for the likeness guarantee (people only)."""

    NONE = "", "Not judged"
    PASSED = "passed", "Looks like them"
    FAILED = "failed", "Mostly not like them"  # a redo's verdict: its original is refunded
    REDOING = "redoing", "Generating again, free"
    REDO_PASSED = "redo_passed", "Generated again"
    REFUNDED = "refunded", "Refunded"


class EditKind(models.TextChoices):
    """What a prompt is: a style of the order (or of "generate more"), or an edit of one image."""

    STYLE = "", "Style"
    MORE = "more", "More like this"
    EXTEND = "extend", "Extend"
    BIGGER = "bigger", "Bigger"
    TOUCHUP = "touchup", "Touch-up"


class Prompt(CallbackTarget, BaseModel):
    """One prompt run on the avatar's tune: up to 8 images of one theme or custom idea, or an edit
    of one delivered image (`source_image`), made and paid for the same way."""

    State = PromptState
    Kind = EditKind

    avatar = models.ForeignKey(Avatar, on_delete=models.CASCADE, related_name="prompts")
    batch = models.PositiveSmallIntegerField(
        default=0, help_text="0 for the first order, then 1, 2... for each “generate more”."
    )
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=120)
    theme_slug = models.SlugField(max_length=80, blank=True)
    text = models.TextField()
    negative_prompt = models.TextField(blank=True)
    num_images = models.PositiveSmallIntegerField()
    cfg_scale = models.FloatField(null=True, blank=True)
    steps = models.PositiveSmallIntegerField(null=True, blank=True)
    width = models.PositiveSmallIntegerField(null=True, blank=True)
    height = models.PositiveSmallIntegerField(null=True, blank=True)
    price = models.PositiveSmallIntegerField(default=0, help_text="Credits paid for this prompt.")
    state = models.CharField(max_length=10, choices=PromptState, default=PromptState.PENDING, db_index=True)
    astria_prompt_id = models.BigIntegerField(null=True, blank=True, unique=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)  # Astria spend by day
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(
        null=True, blank=True, default=timezone.now,
        help_text="When the reconciler next reads it at Astria, while submitted (unset while its tune trains).",
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    refunded = models.BooleanField(default=False)
    liked = models.BooleanField(default=False)
    # The likeness guarantee: a style whose images mostly do not look like the person is made once
    # more, free, as a prompt of its own with a new seed (`redo_of` its original).
    redo_of = models.OneToOneField(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="redo", editable=False
    )
    seed = models.PositiveBigIntegerField(null=True, blank=True)
    inpaint_faces = models.BooleanField(default=False)
    likeness_outcome = models.CharField(max_length=12, choices=LikenessOutcome, blank=True, default="")
    kind = models.CharField(max_length=8, choices=EditKind, blank=True, default=EditKind.STYLE)
    source_image = models.ForeignKey(
        "GeneratedImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="edits",
        help_text="The delivered image this edit was made from.",
    )
    edit_option = models.CharField(
        max_length=16, blank=True, help_text="The form an edit takes: the shape an Extend makes (banner, full_length)."
    )
    astria_tune_id = models.BigIntegerField(
        null=True, blank=True,
        help_text="The Astria tune the prompt runs on when not the avatar's own (a touch-up on the edit model's).",
    )

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            unique_exact("avatars_prompt", "callback_token_hash"),
            models.UniqueConstraint(fields=["avatar", "batch", "position"], name="prompt_unique_position"),
            models.CheckConstraint(condition=Q(state__in=PromptState.values), name="prompt_state_valid"),
            models.CheckConstraint(condition=Q(num_images__gte=1, num_images__lte=8), name="prompt_num_images_1_8"),
            models.CheckConstraint(
                condition=Q(likeness_outcome__in=LikenessOutcome.values), name="prompt_likeness_outcome_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=EditKind.values), name="prompt_kind_valid"),
        ]
        indexes = [
            # The reconciler's due query: submitted prompts by next check, oldest first.
            models.Index(
                fields=["next_check_at"],
                condition=Q(state="submitted", next_check_at__isnull=False),
                name="prompt_due_check",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_finished(self) -> bool:
        return self.state in (PromptState.DONE, PromptState.FAILED)

    @property
    def is_edit(self) -> bool:
        return self.kind != EditKind.STYLE

    @property
    def edit_name(self) -> str:
        """An edit in a few words, for the links to it: its kind, an Extend's shape, a touch-up's words."""
        if self.kind == EditKind.EXTEND:
            return self.label.partition(":")[0]
        if self.kind == EditKind.TOUCHUP:
            words = self.text if len(self.text) <= 32 else self.text[:31].rstrip() + "…"
            return f"Touch-up “{words}”"
        return self.get_kind_display()

    @property
    def tune_at_astria(self) -> int | None:
        """The Astria tune the prompt is created on and read from: its own (a touch-up's edit
        model), else a LoRA's base tune, else the avatar's tune."""
        if self.astria_tune_id:
            return self.astria_tune_id
        return settings.ASTRIA_BASE_TUNE_ID if self.avatar.is_lora else self.avatar.tune_id

    @property
    def placeholders(self) -> range:
        return range(self.num_images)


# Likeness scores (studio.faces.likeness): 0.5 is exactly the same-person threshold.
LIKENESS_LOOKS_LIKE = 0.5
LIKENESS_STRONG = 0.8
LIKENESS_WEAK = 0.3


def _image_path(instance: "GeneratedImage", filename: str) -> str:
    return f"images/{instance.avatar.user_id}/{instance.avatar_id}/{filename}"


class GeneratedImage(BaseModel):
    """One image Astria made, copied into our own storage with a WebP thumbnail."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    avatar = models.ForeignKey(Avatar, on_delete=models.CASCADE, related_name="images")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    image = models.FileField(upload_to=_image_path, max_length=200)
    thumbnail = models.FileField(upload_to=_image_path, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    thumb_width = models.PositiveIntegerField()
    thumb_height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    is_favourite = models.BooleanField(default=False)
    # How much the portrait looks like the avatar's person, 0-1 (0.5 at the same-person threshold),
    # and whether it shows a face at all; both null when not scored (pets, couples).
    likeness = models.FloatField(null=True, blank=True)
    face_found = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["prompt__batch", "prompt__position", "index"]
        constraints = [models.UniqueConstraint(fields=["prompt", "index"], name="image_unique_per_prompt_index")]

    def __str__(self) -> str:
        return f"{self.prompt.label} #{self.index + 1}"

    @property
    def looks_like(self) -> bool:
        """Whether it passes likeness (an image not scored does)."""
        return self.likeness is None or self.likeness >= LIKENESS_LOOKS_LIKE

    @property
    def likeness_words(self) -> str:
        """The score in the words the gallery shows; empty when the image was not scored."""
        if self.likeness is None:
            return ""
        if not self.face_found:
            return "No face found"
        if self.likeness >= LIKENESS_STRONG:
            return "Strong likeness"
        if self.likeness >= LIKENESS_LOOKS_LIKE:
            return "Good likeness"
        if self.likeness >= LIKENESS_WEAK:
            return "Weak likeness"
        return "May not look like you"


class CallbackEvent(models.Model):
    """A callback from Astria, recorded once (a replay of the same body is the same event); it goes
    with its avatar, since it carries the prompts' texts and the images' addresses."""

    class Kind(models.TextChoices):
        TUNE = "tune", "Tune"
        PROMPT = "prompt", "Prompt"

    kind = models.CharField(max_length=8, choices=Kind)
    avatar = models.ForeignKey(Avatar, on_delete=models.CASCADE, null=True, blank=True, related_name="callback_events")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, null=True, blank=True, related_name="callback_events")
    digest = models.CharField(max_length=64)
    body = models.TextField(help_text="The body as received, with callback tokens redacted.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [unique_exact("avatars_callbackevent", "digest")]

    def __str__(self) -> str:
        return f"{self.kind} callback at {self.received_at:%Y-%m-%d %H:%M:%S}"


class AstriaTuneDeletion(BaseModel):
    """A tune to delete at Astria; retried until Astria confirms, even after our rows are gone.

    By its id, or by its title (the avatar's id) when a submit cut short never learned the id: then
    the tune may or may not exist, and one found is deleted. A LoRA tune's prompts live on the
    shared base tune, which deleting the LoRA leaves alone: they are deleted first, one by one."""

    tune_id = models.BigIntegerField(unique=True, null=True, blank=True)
    title = models.CharField(max_length=64, blank=True, db_index=True)
    prompts = models.JSONField(
        default=list, blank=True, help_text="[base tune id, prompt id] of the prompts still to delete first."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(tune_id__isnull=False) | ~Q(title=""), name="tune_deletion_names_a_tune"
            )
        ]

    def __str__(self) -> str:
        return f"tune {self.tune_id}" if self.tune_id is not None else f"tune titled {self.title}"


class GalleryExport(BaseModel):
    """A zip of an avatar's images (all of them or the favourites), built by a task."""

    class Scope(models.TextChoices):
        ALL = "all", "All images"
        FAVOURITES = "favourites", "Favourites"

    State = ExportState

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    avatar = models.ForeignKey(Avatar, on_delete=models.CASCADE, related_name="exports")
    scope = models.CharField(max_length=12, choices=Scope)
    state = models.CharField(max_length=10, choices=State, default=State.BUILDING)
    file = models.FileField(upload_to="exports/", blank=True, max_length=200)
    image_count = models.PositiveIntegerField(default=0)
    bytes = models.PositiveIntegerField(default=0)
    # A digest of the ids of the images it holds: asking again for the same images reuses it.
    fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} of {self.avatar}"
