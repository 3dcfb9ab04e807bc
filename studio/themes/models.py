from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from studio.avatars.models import PERSON_CLASSES, PET_CLASSES, Avatar, SubjectClass
from studio.core.models import BaseModel
from studio.themes.prompting import ASPECT_RATIOS, SUBJECT

DEFAULT_COVER = "themes/covers/_default.webp"

# Names the catalogue may use for sets of classes, besides the classes themselves.
SUBJECT_GROUPS: dict[str, frozenset[str]] = {
    "all": frozenset(SubjectClass.values),
    "people": frozenset(PERSON_CLASSES),
    "pets": frozenset(PET_CLASSES),
    "adults": frozenset({SubjectClass.MAN, SubjectClass.WOMAN, SubjectClass.PERSON}),
    "kids": frozenset({SubjectClass.BOY, SubjectClass.GIRL}),
    "children": frozenset({SubjectClass.BOY, SubjectClass.GIRL, SubjectClass.BABY}),
}


def expand_subject_groups(names: list[str]) -> list[str]:
    """``["adults", "couple"]`` → the class values, in the order of SubjectClass."""
    wanted: set[str] = set()
    for name in names:
        if name in SUBJECT_GROUPS:
            wanted |= SUBJECT_GROUPS[name]
        elif name in SubjectClass.values:
            wanted.add(name)
        else:
            raise ValueError(f"unknown subject class or group {name!r}")
    return [value for value in SubjectClass.values if value in wanted]


class Theme(BaseModel):
    """A curated style: one prompt of IMAGES_PER_PROMPT images for the subject.

    Loaded from studio/themes/data/themes.toml (migration and `manage.py sync_themes`); staff may
    hide, reorder and edit themes in the admin, and the sync keeps those edits (`synced` remembers
    what the file said last time, so a field that differs from it was edited here).
    """

    AspectRatio = models.TextChoices("AspectRatio", [(ratio, ratio) for ratio in ASPECT_RATIOS])

    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=60)
    description = models.CharField(max_length=160, help_text="One line shown on the card.")
    tags = models.JSONField(default=list, blank=True, help_text="Lower-case words used by the tag filter.")
    subject_classes = models.JSONField(default=list, help_text="The subject classes this theme suits.")
    prompt = models.TextField(help_text="The prompt, with {subject} where the subject goes (once).")
    negative_prompt = models.TextField(blank=True, help_text="Empty: the default negative prompt.")
    cfg_scale = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(15)],
        help_text="Empty: Astria's default. Not sent on Flux.",
    )
    steps = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Empty: Astria's default. Not sent on Flux.",
    )
    aspect_ratio = models.CharField(
        max_length=5, choices=AspectRatio, blank=True, help_text="Empty: Astria's default size."
    )
    cover = models.CharField(max_length=200, blank=True, help_text="Static path of the cover image.")
    cover_pet = models.CharField(
        max_length=200, blank=True, help_text="Static path of the cover shown to pets, if it differs."
    )
    cover_alt = models.CharField(max_length=160, blank=True, help_text="What the cover shows.")
    position = models.IntegerField(default=0, help_text="Lower comes first.")
    is_active = models.BooleanField(default=True, help_text="Hidden themes are not offered.")
    synced = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["position", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cfg_scale__isnull=True) | Q(cfg_scale__gte=0, cfg_scale__lte=15),
                name="theme_cfg_scale_range",
            ),
            models.CheckConstraint(
                condition=Q(steps__isnull=True) | Q(steps__gte=1, steps__lte=50), name="theme_steps_range"
            ),
            models.CheckConstraint(
                condition=Q(aspect_ratio__in=["", *ASPECT_RATIOS]), name="theme_aspect_ratio_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.prompt.count(SUBJECT) != 1:
            raise ValidationError({"prompt": "The prompt must contain {subject} exactly once."})
        unknown = set(self.subject_classes) - set(SubjectClass.values)
        if unknown or not self.subject_classes:
            raise ValidationError({"subject_classes": "Choose at least one subject class."})

    def suits(self, subject_class: str) -> bool:
        return subject_class in self.subject_classes

    def cover_path(self, *, pet: bool = False) -> str:
        """The static path of the card's cover: the pet one for pets when there is one."""
        return (self.cover_pet if pet and self.cover_pet else self.cover) or DEFAULT_COVER


class PromptIdea(BaseModel):
    """A curated prompt from the library, written the way a user would ("me as ...", "my pet ...")."""

    class Suits(models.TextChoices):
        PEOPLE = "people", "People"
        PETS = "pets", "Pets"
        ALL = "all", "Everyone"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=80)
    text = models.TextField()
    keywords = models.CharField(max_length=300, help_text="Space-separated words people search for.")
    suits = models.CharField(max_length=6, choices=Suits, default=Suits.ALL)
    position = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    synced = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["position", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(suits__in=["people", "pets", "all"]), name="prompt_idea_suits_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ChosenTheme(BaseModel):
    """A theme the user picked for a draft avatar."""

    avatar = models.ForeignKey(Avatar, on_delete=models.CASCADE, related_name="chosen_themes")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="choices")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["avatar", "theme"], name="chosen_theme_unique")]

    def __str__(self) -> str:
        return f"{self.theme} for {self.avatar}"


class CustomPrompt(BaseModel):
    """A prompt the user wrote for a draft avatar.

    ``text`` is what they typed, ``cleaned`` the same after cleaning, and ``template`` the final
    text with ``{subject}`` where the subject goes; the token and class are put in when planning,
    because they depend on the branch the avatar is trained on.
    """

    avatar = models.ForeignKey(Avatar, on_delete=models.CASCADE, related_name="custom_prompts")
    text = models.TextField()
    cleaned = models.TextField()
    template = models.TextField()
    idea = models.ForeignKey(
        PromptIdea,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="uses",
        help_text="The library prompt it came from, if any.",
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.cleaned
