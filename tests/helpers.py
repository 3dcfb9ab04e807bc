"""Small things many tests share."""

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from celery.signals import task_postrun

from studio.avatars.models import Avatar
from studio.credits.models import CreditEntry, EntryKind

# The header htmx sends with every request it makes.
HTMX = {"HX-Request": "true"}


def state_of(avatar: Avatar) -> str:
    """The avatar's state as stored now (the instance in hand may be stale)."""
    return Avatar.objects.get(pk=avatar.pk).state


def refunds(user) -> list[int]:
    """The amounts refunded to the user so far, oldest first."""
    return list(CreditEntry.objects.filter(user=user, kind=EntryKind.REFUND).values_list("amount", flat=True))


def free_port() -> int:
    """A local TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FinishedTasks:
    """The tasks run in this process so far, to wait for one instead of polling for its effects."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._finished = threading.Condition()

    def record(self, sender=None, **kwargs) -> None:
        with self._finished:
            self.names.append(sender.name)
            self._finished.notify_all()

    def wait_for(self, task, *, timeout: float) -> None:
        """Return once `task` has finished (succeeded or failed); fail the test after timeout."""
        with self._finished:
            if not self._finished.wait_for(lambda: task.name in self.names, timeout=timeout):
                pytest.fail(f"{task.name} did not finish within {timeout} s (finished: {self.names})")


@contextlib.contextmanager
def tasks_finished() -> Iterator[FinishedTasks]:
    finished = FinishedTasks()
    task_postrun.connect(finished.record, weak=False)
    try:
        yield finished
    finally:
        task_postrun.disconnect(finished.record)


POLL = 0.1  # s


@contextlib.contextmanager
def real_worker(queues: list[str]) -> Iterator[FinishedTasks]:
    """A real Celery worker thread consuming queues (not eager mode); yields the tasks finished so
    far, to wait on."""
    from celery.contrib.testing.worker import TestWorkController, start_worker

    from studio.celery import app

    class PromptlyStopping(TestWorkController):
        def on_consumer_ready(self, consumer):
            # Without Redis, the worker's loop waits up to 2 s on the in-memory broker before it
            # looks whether it should stop; it is asked again every poll (0.1 s) instead. (With
            # Redis the loop wakes on events and stops promptly on its own.)
            drain = consumer.connection.drain_events
            consumer.connection.drain_events = lambda timeout=None, **kwargs: drain(
                timeout=POLL if timeout is None else min(timeout, POLL), **kwargs
            )
            super().on_consumer_ready(consumer)

    app.conf.task_always_eager = False
    try:
        with tasks_finished() as finished, start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=queues,
            WorkController=PromptlyStopping,
        ):
            yield finished
    finally:
        app.conf.task_always_eager = True
