import io
import tomllib

import pytest
from django.core.management import call_command
from PIL import Image

from studio.themes import catalogue
from tools.covers import painters
from tools.covers.management.commands.render_theme_covers import Command
from tools.covers.render import RECIPES_FILE, covers_to_paint, main


def recipes() -> dict:
    with RECIPES_FILE.open("rb") as handle:
        return tomllib.load(handle)


def test_a_cover_is_painted_from_its_palette_and_scene_the_same_way_every_time():
    spec = recipes()["halloween"]

    first, second = painters.paint("halloween", spec), painters.paint("halloween", spec)

    assert first.size == (painters.WIDTH, painters.HEIGHT)
    assert first.tobytes() == second.tobytes()
    # The full moon of the scene is near white, the night sky around it dark.
    assert sum(first.getpixel((int(painters.WIDTH * 0.72), int(painters.HEIGHT * 0.2)))) > 600
    assert sum(first.getpixel((10, 10))) < 200


def test_every_theme_has_a_recipe_made_of_known_painters():
    known = recipes()
    for slug in ["_default", *(theme["slug"] for theme in catalogue.theme_entries())]:
        assert set(known[slug]["scene"]) <= set(painters.PAINTERS), slug


def test_a_full_run_paints_every_cover_file_of_the_catalogue_pet_versions_last():
    themes = catalogue.theme_entries()

    names = list(covers_to_paint([]))

    files = [f"{catalogue.COVER_DIR}/{name}.webp" for name in names]
    expected = [theme["cover"] for theme in themes] + [theme["cover_pet"] for theme in themes if theme["cover_pet"]]
    # The committed files were painted in this order (Pillow's noise generator is per process).
    assert files == [f"{catalogue.COVER_DIR}/_default.webp", *expected]


def test_the_pet_version_puts_a_dog_where_the_person_was():
    spec = {"palette": ["#000000", "#000000", "#ffffff", "#ffffff"], "scene": ["gradient", "bust", "crown"]}

    assert painters.pet_version(spec)["scene"] == ["gradient", "dog", "crown"]
    person, pet = painters.paint("x", spec), painters.paint("x", painters.pet_version(spec))
    # The dog's snout sticks out to the left where the person's head has only background.
    snout = (int(painters.WIDTH * 0.24), int(painters.HEIGHT * 0.33))
    assert sum(pet.getpixel(snout)) > 600 and sum(person.getpixel(snout)) < 100


def test_an_unknown_painter_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown cover painter 'sparkle-unicorns'"):
        painters.paint("test", {"scene": ["gradient", "sparkle-unicorns"]})


def test_the_tool_writes_small_webp_files(tmp_path, capsys):
    main(["pet-studio", "watercolour", "--output", str(tmp_path)])

    # Watercolour suits people and pets, so it also gets a cover with a dog in it.
    for slug in ("pet-studio", "watercolour", "watercolour-pet"):
        data = (tmp_path / f"{slug}.webp").read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size) == ("WEBP", (painters.WIDTH, painters.HEIGHT))
        assert len(data) < 40_000
    assert "3 covers" in capsys.readouterr().out


def test_the_tool_refuses_unknown_themes(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["no-such-theme", "--output", str(tmp_path)])

    assert exited.value.code == 1
    assert "Not in themes.toml: no-such-theme" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_manage_py_command_paints_the_same_covers(tmp_path):
    out = io.StringIO()

    call_command(Command(), "pet-studio", output=str(tmp_path), stdout=out)

    assert [path.name for path in tmp_path.iterdir()] == ["pet-studio.webp"]
    assert "1 covers" in out.getvalue()
