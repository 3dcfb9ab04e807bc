from django.urls import path

from studio.teams import views

app_name = "teams"

# Mounted at teams/. A member's page is the organisation's; its owners and admins manage it under manage/.
urlpatterns = [
    path("", views.team_list, name="list"),
    path("join/<str:invite_token>/", views.team_join, name="join"),
    path("<uuid:organisation_id>/", views.team_detail, name="detail"),
    path("<uuid:organisation_id>/leave/", views.team_leave, name="leave"),
    path("<uuid:organisation_id>/delete/", views.team_delete, name="delete"),
    path("<uuid:organisation_id>/manage/", views.team_manage, name="manage"),
    path("<uuid:organisation_id>/manage/styles/", views.team_styles, name="styles"),
    path("<uuid:organisation_id>/manage/invites/", views.team_invite_email, name="invite_email"),
    path("<uuid:organisation_id>/manage/links/", views.team_invite_link, name="invite_link"),
    path(
        "<uuid:organisation_id>/manage/invites/<uuid:invite_id>/revoke/",
        views.team_invite_revoke,
        name="invite_revoke",
    ),
    path("<uuid:organisation_id>/manage/name/", views.team_rename, name="rename"),
    path(
        "<uuid:organisation_id>/manage/members/<int:membership_id>/role/",
        views.team_member_role,
        name="member_role",
    ),
    path(
        "<uuid:organisation_id>/manage/members/<int:membership_id>/owner/",
        views.team_owner_transfer,
        name="owner_transfer",
    ),
    path("<uuid:organisation_id>/manage/remind/", views.team_remind, name="remind"),
    path("<uuid:organisation_id>/manage/buy/", views.team_buy, name="buy"),
    path(
        "<uuid:organisation_id>/manage/members/<int:membership_id>/remove/",
        views.team_member_remove,
        name="member_remove",
    ),
    path(
        "<uuid:organisation_id>/manage/members/<int:membership_id>/favourites/<uuid:image_id>/",
        views.team_favourite,
        name="favourite",
    ),
    path("<uuid:organisation_id>/manage/downloads/", views.team_export_create, name="export_create"),
    path("<uuid:organisation_id>/manage/downloads/<uuid:team_export_id>/", views.team_export, name="export"),
]
