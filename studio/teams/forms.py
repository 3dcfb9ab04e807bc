from django import forms
from django.core.validators import validate_email

from studio.avatars.models import SubjectClass
from studio.teams.services import TEAM_CLASSES


class OrganisationForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=80)


class StartForm(forms.Form):
    """The member's own avatar: how their portraits name and describe them."""

    name = forms.CharField(label="Your name", max_length=60, help_text="As your portraits' captions show it.")
    subject_class = forms.ChoiceField(
        label="Describe you as a",
        choices=[(value, SubjectClass(value).label) for value in TEAM_CLASSES],
        initial=SubjectClass.PERSON,
    )


class InviteEmailForm(forms.Form):
    emails = forms.CharField(
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ada@example.com, grace@example.com"}),
        help_text="One or more, separated by commas or new lines. Each gets a personal invitation.",
    )

    def clean_emails(self) -> list[str]:
        addresses = [part.strip() for part in self.cleaned_data["emails"].replace(",", "\n").split("\n")]
        addresses = [address for address in addresses if address]
        if len(addresses) > 50:
            raise forms.ValidationError("Invite at most 50 people at once.")
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"“{address}” is not an email address.") from None
        if not addresses:
            raise forms.ValidationError("Write at least one email address.")
        return addresses


class InviteLinkForm(forms.Form):
    max_uses = forms.IntegerField(label="People it admits", min_value=1, initial=10)
    days = forms.IntegerField(label="Open for (days)", min_value=1, max_value=90, initial=14)
    email_domain = forms.CharField(
        label="Only addresses at (optional)", max_length=120, required=False,
        widget=forms.TextInput(attrs={"placeholder": "example.com"}),
    )


class StylesForm(forms.Form):
    themes = forms.MultipleChoiceField(label="Styles your members choose among", widget=forms.CheckboxSelectMultiple)
    styles_per_member = forms.IntegerField(label="Styles per member", min_value=1, max_value=7)
    house_background = forms.CharField(
        label="House background (optional)", max_length=120, required=False,
        widget=forms.TextInput(attrs={"placeholder": "plain light grey studio background"}),
    )
    house_clothing = forms.CharField(
        label="House clothing (optional)", max_length=120, required=False,
        widget=forms.TextInput(attrs={"placeholder": "navy blazer, white shirt"}),
    )

    def __init__(self, *args, themes=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].choices = [(theme.slug, theme.title) for theme in themes]
