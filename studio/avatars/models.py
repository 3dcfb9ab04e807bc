import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from studio.core.models import BaseModel


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


class Avatar(BaseModel):
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

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=AvatarState.values), name="avatar_state_valid"),
            models.CheckConstraint(
                condition=Q(subject_class__in=SubjectClass.values), name="avatar_subject_class_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.subject_class})"

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def is_pet(self) -> bool:
        return self.subject_class in PET_CLASSES

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
