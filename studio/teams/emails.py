"""The teams' emails: an invitation, a reminder to upload, "your headshot is ready" to a member
and "everyone is done" to the organisation's owners and admins."""

import uuid

from django.conf import settings
from django.urls import reverse

from studio.core.mail import mail_send
from studio.teams import selectors
from studio.teams.models import MANAGERS, Invite, Membership, MembershipState, Organisation
from studio.teams.services import invite_token


def _team_url(organisation: Organisation) -> str:
    return settings.PUBLIC_URL + reverse("teams:detail", args=[organisation.pk])


def invite_send_email(*, invite_id: uuid.UUID | str) -> None:
    invite = Invite.objects.select_related("organisation", "created_by").filter(pk=invite_id).first()
    if invite is None or not invite.is_open or not invite.email:
        return
    organisation = invite.organisation
    mail_send(
        to=[invite.email],
        subject=f"{organisation.name} invites you to get your portrait made",
        template="teams/email/invite.txt",
        context={
            "organisation": organisation,
            "inviter": invite.created_by.email if invite.created_by else "",
            "join_url": settings.PUBLIC_URL + reverse("teams:join", args=[invite_token(invite)]),
            "expires_at": invite.expires_at,
            "reminder": invite.reminded_at is not None,
        },
    )


def member_send_reminder(*, membership_id: int) -> None:
    membership = Membership.objects.select_related("organisation", "user", "avatar").filter(
        pk=membership_id, state=MembershipState.ACTIVE
    ).first()
    if membership is None or not membership.user.is_active:
        return
    mail_send(
        to=[membership.user.email],
        subject=f"{membership.organisation.name} is waiting for your photos",
        template="teams/email/reminder.txt",
        context={"organisation": membership.organisation, "team_url": _team_url(membership.organisation)},
    )


def member_send_ready_email(*, membership_id: int) -> None:
    membership = Membership.objects.select_related("organisation", "user", "avatar").filter(
        pk=membership_id, state=MembershipState.ACTIVE
    ).first()
    if membership is None or membership.avatar is None or not membership.user.is_active:
        return
    mail_send(
        to=[membership.user.email],
        subject="Your headshot is ready",
        template="teams/email/ready.txt",
        context={
            "organisation": membership.organisation,
            "gallery_url": settings.PUBLIC_URL + reverse("avatars:detail", args=[membership.avatar_id]),
        },
    )


def organisation_send_everyone_done(*, organisation_id: uuid.UUID | str) -> None:
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return
    managers = organisation.memberships.filter(
        state=MembershipState.ACTIVE, role__in=MANAGERS, user__is_active=True
    ).values_list("user__email", flat=True)
    rows = selectors.member_rows(organisation=organisation)
    mail_send(
        to=list(managers),
        subject=f"Everyone at {organisation.name} is done",
        template="teams/email/everyone_done.txt",
        context={
            "organisation": organisation,
            "members": len(rows),
            "with_favourites": sum(1 for row in rows if row.favourites),
            "manage_url": settings.PUBLIC_URL + reverse("teams:manage", args=[organisation.pk]),
        },
    )
