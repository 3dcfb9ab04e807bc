"""Real threads against the real database: for the races that matter on PostgreSQL."""

import threading

from django.db import connection

JOIN_TIMEOUT = 30  # seconds; a thread still alive after this is a deadlock


def run_together(work, count: int = 10) -> list:
    """Runs work(i) in `count` threads released at once; returns their results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # collected and asserted by the test
            results[index] = error
        finally:
            connection.close()  # each thread owns its connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck: deadlock"
    return results
