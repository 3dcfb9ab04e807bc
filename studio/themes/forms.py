from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from studio.avatars.models import Avatar


class CustomPromptForm(forms.Form):
    text = forms.CharField(label="Describe a picture", required=False, strip=True)
    idea = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, avatar: Avatar, preview_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        max_chars = settings.THEMES_CUSTOM_PROMPT_MAX_CHARS
        field = self.fields["text"]
        field.validators.append(MaxLengthValidator(max_chars))
        example = "my dog" if avatar.subject_class == "dog" else "my cat" if avatar.is_pet else "me"
        sample = f"{example} as a pirate captain on a stormy sea, oil painting"
        field.help_text = (
            f"Write “{example}” where {avatar.name} should appear. We put {avatar.name} in, add "
            f"quality terms and show you the final prompt. Up to {max_chars} characters."
        )
        attrs = {"rows": 3, "placeholder": sample, "autocomplete": "off"}
        if preview_url:
            attrs |= {
                "hx-get": preview_url,
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#custom-preview",
                "hx-swap": "outerHTML",
            }
        field.widget = forms.Textarea(attrs=attrs)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("text") and not cleaned.get("idea") and not self.has_error("text"):
            self.add_error("text", "Describe the picture you want in a few words.")
        return cleaned


class LibrarySearchForm(forms.Form):
    q = forms.CharField(label="Search the prompt library", required=False, max_length=100)
