import logging

from django.core.management.base import BaseCommand, CommandError

from studio.astria import checks
from studio.astria.client import get_client
from studio.astria.errors import AstriaNotConfigured


class Command(BaseCommand):
    help = (
        "Check the Astria setup: which Astria the studio talks to, whether the key works, the branch "
        "and token in use, and whether Astria can call PUBLIC_URL back. Exits non-zero on problems."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Astria: {checks.describe_target()}.")
        try:
            client = get_client()
        except AstriaNotConfigured as exc:
            raise CommandError(exc.message) from None
        client_logger = logging.getLogger("studio.astria")
        level = client_logger.level
        client_logger.setLevel(logging.WARNING)  # the findings say it all; no request log lines
        try:
            key_works, key_finding = checks.check_key(client)
            findings = [key_finding]
            findings += checks.check_branch(client if key_works else None)
            findings += checks.check_edit_tune(client if key_works else None)
            findings += checks.check_public_url()
        finally:
            client_logger.setLevel(level)

        styles = {
            checks.OK: self.style.SUCCESS,
            checks.WARNING: self.style.WARNING,
            checks.PROBLEM: self.style.ERROR,
        }
        for finding in findings:
            self.stdout.write(f"  {styles[finding.level](finding.level.ljust(9))}{finding.text}")

        problems = sum(1 for finding in findings if finding.level == checks.PROBLEM)
        warnings = sum(1 for finding in findings if finding.level == checks.WARNING)
        if problems:
            raise CommandError(f"{problems} problem{'s' if problems > 1 else ''} found: see above.")
        self.stdout.write(
            "All set" + (f", with {warnings} warning{'s' if warnings > 1 else ''}." if warnings else ".")
        )
