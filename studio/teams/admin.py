"""Organisations in the admin: looked at, and tidied by support; money stays on the ledger
(their pool is a wallet, listed with the others)."""

from django.contrib import admin

from studio.core.admin import IndexedSearchAdmin
from studio.teams.models import Invite, Membership, Organisation, TeamExport


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "state", "avatar", "removed_at"]
    readonly_fields = ["user", "avatar", "removed_at"]
    raw_id_fields = ["user"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Organisation)
class OrganisationAdmin(IndexedSearchAdmin):
    list_display = ["name", "created_by", "styles_per_member", "created_at"]
    list_select_related = ["created_by"]
    text_fields, id_fields = ("name",), ("id",)
    search_help_text = "Words of the name, or an organisation's id."
    readonly_fields = ["pool", "created_by", "everyone_done_at"]
    filter_horizontal = ["allowed_themes"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(IndexedSearchAdmin):
    list_display = ["user", "organisation", "role", "state", "avatar", "created_at"]
    list_filter = ["role", "state"]
    list_select_related = ["user", "organisation", "avatar"]
    email_field, id_fields = "user__email", ("id",)
    search_help_text = "A member's whole email address, or a membership's id."
    readonly_fields = [
        "organisation", "user", "avatar", "funded_avatar_id", "invite", "reminded_at", "ready_notified_at"
    ]


@admin.register(Invite)
class InviteAdmin(IndexedSearchAdmin):
    list_display = ["organisation", "kind", "email", "email_domain", "uses", "max_uses", "expires_at", "revoked_at"]
    list_filter = ["kind"]
    list_select_related = ["organisation"]
    email_field, id_fields = "email", ("id",)
    search_help_text = "The whole invited address, or an invitation's id."
    # The token is never shown here: only its hash is stored, and the admins' page rebuilds links.
    exclude = ["nonce", "token_hash"]
    readonly_fields = ["organisation", "kind", "email", "uses", "created_by", "reminded_at"]


@admin.register(TeamExport)
class TeamExportAdmin(admin.ModelAdmin):
    list_display = ["organisation", "state", "image_count", "member_count", "created_at"]
    list_select_related = ["organisation"]
    readonly_fields = ["organisation", "requested_by", "state", "file", "image_count", "member_count", "bytes",
                       "fingerprint"]

    def has_add_permission(self, request) -> bool:
        return False
