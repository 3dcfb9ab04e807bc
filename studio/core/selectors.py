import logging

from django.db import connection
from django.db.utils import Error as DatabaseError

from studio.celery import app as celery_app

logger = logging.getLogger(__name__)


def health_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.exception("health check: database unreachable")
        return False


def health_broker() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
            # ensure_connection can succeed lazily; a real round trip proves the broker answers.
            with conn.channel() as channel:
                channel.queue_declare(queue="studio.healthz", passive=False, auto_delete=True)
        return True
    except Exception:  # any transport error means "down"; the log has the details
        logger.exception("health check: broker unreachable")
        return False
