"""Small things many tests share."""

import socket

from studio.avatars.models import Avatar

# The header htmx sends with every request it makes.
HTMX = {"HX-Request": "true"}


def state_of(avatar: Avatar) -> str:
    """The avatar's state as stored now (the instance in hand may be stale)."""
    return Avatar.objects.get(pk=avatar.pk).state


def free_port() -> int:
    """A local TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
