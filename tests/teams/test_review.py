"""The team's look, the admins' review (status and favourites only), reminders, the progress
emails and the team zip with its CSV."""

import csv
import io
import zipfile

import pytest
from django.core import mail

from studio.avatars.models import Avatar, AvatarState
from studio.avatars.services import avatar_confirm
from studio.core.exceptions import ApplicationError
from studio.teams import exports, selectors, services
from studio.teams.models import TeamExport
from studio.themes import services as theme_services
from studio.themes.exceptions import FairUseLimitReached, PromptRejected, ThemeUnavailable
from studio.themes.planner import plan_for_avatar
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def finish(avatar: Avatar, *, favourites: int, others: int = 2) -> list:
    """The avatar done, with `favourites` images its owner marked and `others` they did not."""
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE)
    prompt = avatar.prompts.order_by("position").first() or PromptFactory(avatar=avatar, label="Corporate headshot")
    return [
        GeneratedImageFactory(prompt=prompt, avatar=avatar, index=index, is_favourite=index < favourites)
        for index in range(favourites + others)
    ]


def link_token(team, owner) -> str:
    return services.invite_token(services.invite_link_create(organisation=team, created_by=owner, max_uses=1, days=1))


def test_a_members_styles_are_the_teams_only(team, member_draft):
    _, _, avatar = member_draft()
    assert {choice.theme.slug for choice in avatar.chosen_themes.all()} == {"corporate-headshot", "golden-hour"}

    with pytest.raises(ThemeUnavailable, match="not one of Acme's styles"):
        theme_services.theme_choose(avatar=avatar, theme_slug="astronaut")
    theme_services.theme_remove(avatar=avatar, theme_slug="golden-hour")
    theme_services.theme_choose(avatar=avatar, theme_slug="film-noir")
    with pytest.raises(FairUseLimitReached, match="Acme pays for 2 styles"):
        theme_services.theme_choose(avatar=avatar, theme_slug="golden-hour")
    with pytest.raises(PromptRejected, match="only its styles"):
        theme_services.custom_prompt_add(avatar=avatar, text="me as a pirate captain")


def test_a_style_the_team_dropped_since_stops_the_order(team, member_draft):
    user, _, avatar = member_draft()
    services.organisation_set_styles(organisation=team, theme_slugs=["corporate-headshot"], styles_per_member=1)

    plan = plan_for_avatar(avatar=avatar)

    assert any("“Golden hour” is not one of Acme's styles" in error for error in plan.errors)
    with pytest.raises(ApplicationError):
        avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)


def test_the_house_style_is_checked_like_any_prompt(team):
    with pytest.raises(ApplicationError, match="not allowed"):
        services.organisation_set_styles(
            organisation=team, theme_slugs=["corporate-headshot"], styles_per_member=1, house_clothing="nude"
        )


def test_the_admins_see_status_and_chosen_favourites_only(team, member_draft, owner):
    services.invite_by_email(organisation=team, created_by=owner, emails=["new@acme.test"])
    member_draft("ada@acme.test", name="Ada")
    _, _, done = member_draft("grace@acme.test", name="Grace")
    images = finish(done, favourites=2)
    joined = UserFactory(email="linus@acme.test")
    services.invite_accept(
        user=joined,
        token=link_token(team, owner),
    )

    rows = {row.email: row for row in selectors.member_rows(organisation=team)}

    assert {email: row.status for email, row in rows.items()} == {
        "ada@acme.test": "uploading",
        "grace@acme.test": "done",
        "linus@acme.test": "invited",
        "new@acme.test": "invited",
    }
    assert rows["grace@acme.test"].favourites == images[:2]
    assert rows["ada@acme.test"].favourites == []


