from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from studio.themes import catalogue, covers


class Command(BaseCommand):
    help = (
        "Paint the cover illustration of every theme in themes.toml into static/themes/covers/ "
        "(WebP, from each theme's [theme.cover] palette and scene), a <slug>-pet.webp with a dog in it "
        "for themes that suit people and pets, and _default.webp for themes without a cover. "
        "Deterministic: the same file gives the same images."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Only these themes (default: all).")
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "static" / catalogue.COVER_DIR))

    def handle(self, *args, slugs: list[str], output: str, **options):
        specs = catalogue.theme_cover_specs()
        unknown = set(slugs) - set(specs)
        if unknown:
            raise CommandError(f"Not in themes.toml: {', '.join(sorted(unknown))}")
        target = Path(output)
        target.mkdir(parents=True, exist_ok=True)
        pet_slugs = {entry["slug"] for entry in catalogue.theme_entries() if entry["cover_pet"]}
        jobs = (
            {slug: specs[slug] for slug in slugs}
            if slugs
            else {
                "_default": {
                    "palette": ["#23235b", "#5b5bd6", "#d6409f", "#14143a"],
                    "scene": ["gradient", "bokeh", "bust", "sparkles", "glow"],
                },
                **specs,
            }
        )
        for slug in [slug for slug in jobs if slug in pet_slugs]:
            jobs[f"{slug}-pet"] = covers.pet_version(jobs[slug])
        total = 0
        for slug, spec in jobs.items():
            try:
                data = covers.webp_bytes(covers.paint(slug, spec))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            (target / f"{slug}.webp").write_bytes(data)
            total += len(data)
            self.stdout.write(f"{slug}.webp  {len(data) // 1024} KiB")
        self.stdout.write(self.style.SUCCESS(f"{len(jobs)} covers, {total // 1024} KiB in all, in {target}"))
