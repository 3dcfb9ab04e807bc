from django.core.management.base import BaseCommand, CommandError

from studio.themes.catalogue import CatalogueError
from studio.themes.services import catalogue_sync


class Command(BaseCommand):
    help = (
        "Load the style themes and the prompt library from studio/themes/data/*.toml. Safe to run "
        "again: new entries are added, changed ones updated, and fields staff edited in the admin "
        "are kept unless --overwrite is given. Entries removed from the files are hidden, not deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace staff edits with what the files say (hidden themes are shown again).",
        )

    def handle(self, *args, overwrite: bool = False, **options):
        try:
            themes, ideas = catalogue_sync(overwrite=overwrite)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        for report, noun in ((themes, "Themes"), (ideas, "Prompt ideas")):
            self.stdout.write(report.summary(noun))
            for kept in report.kept:
                self.stdout.write(f"  kept staff edit: {kept} (use --overwrite to replace it)")
