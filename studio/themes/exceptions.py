from studio.core.exceptions import ApplicationError


class PromptRejected(ApplicationError):
    """A prompt the studio will not send: empty, or asking for content the operator forbids."""


class FairUseLimitReached(ApplicationError):
    """Choosing this would go past the fair-use limits (themes, own prompts or prompts in all)."""


class ThemeUnavailable(ApplicationError):
    """The theme does not exist, is hidden, or does not suit the avatar's subject."""


class SelectionLocked(ApplicationError):
    """The avatar has left the draft stage: its styles can no longer change."""
