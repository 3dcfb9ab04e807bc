from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from studio.avatars.models import SubjectClass
from studio.core.static import static_file_exists
from studio.themes.models import DEFAULT_COVER, CustomPrompt, PromptIdea, Theme


class ThemeAdminForm(forms.ModelForm):
    """Tags as comma-separated words and the suited classes as checkboxes, instead of raw JSON."""

    tags = forms.CharField(help_text="Comma-separated, for example: professional, photo")
    subject_classes = forms.MultipleChoiceField(
        choices=SubjectClass.choices, widget=forms.CheckboxSelectMultiple, label="Suits"
    )

    class Meta:
        model = Theme
        fields = [
            "title",
            "slug",
            "description",
            "tags",
            "subject_classes",
            "is_active",
            "position",
            "prompt",
            "negative_prompt",
            "aspect_ratio",
            "cfg_scale",
            "steps",
            "cover",
            "cover_pet",
            "cover_alt",
        ]
        widgets = {
            "prompt": forms.Textarea(attrs={"rows": 5}),
            "negative_prompt": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_tags(self) -> list[str]:
        return list(
            dict.fromkeys(tag.strip().lower() for tag in self.cleaned_data["tags"].split(",") if tag.strip())
        )

    def clean_subject_classes(self) -> list[str]:
        chosen = set(self.cleaned_data["subject_classes"])
        return [value for value in SubjectClass.values if value in chosen]

    def clean_cover(self) -> str:
        return self._static_path("cover")

    def clean_cover_pet(self) -> str:
        return self._static_path("cover_pet")

    def _static_path(self, field: str) -> str:
        path = self.cleaned_data[field].strip()
        if path and not static_file_exists(path):
            raise forms.ValidationError(
                f"There is no static file “{path}”. Covers are paths such as "
                f"“{DEFAULT_COVER}”, of files under static/ that are deployed with the site."
            )
        return path


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    form = ThemeAdminForm
    list_display = ["title", "slug", "suits_display", "tags_display", "aspect_ratio", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["title", "slug", "description", "prompt"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["hide", "show"]
    fieldsets = [
        (
            None,
            {"fields": ["title", "slug", "description", "tags", "subject_classes", "is_active", "position"]},
        ),
        ("Prompt", {"fields": ["prompt", "negative_prompt", "aspect_ratio", "cfg_scale", "steps"]}),
        ("Cover", {"fields": ["cover", "cover_pet", "cover_alt"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    @admin.display(description="Suits")
    def suits_display(self, theme: Theme) -> str:
        return ", ".join(theme.subject_classes)

    @admin.display(description="Tags")
    def tags_display(self, theme: Theme) -> str:
        return ", ".join(theme.tags)

    @admin.action(description="Hide the selected themes", permissions=["change"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Theme]) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(description="Show the selected themes", permissions=["change"])
    def show(self, request: HttpRequest, queryset: QuerySet[Theme]) -> None:
        self._set_active(request, queryset, active=True)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Theme], *, active: bool) -> None:
        themes = list(queryset.exclude(is_active=active))
        Theme.objects.filter(pk__in=[theme.pk for theme in themes]).update(is_active=active)
        for theme in themes:
            self.log_change(request, theme, "Shown." if active else "Hidden.")
        self.message_user(request, f"{len(themes)} themes {'shown' if active else 'hidden'}.", messages.SUCCESS)


@admin.register(PromptIdea)
class PromptIdeaAdmin(admin.ModelAdmin):
    list_display = ["title", "suits", "keywords", "position", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["suits", "is_active"]
    search_fields = ["title", "keywords", "text", "slug"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(CustomPrompt)
class CustomPromptAdmin(admin.ModelAdmin):
    """What people write, for moderation: read only."""

    list_display = ["cleaned", "avatar", "idea", "created_at"]
    list_select_related = ["avatar", "idea"]
    search_fields = ["text", "cleaned", "avatar__name", "avatar__user__email"]
    readonly_fields = ["avatar", "text", "cleaned", "template", "idea", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
