import logging
from functools import partial

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# Options for a task that sends an email: SMTP and socket errors are transient, so it retries.
EMAIL_TASK = {
    "autoretry_for": (OSError,),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
}


def _send(task: Task, args: tuple) -> None:
    try:
        task.delay(*args)
    except BrokerError:
        # The row is committed; the reconciler finds it and enqueues it again later.
        logger.exception("broker unavailable: %s not enqueued now", task.name)


def enqueue_on_commit(task: Task, *args) -> None:
    """Enqueue task(*args) once the current transaction commits (at once outside one).

    A broker that is down does not turn a committed write into an error for the user.
    """
    transaction.on_commit(partial(_send, task, args))
