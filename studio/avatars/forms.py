from django import forms

from studio.avatars.models import Avatar, SubjectClass


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
