"""`manage.py demo --team N`: an organisation whose N invited members each upload sample photos,
confirm and finish, through the site's own services and tasks; ends with the team zip built.

The command (`studio/avatars/management/commands/demo.py`) hands its helpers over: making a
user, the sample photos, and waiting for photos and avatars as the worker finishes them.
"""

import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.urls import reverse

from studio.avatars.models import Avatar, AvatarState
from studio.avatars.selectors import gallery_prompts, gallery_styles
from studio.avatars.services import avatar_confirm, image_set_favourite
from studio.core.exceptions import ApplicationError
from studio.credits.selectors import credit_pool_balance, wallets_out_of_balance
from studio.credits.services import credit_grant
from studio.photos.services import photo_upload
from studio.teams import exports, selectors, services
from studio.teams.models import Organisation, TeamExport

FAVOURITES_EACH = 2


def run_team_demo(command, options: dict) -> None:
    size = options["team"]
    if not 1 <= size <= 20:
        raise CommandError("--team takes between 1 and 20 members.")
    admin, password = command._user(options["email"], options["password"])
    organisation = _organisation(command, admin, size, options["themes"])
    members = _members(command, admin, organisation, size, options)
    login = f"{admin.email} / {password}" if password else admin.email
    manage_url = settings.PUBLIC_URL + reverse("teams:manage", args=[organisation.pk])
    command.stdout.write(f"Log in as {login}\nTeam page: {manage_url}")
    if options["no_wait"]:
        return
    for _, avatar in members:
        command._wait_until_finished(avatar, options["timeout"])
    for user, avatar in members:
        _pick_favourites(command, user, avatar)
    services.team_progress_notify()
    export = _team_zip(admin, organisation, options["timeout"])
    balanced = not wallets_out_of_balance().exists()
    command.stdout.write(
        f"Team zip: {export.image_count} favourites of {export.member_count} members, "
        f"{credit_pool_balance(pool=organisation.pool)} credits left in the pool, "
        f"ledger {'balanced' if balanced else 'NOT balanced'}.\n"
        f"Log in as {login}\nTeam page: {manage_url}\nTeam zip: {_path(export)}"
    )
    if export.member_count != size or not balanced:
        raise CommandError("The team demo did not end as it should (see above).")


def _organisation(command, admin, size: int, themes: str) -> Organisation:
    organisation = services.organisation_create(user=admin, name=f"Demo team {time.strftime('%Y-%m-%d %H:%M:%S')}")
    slugs = [slug.strip() for slug in themes.split(",") if slug.strip()]
    try:
        services.organisation_set_styles(
            organisation=organisation,
            theme_slugs=slugs,
            styles_per_member=min(2, len(slugs)),
            house_background="plain light grey studio background",
        )
    except ApplicationError as exc:
        raise CommandError(exc.message) from None
    organisation.refresh_from_db()
    credits = size * selectors.member_cost(organisation=organisation)
    credit_grant(
        user=admin, pool=organisation.pool, amount=credits, key=f"demo:team:{organisation.pk}", reason="Demo credits"
    )
    command.stdout.write(f"Created the organisation “{organisation.name}” with {credits} credits in its pool.")
    return organisation


def _members(command, admin, organisation: Organisation, size: int, options: dict) -> list[tuple]:
    """Invite each member by email, and as each would: join, start, upload, then confirm."""
    emails = [f"member{index + 1}.{organisation.pk.hex[:6]}@example.test" for index in range(size)]
    invites = {invite.email: invite for invite in
               services.invite_by_email(organisation=organisation, created_by=admin, emails=emails)}
    members = []
    for index, email in enumerate(emails):
        user, _ = command._user(email, None)
        services.invite_accept(user=user, token=services.invite_token(invites[email]))
        try:
            avatar = services.team_avatar_start(
                user=user, organisation_id=organisation.pk, name=f"Member {index + 1}", subject_class="person"
            )
            for name, data in command._photos(options["photos"]):
                photo_upload(user=user, avatar=avatar, upload=SimpleUploadedFile(name, data))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        members.append((user, avatar))
    for user, avatar in members:
        command._wait_for_photos(avatar, options["timeout"])
        avatar = avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
        command.stdout.write(f"  {user.email}: photos accepted, confirmed from the pool.")
    return members


def _pick_favourites(command, user, avatar: Avatar) -> None:
    """The member's choice: the first portraits of their gallery, as it orders them (best first)."""
    avatar.refresh_from_db()
    if avatar.state != AvatarState.DONE:
        raise CommandError(f"{avatar.name} ended {avatar.get_state_display().lower()}: {avatar.failure_reason}")
    styles = gallery_styles(prompts=list(gallery_prompts(avatar=avatar)))
    chosen = [image for style in styles for image in style.images][:FAVOURITES_EACH]
    for image in chosen:
        image_set_favourite(user=user, image_id=image.pk, favourite=True)
    command.stdout.write(f"  {user.email}: done, {len(chosen)} favourites chosen.")


def _team_zip(admin, organisation: Organisation, timeout: int) -> TeamExport:
    export = exports.team_export_create(user=admin, organisation=organisation)
    deadline = time.monotonic() + timeout
    while export.state == TeamExport.State.BUILDING:
        if time.monotonic() > deadline:
            raise CommandError("The team zip was not built in time: is the worker running?")
        time.sleep(0.5)
        export.refresh_from_db()
    if export.state != TeamExport.State.READY:
        raise CommandError("The team zip could not be built.")
    return export


def _path(export: TeamExport) -> str:
    try:
        return default_storage.path(export.file.name)
    except NotImplementedError:  # a bucket: its name there
        return export.file.name
