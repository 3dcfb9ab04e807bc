from studio.core.exceptions import ApplicationError


class PackNotOnSale(ApplicationError):
    """The pack asked for is not (or no longer) one of the packs on sale."""


class CheckoutUnavailable(ApplicationError):
    """No checkout can be opened now: no payment provider is set up, or it did not answer.
    Nothing was charged."""
