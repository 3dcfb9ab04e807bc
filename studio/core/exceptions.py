class ApplicationError(Exception):
    """A failure the user or operator can understand; the message is safe to show."""

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
