"""Celery wrappers of the teams services: ids in, one service call."""

from celery import shared_task

from studio.core.tasks import EMAIL_TASK


@shared_task(**EMAIL_TASK)
def invite_send_email(invite_id: str) -> None:
    from studio.teams import emails

    emails.invite_send_email(invite_id=invite_id)


@shared_task(**EMAIL_TASK)
def member_send_reminder(membership_id: int) -> None:
    from studio.teams import emails

    emails.member_send_reminder(membership_id=membership_id)


@shared_task(**EMAIL_TASK)
def member_send_ready_email(membership_id: int) -> None:
    from studio.teams import emails

    emails.member_send_ready_email(membership_id=membership_id)


@shared_task(**EMAIL_TASK)
def organisation_send_everyone_done(organisation_id: str) -> None:
    from studio.teams import emails

    emails.organisation_send_everyone_done(organisation_id=organisation_id)


@shared_task
def team_progress_notify() -> None:
    from studio.teams import services

    services.team_progress_notify()


def _export_gave_up(self, exc, task_id, args, kwargs, einfo) -> None:
    from studio.teams import exports

    exports.team_export_fail(export_id=args[0])


@shared_task(bind=True, on_failure=_export_gave_up, acks_late=True, soft_time_limit=240, time_limit=300)
def team_export_build(self, export_id: str) -> None:
    from studio.teams import exports

    exports.team_export_build(export_id=export_id)


@shared_task
def team_export_purge_expired() -> None:
    from studio.teams import exports

    exports.team_export_purge_expired()
