"""Painting the covers the theme catalogue names, from their recipes, into WebP files."""

import argparse
import os
import tomllib
from collections.abc import Callable
from pathlib import Path

import django
from django.apps import apps

from studio.themes import catalogue
from tools.covers import painters

RECIPES_FILE = Path(__file__).resolve().parent / "recipes.toml"
OUTPUT_DIR = Path(__file__).resolve().parents[2] / "static" / catalogue.COVER_DIR
DESCRIPTION = (
    "Paint the cover illustration of every theme in themes.toml into static/themes/covers/ "
    "(WebP, from its recipe in tools/covers/recipes.toml), a <slug>-pet.webp with a dog in it "
    "for themes that suit people and pets, and _default.webp for themes without a cover. "
    "Deterministic: the same recipes give the same images."
)


def covers_to_paint(slugs: list[str]) -> dict[str, dict]:
    """Cover name -> recipe, in painting order: _default, every theme's cover, then the pet versions
    the catalogue asks for; or only those of the given themes. ValueError names what is missing.

    The order is part of the result: Pillow's noise (grain, paper) comes from one generator per
    process, so a cover painted after others differs from the same cover painted alone. A full run
    in this order gives exactly the committed files."""
    with RECIPES_FILE.open("rb") as handle:
        recipes = tomllib.load(handle)
    themes = {theme["slug"]: theme for theme in catalogue.theme_entries()}
    unknown = set(slugs) - set(themes)
    if unknown:
        raise ValueError(f"Not in themes.toml: {', '.join(sorted(unknown))}")
    missing = [slug for slug in slugs or themes if slug not in recipes]
    if missing:
        raise ValueError(f"No recipe in {RECIPES_FILE.name} for: {', '.join(missing)}")
    if slugs:
        jobs = {slug: recipes[slug] for slug in slugs}
    else:
        jobs = {"_default": recipes["_default"]} | {slug: recipes[slug] for slug in themes}
    for slug in [slug for slug in jobs if slug in themes and themes[slug]["cover_pet"]]:
        jobs[f"{slug}-pet"] = painters.pet_version(jobs[slug])
    return jobs


def render(slugs: list[str], output: Path, *, write: Callable[[str], object] = print) -> tuple[int, int]:
    """Paint the covers into `output`, one line each through `write`; the count and total bytes."""
    jobs = covers_to_paint(slugs)
    output.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, recipe in jobs.items():
        data = painters.webp_bytes(painters.paint(name, recipe))
        (output / f"{name}.webp").write_bytes(data)
        total += len(data)
        write(f"{name}.webp  {len(data) // 1024} KiB")
    return len(jobs), total


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slugs", nargs="*", help="Only these themes (default: all).")
    parser.add_argument("--output", default=str(OUTPUT_DIR), help="folder (default %(default)s)")


def main(argv: list[str] | None = None) -> None:
    """`python -m tools.covers`: the catalogue needs the studio's settings (DEBUG=1 for the local ones)."""
    parser = argparse.ArgumentParser(prog="python -m tools.covers", description=DESCRIPTION)
    add_arguments(parser)
    options = parser.parse_args(argv)
    if not apps.ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
        django.setup()
    try:
        count, total = render(options.slugs, Path(options.output))
    except ValueError as exc:
        parser.exit(1, f"{exc}\n")
    print(f"{count} covers, {total // 1024} KiB in all, in {options.output}")
