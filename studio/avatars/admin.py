from django.contrib import admin

from studio.avatars.models import Avatar


@admin.register(Avatar)
class AvatarAdmin(admin.ModelAdmin):
    list_display = ["name", "subject_class", "state", "user", "created_at"]
    list_filter = ["state", "subject_class"]
    list_select_related = ["user"]
    search_fields = ["name", "user__email", "id"]
    readonly_fields = ["id", "created_at", "updated_at"]
