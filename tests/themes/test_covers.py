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


def test_an_unknown_painter_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown cover painter 'sparkle-unicorns'"):
        covers.paint("test", {"scene": ["gradient", "sparkle-unicorns"]})


def test_render_theme_covers_writes_small_webp_files(tmp_path, capsys):
    call_command("render_theme_covers", "pet-studio", "watercolour", output=str(tmp_path))

    for slug in ("pet-studio", "watercolour"):
        data = (tmp_path / f"{slug}.webp").read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size) == ("WEBP", (covers.WIDTH, covers.HEIGHT))
        assert len(data) < 40_000
    assert "2 covers" in capsys.readouterr().out


def test_render_theme_covers_refuses_unknown_themes(tmp_path):
    with pytest.raises(CommandError, match="no-such-theme"):
        call_command("render_theme_covers", "no-such-theme", output=str(tmp_path))
