from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tools.covers.render import DESCRIPTION, add_arguments, render


class Command(BaseCommand):
    help = DESCRIPTION

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, slugs: list[str], output: str, **options):
        try:
            count, total = render(slugs, Path(output), write=self.stdout.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{count} covers, {total // 1024} KiB in all, in {output}"))
