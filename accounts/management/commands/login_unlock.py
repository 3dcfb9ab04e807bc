from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import login_limits
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Let an account log in again after too many failed attempts: clears its per-account "
        "lock-out (a staff account's lock-out for every address), and with --address that address's."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the account's email address")
        parser.add_argument(
            "--address", default="", help="also unlock the account for this client address (e.g. 203.0.113.7)"
        )

    def handle(self, *args, email: str, address: str, **options) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user has the email address {email}.")
        login_limits.login_unlock(email=user.email, address=address)
        where = f" and the address {address}" if address else ""
        self.stdout.write(self.style.SUCCESS(f"Unlocked {user.email}{where}: log-ins are counted afresh."))
