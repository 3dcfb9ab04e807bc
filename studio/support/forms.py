from django import forms

from studio.support.models import SupportRequest


class SupportRequestForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        help_text="We answer here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    topic = forms.ChoiceField(label="What is it about?", choices=SupportRequest.Topic.choices)
    message = forms.CharField(
        label="Your message",
        min_length=10,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Tell us what happened and which avatar it is about, if any. Please do not send passwords.",
        error_messages={"min_length": "Tell us a little more: at least a sentence."},
    )
