from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from astria_sandbox import cli


class Command(BaseCommand):
    help = cli.DESCRIPTION

    def add_arguments(self, parser):
        cli.add_arguments(parser, cli.environment_defaults())

    def handle(self, *args, **options):
        try:
            sandbox = cli.start(options, gallery_tunes=settings.ASTRIA_GALLERY_TUNES)
        except cli.StartError as exc:
            raise CommandError(str(exc)) from exc
        for line in cli.summary(sandbox, options):
            self.stdout.write(line)
        if not settings.ASTRIA_USES_SANDBOX:
            self.stdout.write(
                "  ASTRIA_API_KEY is set, so the studio talks to the real Astria; this sandbox is idle."
            )
        elif sandbox.url != settings.ASTRIA_API_URL:
            self.stdout.write(
                f"  Note: the studio's ASTRIA_API_URL is {settings.ASTRIA_API_URL}, not this sandbox."
            )
        self.stdout.flush()
        cli.serve(sandbox)
