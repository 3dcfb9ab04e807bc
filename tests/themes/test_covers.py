import io

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from studio.themes import catalogue, covers


def test_a_cover_is_painted_from_its_palette_and_scene_the_same_way_every_time():
    spec = catalogue.theme_cover_specs()["halloween"]

    first, second = covers.paint("halloween", spec), covers.paint("halloween", spec)

    assert first.size == (covers.WIDTH, covers.HEIGHT)
    assert first.tobytes() == second.tobytes()
    # The full moon of the scene is near white, the night sky around it dark.
    assert sum(first.getpixel((int(covers.WIDTH * 0.72), int(covers.HEIGHT * 0.2)))) > 600
    assert sum(first.getpixel((10, 10))) < 200


def test_every_painter_named_in_the_catalogue_exists():
    for slug, spec in catalogue.theme_cover_specs().items():
        assert set(spec["scene"]) <= set(covers.PAINTERS), slug


def test_the_pet_version_puts_a_dog_where_the_person_was():
    spec = {"palette": ["#000000", "#000000", "#ffffff", "#ffffff"], "scene": ["gradient", "bust", "crown"]}

    assert covers.pet_version(spec)["scene"] == ["gradient", "dog", "crown"]
    person, pet = covers.paint("x", spec), covers.paint("x", covers.pet_version(spec))
    # The dog's snout sticks out to the left where the person's head has only background.
    snout = (int(covers.WIDTH * 0.24), int(covers.HEIGHT * 0.33))
    assert sum(pet.getpixel(snout)) > 600 and sum(person.getpixel(snout)) < 100


def test_an_unknown_painter_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown cover painter 'sparkle-unicorns'"):
        covers.paint("test", {"scene": ["gradient", "sparkle-unicorns"]})


def test_render_theme_covers_writes_small_webp_files(tmp_path, capsys):
    call_command("render_theme_covers", "pet-studio", "watercolour", output=str(tmp_path))

    # Watercolour suits people and pets, so it also gets a cover with a dog in it.
    for slug in ("pet-studio", "watercolour", "watercolour-pet"):
        data = (tmp_path / f"{slug}.webp").read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size) == ("WEBP", (covers.WIDTH, covers.HEIGHT))
        assert len(data) < 40_000
    assert "3 covers" in capsys.readouterr().out


def test_render_theme_covers_refuses_unknown_themes(tmp_path):
    with pytest.raises(CommandError, match="no-such-theme"):
        call_command("render_theme_covers", "no-such-theme", output=str(tmp_path))
