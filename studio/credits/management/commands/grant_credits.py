import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from studio.credits.models import CreditEntry
from studio.credits.selectors import credit_balance
from studio.credits.services import credit_grant


def _positive(value: str) -> int:
    try:
        amount = int(value)
    except ValueError:
        raise CommandError(f"N must be a whole number of credits, not {value!r}.") from None
    if amount <= 0:
        raise CommandError(f"N must be a positive number of credits, not {amount}.")
    return amount


class Command(BaseCommand):
    help = "Grant free credits to a user, with a reason they will see in their credit history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the user's email address")
        parser.add_argument("amount", metavar="N", help="how many credits to grant (a positive number)")
        parser.add_argument("--reason", required=True, help='shown to the user, e.g. "Sorry about the failed avatar"')
        parser.add_argument(
            "--key",
            default="",
            help="an idempotency key: running the command again with the same key grants nothing more",
        )

    def handle(self, *args, email: str, amount: str, reason: str, key: str, **options) -> None:
        credits = _positive(amount)
        if not reason.strip():
            raise CommandError('Give a reason with --reason "...": the user sees it in their credit history.')
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user has the email address {email}.")
        key = f"support:{key}" if key else f"support:{uuid.uuid4()}"
        if CreditEntry.objects.filter(key=key).exists():
            self.stdout.write(f"Already granted under the key {key}: nothing changed.")
            return
        try:
            credit_grant(user=user, amount=credits, key=key, reason=reason.strip())
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Granted {credits} credit{'s' if credits != 1 else ''} to {user.email} "
                f"({reason.strip()}). Balance: {credit_balance(user=user)}."
            )
        )
