"""What can go wrong talking to Astria, as our own exceptions.

Which ones to retry:

- `AstriaTransient` (429, 5xx, timeouts, connection errors) is transient: retry with exponential
  backoff, a cap and jitter (Astria suggests starting around 30 s for 500s). Its `retry_after`
  carries the server's Retry-After in seconds when there was one.
- `AstriaMaybeCreated` is a transient error on a create (a 504, a read timeout or a dropped
  connection after the request was sent): Astria has probably created the object anyway.
  Before trying again, look the tune up by its title (`AstriaClient.find_tune_by_title`) and use
  it if it is there, so no duplicate is ever made (for a prompt, list the tune's prompts). It
  subclasses `AstriaTransient`, so a plain "retry transient errors" policy still retries it, which
  is safe only when the create path looks the title up first.
- `AstriaRejected` (422 and other 4xx): the request itself is wrong; never retry it unchanged.
- `AstriaAuthError` (401, 403): the API key is missing, wrong or revoked; retrying will not help.
  Its `AstriaNotConfigured` comes before any call, when there is no key and the sandbox is not
  allowed (production).
- `AstriaNotFound` (404): no such object for this key (deleted, expired or another account's).

Messages never contain the API key or callback tokens.
"""


class AstriaError(Exception):
    """Base class: every failure of an Astria call. `status` is the HTTP status, when there was one."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class AstriaAuthError(AstriaError):
    """401/403: the key was refused. Not transient."""


class AstriaNotConfigured(AstriaAuthError):
    """No ASTRIA_API_KEY where the sandbox is not allowed: no call is made at all."""


class AstriaNotFound(AstriaError):
    """404: the object does not exist for this key. Not transient."""


class AstriaRejected(AstriaError):
    """422 (or another 4xx): Astria refused the input; the message says why. Never retried."""


class AstriaTransient(AstriaError):
    """429, 5xx, timeouts and connection errors: transient, retry with backoff."""

    def __init__(
        self, message: str, *, status: int | None = None, body: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class AstriaMaybeCreated(AstriaTransient):
    """A create that probably succeeded (504, no answer in time, connection dropped after sending):
    look it up before retrying."""
