import uuid

from django import forms

from studio.credits.packs import credit_packs


class PackForm(forms.Form):
    pack = forms.ChoiceField(
        choices=lambda: [(pack.slug, pack.name) for pack in credit_packs()],
        error_messages={"invalid_choice": "That credit pack is not on sale. Please pick one of the packs below."},
    )


class CreditAdjustForm(forms.Form):
    """The admin's "grant or adjust credits" step: how many, and why."""

    amount = forms.IntegerField(
        label="Credits",
        min_value=-100_000,
        max_value=100_000,
        help_text="Positive to add credits, negative to remove them.",
    )
    reason = forms.CharField(
        max_length=200,
        help_text="Shown to the user in their credit history, e.g. “Sorry about the failed avatar”.",
    )
    # One token per rendered form: submitting the same form twice adjusts once.
    token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Enter a number of credits other than zero.")
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Please say why, in words the user will understand.")
        return reason
