from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from studio.avatars import services
from studio.avatars.models import AstriaTuneDeletion, Avatar, CallbackEvent, GeneratedImage, Prompt, PromptState
from studio.core.admin import IndexedSearchAdmin


def _count_of(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of rows of the avatar (avatar=OuterRef("pk")) as a subquery, run only for the rows
    a page shows (a join of prompts and images would multiply them before counting)."""
    counted = queryset.order_by().values("avatar").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class PromptInline(admin.TabularInline):
    model = Prompt
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "batch", "position", "label", "state", "astria_prompt_id", "num_images", "price", "refunded", "failure_reason",
        "likeness_outcome",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CallbackEventInline(admin.TabularInline):
    model = CallbackEvent
    fk_name = "avatar"
    extra = 0
    can_delete = False
    fields = ["received_at", "kind", "prompt", "body"]
    readonly_fields = fields
    ordering = ["-received_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("prompt")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Avatar)
class AvatarAdmin(IndexedSearchAdmin):
    list_display = ["name", "user", "subject_class", "state", "tune_id", "prompt_summary", "image_total", "created_at"]
    list_filter = ["state", "subject_class", "branch"]
    list_select_related = ["user"]
    ordering = ["-created_at"]
    email_field, id_fields, text_fields = "user__email", ("id", "tune_id"), ("name",)
    search_help_text = "An owner's whole email address, an avatar's id or tune id, or words of its name."
    date_hierarchy = "created_at"
    readonly_fields = [
        "id", "user", "state", "branch", "tune_id", "tune_eta", "queued_at", "submitted_at", "trained_at",
        "finished_at", "last_polled_at", "submit_attempts", "submit_crashes", "tune_price", "failure_reason",
        "photos_purged_at", "consent_at", "created_at", "updated_at",
    ]
    exclude = ["callback_nonce", "callback_token_hash", "identity"]  # the identity is biometric data: never shown
    inlines = [PromptInline, CallbackEventInline]
    actions = ["redrive", "refund", "delete_at_astria"]

    def get_queryset(self, request):
        prompts = Prompt.objects.filter(avatar=OuterRef("pk"))
        return super().get_queryset(request).annotate(
            prompts_total=_count_of(prompts),
            prompts_done=_count_of(prompts.filter(state=PromptState.DONE)),
            images_total=_count_of(GeneratedImage.objects.filter(avatar=OuterRef("pk"))),
        )

    @admin.display(description="Prompts done")
    def prompt_summary(self, avatar: Avatar) -> str:
        return f"{avatar.prompts_done} / {avatar.prompts_total}"

    @admin.display(description="Images")
    def image_total(self, avatar: Avatar) -> int:
        return avatar.images_total

    @admin.action(description="Re-drive: look at Astria again and continue", permissions=["change"])
    def redrive(self, request, queryset) -> None:
        count = 0
        for avatar in queryset:
            if services.avatar_redrive(avatar_id=avatar.pk):
                self.log_change(request, avatar, "Re-driven.")
                count += 1
        self.message_user(request, f"{count} avatar(s) re-driven.", messages.SUCCESS)

    @admin.action(
        description="Refund: stop if unfinished and give back the credits not yet refunded", permissions=["refund"]
    )
    def refund(self, request, queryset) -> None:
        total = 0
        for avatar in queryset:
            refunded = services.avatar_refund_by_staff(avatar_id=avatar.pk, staff_user=request.user)
            self.log_change(request, avatar, f"Refunded {refunded} credit(s).")
            total += refunded
        self.message_user(request, f"{total} credit(s) refunded.", messages.SUCCESS)

    @admin.action(description="Delete the tune at Astria (keeps our images)", permissions=["delete_tune"])
    def delete_at_astria(self, request, queryset) -> None:
        count = 0
        for avatar in queryset:
            if avatar.tune_id and services.astria_avatar_delete_later(avatar=avatar):
                self.log_change(request, avatar, "Tune queued for deletion at Astria.")
                count += 1
        self.message_user(request, f"{count} tune(s) queued for deletion at Astria.", messages.SUCCESS)

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("avatars.refund_avatar")

    def has_delete_tune_permission(self, request) -> bool:
        return request.user.has_perm("avatars.delete_avatar_tune")

    def has_add_permission(self, request) -> bool:
        return False

    # Deleting goes through the same service as the owner's delete: files, Astria tune and prompts,
    # callback log and the avatar's name on the ledger.
    def delete_model(self, request, obj: Avatar) -> None:
        services.avatar_delete_by_staff(avatar_id=obj.pk, staff_user=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for avatar_id in list(queryset.values_list("pk", flat=True)):
            services.avatar_delete_by_staff(avatar_id=avatar_id, staff_user=request.user)

    def get_deleted_objects(self, objs, request):
        # Its photos, images and prompts cannot be deleted on their own here, but they go with
        # the avatar through its service: the permission to delete the avatar is the one needed.
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected


@admin.register(Prompt)
class PromptAdmin(IndexedSearchAdmin):
    list_display = ["label", "avatar", "state", "astria_prompt_id", "num_images", "price", "refunded", "created_at"]
    list_filter = ["state", "refunded", "liked", "likeness_outcome"]
    list_select_related = ["avatar"]
    ordering = ["-created_at"]
    email_field, id_fields, text_fields = "avatar__user__email", ("id", "astria_prompt_id"), ("label",)
    search_help_text = "An owner's whole email address, a prompt's id or Astria id, or words of its label."
    exclude = ["callback_nonce", "callback_token_hash"]
    readonly_fields = [
        field.name for field in Prompt._meta.fields if field.name not in ("callback_nonce", "callback_token_hash")
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # prompts go with their avatar (its images' files and the prompt at Astria too)


@admin.register(GeneratedImage)
class GeneratedImageAdmin(IndexedSearchAdmin):
    list_display = [
        "__str__", "avatar", "width", "height", "bytes", "likeness", "face_found", "is_favourite", "created_at",
    ]
    list_select_related = ["avatar", "prompt"]
    list_filter = ["is_favourite"]
    ordering = ["-created_at"]
    email_field, id_fields = "avatar__user__email", ("id", "avatar")
    search_help_text = "An owner's whole email address, an image's id or its avatar's id."
    readonly_fields = [field.name for field in GeneratedImage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # images go with their avatar, files included


@admin.register(CallbackEvent)
class CallbackEventAdmin(IndexedSearchAdmin):
    list_display = ["received_at", "kind", "avatar", "prompt"]
    list_filter = ["kind"]
    list_select_related = ["avatar", "prompt"]
    ordering = ["-received_at"]
    id_fields = ("avatar", "prompt")
    search_help_text = "An avatar's id or a prompt's id."
    readonly_fields = ["received_at", "kind", "avatar", "prompt", "digest", "body"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AstriaTuneDeletion)
class AstriaTuneDeletionAdmin(admin.ModelAdmin):
    list_display = ["tune_id", "title", "attempts", "done_at", "last_error", "created_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter)]
    readonly_fields = [
        "tune_id", "title", "prompts", "attempts", "done_at", "last_error", "created_at", "updated_at"
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting the record would stop the deletion at Astria
