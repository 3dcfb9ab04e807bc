from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth.hashers import make_password

SIGNUP_EMAIL = "signup_email"  # session keys: the address typed at sign-up,
SIGNUP_USER = "signup_user"  # and the account it created, if it created one


class SignupForm(AllauthSignupForm):
    def try_save(self, request):
        # The "check your inbox" page names the address typed, whichever way sign-up went.
        request.session[SIGNUP_EMAIL] = self.cleaned_data.get("email", "")
        if self.account_already_exists:
            # A new account costs a password hash; an address already registered costs the same,
            # so the time of the answer does not tell which addresses have an account.
            make_password(self.cleaned_data.get("password1"))
        return super().try_save(request)


class DeleteAccountForm(forms.Form):
    WORD = "DELETE"

    confirm = forms.CharField(
        label=f"Type {WORD} to confirm",
        max_length=10,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        help_text="In capital letters, exactly as shown. This cannot be undone.",
    )

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"]
        if value != self.WORD:
            raise forms.ValidationError(f"Type the word {self.WORD} exactly as shown, in capital letters, to confirm.")
        return value
