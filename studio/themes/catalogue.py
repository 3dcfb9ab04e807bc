"""The curated catalogue files (themes and prompt ideas) and loading them into the database.

The files live beside this module in ``data/`` as TOML. Loading is idempotent and keeps what staff
edited in the admin: each row remembers, in ``synced``, the values the file gave it last time. A
field whose current value still equals that was not edited here and follows the file; a field that
differs was edited by staff and is kept, unless the sync is asked to overwrite.

The loaders take the model classes as arguments so the data migration can pass its historical
models; fields the given model does not have yet are skipped.
"""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.themes.prompting import ASPECT_RATIOS, SUBJECT

DATA_DIR = Path(__file__).resolve().parent / "data"
THEMES_FILE = DATA_DIR / "themes.toml"
IDEAS_FILE = DATA_DIR / "prompt_ideas.toml"
# Each theme's card shows <slug>.webp from here (static files), painted by tools/covers.
COVER_DIR = "themes/covers"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CatalogueError(ValueError):
    """The data file is malformed; the message names the file and the entry."""


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # "slug.field" edited by staff and left alone
    retired: list[str] = field(default_factory=list)  # no longer in the file: hidden

    def summary(self, noun: str) -> str:
        parts = [
            f"{len(self.created)} created",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
        ]
        if self.retired:
            parts.append(f"{len(self.retired)} hidden (no longer in the file)")
        if self.kept:
            parts.append(f"{len(self.kept)} staff edits kept")
        return f"{noun}: " + ", ".join(parts)


def _load(path: Path, table: str) -> list[dict[str, Any]]:
    with path.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path.name}: {exc}") from exc
    entries = data.get(table)
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{path.name}: no [[{table}]] entries")
    return entries


