from django import forms


class DeleteAccountForm(forms.Form):
    confirm = forms.CharField(
        label="Type DELETE to confirm",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="This cannot be undone.",
    )

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value.upper() != "DELETE":
            raise forms.ValidationError("Type the word DELETE to confirm.")
        return value
