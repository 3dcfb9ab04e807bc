from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.models import User
from studio.credits.admin import CreditAdjustAdminMixin


@admin.register(User)
class UserAdmin(CreditAdjustAdminMixin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    # Deleting a user here is the person's own account deletion (services.user_delete): their
    # avatars with files and Astria tunes, sessions and log-in counters go; the ledger and purchases
    # stay, anonymised, with the emptied user row behind them.
    def delete_model(self, request, obj: User) -> None:
        services.user_delete(user=obj)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            services.user_delete(user=user)

    def get_deleted_objects(self, objs, request):
        users = list(objs)
        what = (
            "{}: every avatar with its photos, images and Astria tune, the sessions and log-in counters; "
            "the credit ledger and purchases stay, anonymised"
        )
        perms_needed = set() if self.has_delete_permission(request) else {self.opts.verbose_name}
        return [what.format(user) for user in users], {self.opts.verbose_name_plural: len(users)}, perms_needed, []