def _text(entry: dict, key: str, where: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CatalogueError(f"{where}: `{key}` must be a non-empty string")
    return " ".join(value.split())


def theme_entries(path: Path | None = None) -> list[dict[str, Any]]:
    """The themes in the file, validated, as the field values of the Theme model."""
    path = path or THEMES_FILE
    # Models need Django set up; the cover painter imports this module before it is.
    from studio.themes.models import expand_subject_groups  # noqa: PLC0415

    values: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(_load(path, "theme")):
        slug = entry.get("slug", "")
        where = f"{path.name}, theme {index + 1} ({slug or 'no slug'})"
        if not isinstance(slug, str) or not _SLUG.match(slug) or slug in seen:
            raise CatalogueError(f"{where}: `slug` must be unique, lower-case words joined by hyphens")
        seen.add(slug)
        prompt = _text(entry, "prompt", where)
        if prompt.count(SUBJECT) != 1:
            raise CatalogueError(f"{where}: `prompt` must contain {SUBJECT} exactly once")
        tags = entry.get("tags", [])
        if not tags or not all(isinstance(tag, str) and _SLUG.match(tag) for tag in tags):
            raise CatalogueError(f"{where}: `tags` must be a list of lower-case words")
        try:
            classes = expand_subject_groups(list(entry.get("suits", [])))
        except ValueError as exc:
            raise CatalogueError(f"{where}: {exc}") from None
        if not classes:
            raise CatalogueError(f"{where}: `suits` must name at least one class or group")
        aspect = entry.get("aspect_ratio", "")
        if aspect and aspect not in ASPECT_RATIOS:
            raise CatalogueError(f"{where}: `aspect_ratio` must be one of {', '.join(ASPECT_RATIOS)}")
        cfg_scale, steps = entry.get("cfg_scale"), entry.get("steps")
        if cfg_scale is not None and not (isinstance(cfg_scale, int | float) and 0 <= cfg_scale <= 15):
            raise CatalogueError(f"{where}: `cfg_scale` must be a number from 0 to 15")
        if steps is not None and not (isinstance(steps, int) and 1 <= steps <= 50):
            raise CatalogueError(f"{where}: `steps` must be a whole number from 1 to 50")
        values.append(
            {
                "slug": slug,
                "title": _text(entry, "title", where),
                "description": _text(entry, "description", where),
                "tags": list(tags),
                "subject_classes": classes,
                "prompt": prompt,
                "negative_prompt": _text(entry, "negative_prompt", where, required=False),
                "cfg_scale": float(cfg_scale) if cfg_scale is not None else None,
                "steps": steps,
                "aspect_ratio": aspect,
                "cover": f"{COVER_DIR}/{slug}.webp",
                "cover_pet": f"{COVER_DIR}/{slug}-pet.webp" if needs_pet_cover(classes) else "",
                "cover_alt": _text(entry, "cover_alt", where, required=False),
                "position": (index + 1) * 10,
                "is_active": True,
            }
        )
    return values


def needs_pet_cover(subject_classes: list[str]) -> bool:
    """Themes for people and pets alike get a second cover with a pet in it."""
    pets = {"dog", "cat"}
    return bool(pets & set(subject_classes)) and bool(set(subject_classes) - pets)


def idea_entries(path: Path | None = None) -> list[dict[str, Any]]:
    """The prompt ideas in the file, validated, as the field values of the PromptIdea model."""
    path = path or IDEAS_FILE
    values: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(_load(path, "idea")):
        slug = entry.get("slug", "")
        where = f"{path.name}, idea {index + 1} ({slug or 'no slug'})"
        if not isinstance(slug, str) or not _SLUG.match(slug) or slug in seen:
            raise CatalogueError(f"{where}: `slug` must be unique, lower-case words joined by hyphens")
        seen.add(slug)
        text = _text(entry, "text", where)
        suits = entry.get("suits", "all")
        if suits not in ("people", "pets", "all"):
            raise CatalogueError(f"{where}: `suits` must be people, pets or all")
        keywords = entry.get("keywords", [])
        if not keywords or not all(isinstance(word, str) and word.strip() for word in keywords):
            raise CatalogueError(f"{where}: `keywords` must be a list of words")
        values.append(
            {
                "slug": slug,
                "title": _text(entry, "title", where),
                "text": text,
                "keywords": " ".join(word.strip().lower() for word in keywords),
                "suits": suits,
                "position": (index + 1) * 10,
                "is_active": True,
            }
        )
    return values


def sync(model: type, entries: list[dict[str, Any]], *, overwrite: bool = False) -> SyncReport:
    """Create or update one row per entry (by slug), keeping staff edits unless ``overwrite``.

    Rows that came from the file but are no longer in it are hidden, never deleted (avatars may
    have chosen them).
    """
    report = SyncReport()
    model_fields = {f.name for f in model._meta.get_fields()}
    existing = {obj.slug: obj for obj in model.objects.all()}
    for entry in entries:
        values = {name: value for name, value in entry.items() if name in model_fields and name != "slug"}
        obj = existing.get(entry["slug"])
        if obj is None:
            model.objects.create(slug=entry["slug"], synced=values, **values)
            report.created.append(entry["slug"])
            continue
        synced = obj.synced or {}
        changed = False
        for name, new in values.items():
            current = getattr(obj, name)
            if current == new:
                continue
            edited_here = name in synced and current != synced[name]
            if edited_here and not overwrite:
                report.kept.append(f"{obj.slug}.{name}")
                continue
            setattr(obj, name, new)
            changed = True
        if changed or synced != values:
            obj.synced = values
            obj.save()
        (report.updated if changed else report.unchanged).append(obj.slug)
    in_file = {entry["slug"] for entry in entries}
    for slug, obj in existing.items():
        if slug not in in_file and obj.synced and obj.is_active:
            obj.is_active = False
            obj.save(update_fields=["is_active", "updated_at"])
            report.retired.append(slug)
    return report


def load_all(
    *, theme_model: type, idea_model: type, overwrite: bool = False
) -> tuple[SyncReport, SyncReport]:
    return (
        sync(theme_model, theme_entries(), overwrite=overwrite),
        sync(idea_model, idea_entries(), overwrite=overwrite),
    )
