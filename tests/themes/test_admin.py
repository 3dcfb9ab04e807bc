import pytest
from django.urls import reverse

from studio.themes.models import Theme
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_staff_see_the_catalogue_and_the_library(staff_client, catalogue):
    themes = staff_client.get(reverse("admin:themes_theme_changelist"))
    ideas = staff_client.get(reverse("admin:themes_promptidea_changelist"), {"q": "samurai"})

    assert themes.status_code == 200 and "Corporate headshot" in themes.content.decode()
    assert ideas.status_code == 200 and "Samurai" in ideas.content.decode()


def test_staff_edit_a_theme_with_plain_fields(staff_client, catalogue):
    theme = Theme.objects.get(slug="viking")
    url = reverse("admin:themes_theme_change", args=[theme.pk])
    form = {
        "title": "Norse saga",
        "slug": "viking",
        "description": "Longships and fur.",
        "tags": "Fantasy, retro",
        "subject_classes": ["man", "woman"],
        "is_active": "on",
        "position": "5",
        "prompt": "{subject} as a norse jarl, epic",
        "negative_prompt": "",
        "aspect_ratio": "2:3",
        "cfg_scale": "",
        "steps": "",
        "cover": theme.cover,
        "cover_alt": theme.cover_alt,
    }

    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, form)

    assert response.status_code == 302
    theme.refresh_from_db()
    assert (theme.title, theme.tags, theme.subject_classes) == (
        "Norse saga",
        ["fantasy", "retro"],
        ["man", "woman"],
    )


def test_a_prompt_without_the_subject_is_refused_in_the_admin(staff_client, catalogue):
    theme = Theme.objects.get(slug="viking")
    url = reverse("admin:themes_theme_change", args=[theme.pk])

    response = staff_client.post(
        url,
        {
            "title": "Viking",
            "slug": "viking",
            "description": "x",
            "tags": "fantasy",
            "subject_classes": ["man"],
            "position": "1",
            "prompt": "a viking with no subject",
            "cover": "",
            "cover_alt": "",
            "aspect_ratio": "",
        },
    )

    assert response.status_code == 200
    assert "must contain {subject} exactly once" in response.content.decode()


def test_staff_hide_themes_in_bulk(staff_client, catalogue):
    ids = list(Theme.objects.filter(slug__in=["viking", "anime"]).values_list("pk", flat=True))

    staff_client.post(reverse("admin:themes_theme_changelist"), {"action": "hide", "_selected_action": ids})

    assert not Theme.objects.filter(pk__in=ids, is_active=True).exists()


@pytest.mark.parametrize("storage", ["development", "manifest"])
@pytest.mark.parametrize("field", ["cover", "cover_pet"])
def test_a_cover_that_is_not_a_static_file_is_refused_in_the_admin(staff_client, catalogue, request, storage, field):
    if storage == "manifest":
        request.getfixturevalue("manifest_static")
    theme = Theme.objects.get(slug="astronaut")
    url = reverse("admin:themes_theme_change", args=[theme.pk])
    form = {
        "title": theme.title,
        "slug": theme.slug,
        "description": theme.description,
        "tags": ", ".join(theme.tags),
        "subject_classes": theme.subject_classes,
        "is_active": "on",
        "position": theme.position,
        "prompt": theme.prompt,
        "negative_prompt": theme.negative_prompt,
        "aspect_ratio": theme.aspect_ratio,
        "cover": theme.cover,
        "cover_pet": theme.cover_pet,
        "cover_alt": theme.cover_alt,
    }

    typo = staff_client.post(url, form | {field: "themes/covers/astronautt.webp"})
    fine = staff_client.post(url, form | {field: "themes/covers/viking.webp"})

    assert typo.status_code == 200
    assert "There is no static file “themes/covers/astronautt.webp”" in typo.content.decode()
    assert fine.status_code == 302
    theme.refresh_from_db()
    assert getattr(theme, field) == "themes/covers/viking.webp"


def test_hiding_themes_needs_the_change_permission_and_names_who_did_it(client, catalogue):
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Permission

    viking = Theme.objects.get(slug="viking")
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_theme"))
    client.force_login(staff)
    changelist = reverse("admin:themes_theme_changelist")

    assert client.get(changelist).context["action_form"] is None
    client.post(changelist, {"action": "hide", "_selected_action": [viking.pk]})
    assert Theme.objects.get(pk=viking.pk).is_active

    staff.user_permissions.add(Permission.objects.get(codename="change_theme"))
    client.post(changelist, {"action": "hide", "_selected_action": [viking.pk]})
    assert not Theme.objects.get(pk=viking.pk).is_active
    assert LogEntry.objects.get(object_id=str(viking.pk)).user == staff
