class ApplicationError(Exception):
    """A failure the user or operator can understand; the message is safe to show."""

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InsufficientCredits(ApplicationError):
    """A spend larger than the wallet's balance; nothing was spent."""

    def __init__(self, *, amount: int, balance: int) -> None:
        unit = "credit" if amount == 1 else "credits"
        super().__init__(
            f"This needs {amount} {unit} and you have {balance}.",
            extra={"amount": amount, "balance": balance},
        )
        self.amount = amount
        self.balance = balance