def test_reminders_go_to_those_who_have_not_uploaded_at_most_once_a_day(
    team, member_draft, owner, django_capture_on_commit_callbacks
):
    services.invite_by_email(organisation=team, created_by=owner, emails=["new@acme.test"])
    member_draft("ada@acme.test")  # has uploaded
    services.invite_accept(
        user=UserFactory(email="linus@acme.test"),
        token=link_token(team, owner),
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = services.members_remind(organisation=team)
        second = services.members_remind(organisation=team)

    assert (first, second) == (2, 0)
    assert sorted(message.to[0] for message in mail.outbox) == ["linus@acme.test", "new@acme.test"]


def test_the_ready_and_everyone_done_emails_are_sent_once_each(team, member_draft, django_capture_on_commit_callbacks):
    ada, _, first = member_draft("ada@acme.test")
    grace, _, second = member_draft("grace@acme.test", name="Grace")
    for user, avatar in ((ada, first), (grace, second)):
        avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    finish(first, favourites=1)

    with django_capture_on_commit_callbacks(execute=True):
        services.team_progress_notify()
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ada@acme.test"], "Your headshot is ready")]

    finish(second, favourites=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.team_progress_notify()
        services.team_progress_notify()
    assert [(m.to, m.subject) for m in mail.outbox[1:]] == [
        (["grace@acme.test"], "Your headshot is ready"),
        (["owner@acme.test"], "Everyone at Acme is done"),
    ]


def test_the_team_zip_holds_everyones_favourites_by_member_and_a_csv(team, member_draft, owner):
    _, _, ada = member_draft("ada@acme.test", name="Ada Lovelace")
    _, _, grace = member_draft("grace@acme.test", name="Grace Hopper")
    member_draft("linus@acme.test", name="Linus")
    finish(ada, favourites=2)
    finish(grace, favourites=1)

    export = exports.team_export_create(user=owner, organisation=team)
    exports.team_export_build(export_id=export.pk)
    export.refresh_from_db()

    assert export.state == TeamExport.State.READY and (export.image_count, export.member_count) == (3, 2)
    with export.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        names = sorted(archive.namelist())
        table = list(csv.DictReader(io.StringIO(archive.read("team.csv").decode())))
    assert names == [
        "ada-lovelace/01-corporate-headshot.jpg",
        "ada-lovelace/02-corporate-headshot.jpg",
        "grace-hopper/01-corporate-headshot.jpg",
        "team.csv",
    ]
    by_email = {row["email"]: row for row in table}
    assert by_email["ada@acme.test"] == {
        "name": "Ada Lovelace", "email": "ada@acme.test", "status": "done",
        "files": "ada-lovelace/01-corporate-headshot.jpg ada-lovelace/02-corporate-headshot.jpg",
    }
    assert by_email["linus@acme.test"]["status"] == "uploading" and by_email["linus@acme.test"]["files"] == ""
    # Asking again for the same favourites hands out the same zip.
    assert exports.team_export_create(user=owner, organisation=team).pk == export.pk


def test_members_of_the_same_name_get_folders_of_their_own(team, member_draft):
    member_draft("ada@acme.test", name="Ada")
    member_draft("ada.l@acme.test", name="Ada")
    member_draft("grace@acme.test", name="Grace")

    folders = {row.email: row.folder for row in selectors.member_rows(organisation=team)}

    assert folders == {"ada@acme.test": "ada-ada", "ada.l@acme.test": "ada-adal", "grace@acme.test": "grace"}


def test_a_team_zip_with_nothing_in_it_is_refused(team, member_draft, owner):
    member_draft()
    with pytest.raises(ApplicationError, match="No member has chosen favourites"):
        exports.team_export_create(user=owner, organisation=team)


def test_a_spreadsheet_never_runs_a_members_name_as_a_formula():
    row = selectors.MemberRow(name="=HYPERLINK(\"http://evil\")", email="x@acme.test", status="done")
    (header, line) = csv.reader(io.StringIO(exports.team_csv([row])))
    assert header == ["name", "email", "status", "files"] and line[0] == "'=HYPERLINK(\"http://evil\")"
