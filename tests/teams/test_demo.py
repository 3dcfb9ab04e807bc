import io
import re
import zipfile

import pytest
from django.core.management import call_command

from studio.teams.models import Organisation

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_demo_team_ends_with_a_zip_of_every_members_favourites(request, astria_sandbox, live_server, settings, capsys):
    settings.PUBLIC_URL = live_server.url
    settings.IMAGES_PER_PROMPT = 2
    call_command("sync_themes")
    request.getfixturevalue("celery_worker_real")

    call_command("demo", "--team", "2", "--password", "demo-password", "--timeout", "120")

    out = capsys.readouterr().out
    assert "Log in as demo@example.test / demo-password" in out
    assert "Team zip: 4 favourites of 2 members" in out and "ledger balanced" in out
    path = re.search(r"^Team zip: (/\S+\.zip)$", out, re.MULTILINE).group(1)
    with open(path, "rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        names = archive.namelist()
    folders = {name.split("/")[0] for name in names if name.endswith(".jpg")}
    assert len(folders) == 2 and sum(name.endswith(".jpg") for name in names) == 4 and "team.csv" in names
    organisation = Organisation.objects.get()
    assert organisation.memberships.filter(avatar__state="done").count() == 2
