import uuid
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from studio.avatars import profile_pictures
from studio.avatars.edits import EXTEND_SHAPES, TOUCHUP_EMPTY
from studio.avatars.models import Avatar, GalleryExport, SubjectClass
from studio.themes.selectors import theme_list_for_subject


class AvatarCreateForm(forms.Form):
    name = forms.CharField(
        label="Who is this avatar of?",
        max_length=Avatar._meta.get_field("name").max_length,
        help_text="A name for you to recognise it, for example “Me”, “Grandma” or “Biscuit”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Me"}),
    )
    subject_class = forms.ChoiceField(
        label="The subject is a",
        choices=SubjectClass.choices,
        help_text="This tells the AI what it is learning: a person of this kind, a couple or a pet.",
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the avatar a name.")
        return name


class ConfirmForm(forms.Form):
    """The order's last step: the owner's word that they may use these photos."""

    consent = forms.BooleanField(
        required=True,
        error_messages={
            "required": "Tick the box to confirm these are your photos, or that you have permission to use them."
        },
    )

    def __init__(self, *args, avatar: Avatar, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if avatar.is_pet:
            label = f"These are photos of my pet {avatar.name}, or I have its owner\u2019s permission to use them."
        else:
            label = (
                f"I am {avatar.name} in these photos, or I have {avatar.name}\u2019s permission to make this avatar "
                "(for a child: I am their parent or guardian)."
            )
        self.fields["consent"].label = label


class GenerateMoreForm(forms.Form):
    """More prompts for a finished avatar: themes not used yet and ideas of one's own."""

    themes = forms.MultipleChoiceField(
        label="Themes", required=False, widget=forms.CheckboxSelectMultiple
    )
    custom_texts = forms.CharField(
        label="Your own ideas",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "me as a jazz pianist in a smoky club"}),
        help_text="One idea per line. We add the subject, lighting and quality words for you.",
    )

    def __init__(self, *args, avatar: Avatar, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        used = set(avatar.prompts.exclude(theme_slug="").values_list("theme_slug", flat=True))
        self.themes = [
            theme for theme in theme_list_for_subject(subject_class=avatar.subject_class) if theme.slug not in used
        ]
        self.fields["themes"].choices = [(theme.slug, theme.title) for theme in self.themes]

    def theme_choices(self) -> list:
        """The styles this avatar can still have, for the picker's cards."""
        return self.themes

    def chosen(self) -> dict[str, list[str]]:
        """What the customer picked so far, valid or not (the summary explains what is wrong)."""
        if not self.is_bound:
            return {"themes": [], "custom_texts": []}
        self.is_valid()
        offered = {theme.slug for theme in self.themes}
        themes = [slug for slug in self.data.getlist("themes") if slug in offered]
        texts = [line.strip() for line in self.data.get("custom_texts", "").splitlines() if line.strip()]
        return {"themes": list(dict.fromkeys(themes)), "custom_texts": texts}

    def clean_custom_texts(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["custom_texts"].splitlines() if line.strip()]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("themes") and not cleaned.get("custom_texts"):
            raise forms.ValidationError("Choose at least one theme or write one idea.")
        return cleaned


class UUIDListField(forms.Field):
    """Every value of a repeated query parameter that is a UUID; anything else is left out."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[uuid.UUID]:
        ids = []
        for item in value or []:
            try:
                ids.append(uuid.UUID(str(item)))
            except ValueError:
                continue  # a mangled or stale id: there is simply no such card to update
        return ids


class AvatarListUpdatesForm(forms.Form):
    """The "My avatars" poller's query: the ids of the cards still in progress on the page."""

    id = UUIDListField(required=False)


class AvatarProgressForm(forms.Form):
    """The gallery poller's query: ``since``, when the page was last brought up to date. A time
    without an offset is taken as the site's time zone; a missing or impossible one means
    "everything"."""

    since = forms.DateTimeField(required=False)

    def since_or_beginning(self) -> datetime:
        since = self.cleaned_data.get("since") if self.is_valid() else None
        return since or datetime.min.replace(tzinfo=UTC)


class ExportForm(forms.Form):
    """Which images a zip holds: all of them unless the request asks for the favourites."""

    scope = forms.TypedChoiceField(
        choices=GalleryExport.Scope.choices,
        required=False,
        empty_value=GalleryExport.Scope.ALL,
        error_messages={"invalid_choice": "A zip holds all the images or the favourites; choose one of them."},
    )


class ProfilePictureForm(forms.Form):
    """Which profile picture of an image: its shape and size."""

    shape = forms.ChoiceField(choices=[(shape, shape) for shape in profile_pictures.SHAPES])
    size = forms.TypedChoiceField(choices=[(str(size), size) for size in profile_pictures.SIZES], coerce=int)


class ExtendForm(forms.Form):
    """Which shape an Extend makes of an image."""

    shape = forms.ChoiceField(
        label="Shape", choices=[(shape.name, shape.label) for shape in EXTEND_SHAPES.values()],
        error_messages={"required": "Choose a LinkedIn banner or a full-length portrait."},
    )


class TouchUpForm(forms.Form):
    """What a touch-up changes, in the customer's words (cleaned and filtered by the edit itself)."""

    instruction = forms.CharField(
        label="What should change?",
        strip=True,
        error_messages={"required": TOUCHUP_EMPTY},
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "a navy blazer instead", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        max_chars = settings.THEMES_CUSTOM_PROMPT_MAX_CHARS
        field = self.fields["instruction"]
        field.validators.append(MaxLengthValidator(max_chars))
        field.widget.attrs["maxlength"] = max_chars
        field.help_text = (
            "One change in a few words, such as “a navy blazer instead” or “plain grey background”. "
            f"The face stays as it is. Up to {max_chars} characters."
        )
