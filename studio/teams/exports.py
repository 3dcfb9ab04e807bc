"""The team zip: every member's chosen favourites, one folder per member, and a CSV of the team
(name, email, status, files). Built by a task and kept a day, as an avatar's zips are
(`studio.avatars.exports`); asking again while the same favourites are in one reuses it."""

import csv
import hashlib
import io
import uuid

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from studio.core.exceptions import ApplicationError
from studio.core.media import zip_store, zip_to_reuse, zips_purge_expired
from studio.core.tasks import enqueue_on_commit
from studio.teams import selectors, tasks
from studio.teams.models import Organisation, TeamExport

CSV_NAME = "team.csv"


def _fingerprint(rows: list[selectors.MemberRow]) -> str:
    parts = [f"{row.email}:{row.status}:{','.join(str(image.pk) for image in row.favourites)}" for row in rows]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def team_export_create(*, user: User, organisation: Organisation) -> TeamExport:
    """Start building the team zip (the caller checked that the user manages the organisation)."""
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        rows = selectors.member_rows(organisation=organisation)
        if not any(row.favourites for row in rows):
            raise ApplicationError("No member has chosen favourites yet: the zip would be empty.")
        fingerprint = _fingerprint(rows)
        reusable = zip_to_reuse(organisation.exports.filter(fingerprint=fingerprint))
        if reusable is not None:
            return reusable
        export = TeamExport.objects.create(organisation=organisation, requested_by=user, fingerprint=fingerprint)
        enqueue_on_commit(tasks.team_export_build, str(export.pk))
    return export


def team_csv(rows: list[selectors.MemberRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "status", "files"])
    for row in rows:
        writer.writerow([_cell(row.name), _cell(row.email), row.status, " ".join(row.files)])
    return out.getvalue()


def _cell(value: str) -> str:
    """A value a spreadsheet shows as text, never runs as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def team_export_build(*, export_id: str | uuid.UUID) -> None:
    """Write the zip into private storage: the favourites as they are now, and the CSV."""
    export = TeamExport.objects.select_related("organisation").filter(
        pk=export_id, state=TeamExport.State.BUILDING
    ).first()
    if export is None:
        return
    rows = selectors.member_rows(organisation=export.organisation)
    files = [(name, image.image) for row in rows for image, name in zip(row.favourites, row.files, strict=True)]
    stored, size = zip_store(
        f"team-exports/{export.organisation_id.hex}/{export.pk.hex}.zip", files, texts={CSV_NAME: team_csv(rows)}
    )
    images, members = len(files), sum(1 for row in rows if row.favourites)
    updated = TeamExport.objects.filter(pk=export.pk, state=TeamExport.State.BUILDING).update(
        state=TeamExport.State.READY,
        file=stored,
        image_count=images,
        member_count=members,
        bytes=size,
        updated_at=timezone.now(),
    )
    if not updated:
        default_storage.delete(stored)


def team_export_fail(*, export_id: str) -> None:
    TeamExport.objects.filter(pk=export_id, state=TeamExport.State.BUILDING).update(
        state=TeamExport.State.FAILED, updated_at=timezone.now()
    )


def team_export_purge_expired() -> int:
    return zips_purge_expired(TeamExport.objects.all())
