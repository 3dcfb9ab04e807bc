from django.contrib import admin

from studio.photos.models import Photo


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    """Read-only: photos change only through the upload page and its services, and are deleted
    with their avatar (files included)."""

    list_display = ["original_name", "avatar", "verdict", "width", "height", "bytes", "created_at"]
    list_filter = ["verdict"]
    list_select_related = ["avatar"]
    search_fields = ["original_name", "avatar__name", "avatar__user__email", "id"]
    # The face analysis (descriptors: biometric data) is never shown, not even to staff.
    exclude = ["analysis"]
    readonly_fields = [field.name for field in Photo._meta.fields if field.name != "analysis"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
