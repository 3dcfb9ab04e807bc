import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from studio.avatars.models import PERSON_CLASSES, PET_CLASSES, SubjectClass
from studio.themes import catalogue, prompting
from studio.themes.models import PromptIdea, Theme


def _clip_tokens(text: str) -> int:
    """About how many CLIP tokens a text uses: words, numbers and punctuation marks."""
    return len(re.findall(r"[A-Za-z]+|\d+|[^\w\s]", text))


# --- The files --------------------------------------------------------------------------------


def test_catalogue_has_at_least_24_themes_for_people_and_for_pets():
    themes = catalogue.theme_entries()

    assert len(themes) >= 24
    for subject_class in SubjectClass.values:
        suited = [theme for theme in themes if subject_class in theme["subject_classes"]]
        assert len(suited) >= 8, f"only {len(suited)} themes suit a {subject_class}"
    assert sum(1 for t in themes if set(t["subject_classes"]) <= PET_CLASSES) >= 5
    assert sum(1 for t in themes if set(t["subject_classes"]) <= PERSON_CLASSES) >= 15


def test_every_theme_prompt_expands_cleanly_and_fits_sd15s_window():
    for theme in catalogue.theme_entries():
        for subject_class in theme["subject_classes"]:
            text = prompting.expand(theme["prompt"], subject_class=subject_class, token="sks")
            assert "{" not in text and "}" not in text
            assert f"sks {subject_class}" in text
            assert _clip_tokens(text) <= 75, f"{theme['slug']} is {_clip_tokens(text)} tokens"
        assert theme["negative_prompt"], theme["slug"]


def test_no_theme_or_idea_uses_a_forbidden_word():
    for theme in catalogue.theme_entries():
        assert prompting.forbidden_reason(theme["prompt"]) is None, theme["slug"]
    for idea in catalogue.idea_entries():
        assert prompting.forbidden_reason(idea["text"]) is None, idea["slug"]


def test_library_has_at_least_150_ideas_that_all_place_the_subject():
    ideas = catalogue.idea_entries()

    assert len(ideas) >= 150
    assert sum(1 for idea in ideas if idea["suits"] == "pets") >= 25
    for idea in ideas:
        subject_class = "dog" if idea["suits"] == "pets" else "woman"
        built = prompting.build_custom_prompt(idea["text"], subject_class=subject_class)
        assert not built.template.startswith("{subject}, "), (
            f"{idea['slug']} never says where the subject goes"
        )
        assert len(idea["keywords"].split()) >= 3, idea["slug"]


def test_every_theme_has_a_cover_image_and_alt_text():
    for theme in catalogue.theme_entries():
        assert finders.find(theme["cover"]), f"missing {theme['cover']}: run python -m tools.covers"
        assert theme["cover_alt"], theme["slug"]
        if theme["cover_pet"]:
            assert finders.find(theme["cover_pet"]), f"missing {theme['cover_pet']}"
    assert sum(1 for theme in catalogue.theme_entries() if theme["cover_pet"]) >= 8
    assert finders.find("themes/covers/_default.webp")


def test_a_malformed_catalogue_is_refused_with_the_entry_named(tmp_path):
    broken = tmp_path / "themes.toml"
    broken.write_text(
        '[[theme]]\nslug = "no-placeholder"\ntitle = "T"\ndescription = "D"\ntags = ["art"]\n'
        'suits = ["all"]\nprompt = "a portrait with no subject"\n'
    )

    with pytest.raises(catalogue.CatalogueError, match=r"theme 1 \(no-placeholder\): `prompt` must contain"):
        catalogue.theme_entries(broken)


# --- Loading ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_data_migration_loads_the_catalogue_and_the_library():
    # From the empty tables the migration finds (a test that empties the database may have run before
    # this one in the same process), with the models as they were when it runs.
    Theme.objects.all().delete()
    PromptIdea.objects.all().delete()
    loader = MigrationLoader(connection)
    before = loader.project_state(("themes", "0002_load_catalogue"), at_end=False)
    (load,) = loader.get_migration("themes", "0002_load_catalogue").operations
    load.code(before.apps, None)

    assert Theme.objects.count() == len(catalogue.theme_entries())
    assert PromptIdea.objects.count() == len(catalogue.idea_entries())


@pytest.mark.django_db
def test_sync_themes_can_run_again_and_again(capsys):
    call_command("sync_themes")
    before = list(Theme.objects.values_list("slug", "title", "prompt", "position", "is_active", "updated_at"))

    call_command("sync_themes")

    output = capsys.readouterr().out
    assert f"Themes: 0 created, 0 updated, {len(before)} unchanged" in output
    assert "Prompt ideas: 0 created, 0 updated" in output
    assert (
        list(Theme.objects.values_list("slug", "title", "prompt", "position", "is_active", "updated_at"))
        == before
    )


@pytest.mark.django_db
def test_sync_keeps_staff_edits_unless_asked_to_overwrite(capsys):
    call_command("sync_themes")
    theme = Theme.objects.get(slug="viking")
    theme.title, theme.is_active, theme.position = "Norse saga", False, 1
    theme.save()

    call_command("sync_themes")
    theme.refresh_from_db()
    assert (theme.title, theme.is_active, theme.position) == ("Norse saga", False, 1)
    assert "kept staff edit: viking.title" in capsys.readouterr().out

    call_command("sync_themes", "--overwrite")
    theme.refresh_from_db()
    assert (theme.title, theme.is_active) == ("Viking", True)


@pytest.mark.django_db
def test_sync_takes_file_changes_to_fields_staff_did_not_touch(tmp_path):
    entries = catalogue.theme_entries()
    catalogue.sync(Theme, entries)
    Theme.objects.filter(slug="viking").update(title="Norse saga")
    changed = [dict(entry) for entry in entries]
    for entry in changed:
        if entry["slug"] == "viking":
            entry["description"] = "A new line from the file."
            entry["title"] = "Vikings"

    report = catalogue.sync(Theme, changed)

    theme = Theme.objects.get(slug="viking")
    assert theme.description == "A new line from the file."
    assert theme.title == "Norse saga"
    assert report.updated == ["viking"] and report.kept == ["viking.title"]


@pytest.mark.django_db
def test_themes_removed_from_the_file_are_hidden_not_deleted():
    entries = catalogue.theme_entries()
    catalogue.sync(Theme, entries)

    report = catalogue.sync(Theme, [entry for entry in entries if entry["slug"] != "viking"])

    assert report.retired == ["viking"]
    assert Theme.objects.get(slug="viking").is_active is False


@pytest.mark.django_db
def test_sync_themes_reports_a_broken_file(monkeypatch, tmp_path):
    broken = tmp_path / "themes.toml"
    broken.write_text("[[theme]\n")
    monkeypatch.setattr(catalogue, "THEMES_FILE", broken)

    with pytest.raises(CommandError, match=r"themes\.toml"):
        call_command("sync_themes")


def test_data_files_live_in_the_repository():
    assert Path(settings.BASE_DIR, "studio/themes/data/themes.toml").is_file()
    assert Path(settings.BASE_DIR, "studio/themes/data/prompt_ideas.toml").is_file()
