"""The scale benchmark's own process (bench/bench_scale.py explains): `python -m bench.scale_child SIZE`.

Prints its progress on standard error and, as the last line of standard output, the figures as
a JSON list of Figure fields.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from unittest import mock

from bench import Figure
from bench.stack import Database

REPEAT = 3
SLOW_PAGE = 10.0  # seconds: a page this slow is timed once, not REPEAT times
WORKER_RATE = 40  # tasks a second: what a worker with 2 processes drained in the pipeline's measurements
MINUTES = 10
DASHBOARD_BUDGET_MS = 300
CHANGELIST_BUDGET_MS = 500
RECONCILE_RUN_BUDGET_S = 5
ROLLUP_RUN_BUDGET_S = 10
SEED_BUDGET_S = 300  # 100,000 avatars in a few minutes
# "A few hundred a minute": a run's two sweeps that enqueue checks take at most schedule.BATCH
# (200) avatars each, and the give-ups, deletions and purges a few more; a quarter of what one
# worker drains in a minute.
TASKS_PER_MINUTE_BUDGET = 600
QUEUE_BUDGET = WORKER_RATE * 60  # flat: never more left than the worker clears in a minute


def say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def setup(database: Database, folder: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database.url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "VAR_DIR": str(folder),
        "ALLOW_ASTRIA_SANDBOX": "1",
        "ALLOW_CONSOLE_EMAIL": "1",
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "ERROR",
        "LOG_FORMAT": "plain",
    })
    # The reconciler's messages go to a queue of this run's own (emptied after each run), so a
    # run's time includes publishing them; without REDIS_URL they are counted, not sent.
    os.environ["BENCH_QUEUE"] = f"bench-scale-{os.getpid()}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("sync_themes", verbosity=0, stdout=io.StringIO())
    call_command("collectstatic", verbosity=0, interactive=False)


# --- pages ------------------------------------------------------------------------------------------


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure_page(client, name: str, url: str, budget_ms: float | None, what: str) -> Figure:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    first = time.perf_counter() - started
    queries = captured.captured_queries  # read now: the next requests clear the connection's log
    if response.status_code != 200:
        raise RuntimeError(f"{name}: {url} answered {response.status_code}")
    times = [first]
    if first < SLOW_PAGE:
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    details = {"url": url, "queries": len(queries)}
    note = f"{what}; {len(queries)} queries"
    if slowest is not None:
        details["slowest_query_ms"] = round(float(slowest["time"]) * 1000, 1)
        details["slowest_query"] = slowest["sql"]
        try:
            details["slowest_plan"] = _explain(slowest["sql"])
        except Exception as error:
            details["slowest_plan"] = f"(no plan: {error})"
        note += f", slowest {details['slowest_query_ms']:.0f} ms"
    value = statistics.median(times) * 1000
    say(f"{name}: {value:,.0f} ms, {note}")
    return Figure(f"scale.{name}", value, "ms", budget=budget_ms, note=note, details=details)


def pages(seeded) -> list[Figure]:
    from django.test import Client

    from accounts.models import User

    staff = Client()
    staff.force_login(User.objects.get(pk=seeded.staff_id))
    customer = Client()
    customer.force_login(User.objects.get(pk=seeded.big_user_id))
    email = seeded.big_user_email
    dash, admin = DASHBOARD_BUDGET_MS, CHANGELIST_BUDGET_MS
    checks = [
        (staff, "dashboard_30d", "/staff/dashboard/?days=30", dash, "staff dashboard, last 30 days"),
        (staff, "dashboard_all", "/staff/dashboard/?days=all", dash, "staff dashboard, all time (a year of data)"),
        (staff, "admin_avatars", "/admin/avatars/avatar/", admin, "admin avatars, first page"),
        (staff, "admin_avatars_search_email", f"/admin/avatars/avatar/?q={email}", admin,
         "admin avatars, search by email"),
        (staff, "admin_prompts_search", f"/admin/avatars/prompt/?q={seeded.prompt_label_word}", admin,
         "admin prompts, search a word of the label"),
        (staff, "admin_images", "/admin/avatars/generatedimage/", admin, "admin images, first page"),
        (staff, "admin_ledger_search_email", f"/admin/credits/creditentry/?q={email}", admin,
         "admin ledger, search by email"),
        (customer, "my_avatars_u50", "/avatars/", None, "My avatars, a user with 50 avatars"),
        (customer, "gallery", f"/avatars/{seeded.gallery_avatar_id}/", None, "a done avatar's gallery"),
    ]
    return [measure_page(client, name, url, budget, what) for client, name, url, budget, what in checks]


def beat_task(path: str):
    """The task beat runs under that name (its module imported, as a worker does)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def rollup() -> list[Figure]:
    """The dashboard's rollup as beat runs it: the first run fills a year of days, later ones
    recompute the last closed days and compare every wallet with its ledger."""
    from django.conf import settings

    task = beat_task(settings.CELERY_BEAT_SCHEDULE["dashboard-rollup"]["task"])
    started = time.perf_counter()
    first = task.run()
    backfill = time.perf_counter() - started
    started = time.perf_counter()
    task.run()
    again = time.perf_counter() - started
    say(f"rollup: first run {backfill:.1f} s ({first['days']} days), then {again:.1f} s")
    return [
        Figure("scale.rollup_first_run", backfill, "s", note=f"{first['days']} days from nothing"),
        Figure("scale.rollup_run", again, "s", budget=ROLLUP_RUN_BUDGET_S,
               note="a run as beat makes it every 10 minutes: the last 2 closed days and the ledger check"),
    ]


# --- the reconciler ------------------------------------------------------------------------------------


class Clock:
    """timezone.now() for everything in this process, moved by hand."""

    def __init__(self) -> None:
        from django.utils import timezone

        self.now = timezone.now()

    def __call__(self):
        return self.now


class FakeAstria:
    """Its `request` stands in for AstriaClient._request: every tune is still training, every prompt still
    generating (no images); counts the calls."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.calls = clock, 0

    def request(self, method: str, path: str, **kwargs):
        from studio.avatars.models import Avatar, Prompt

        self.calls += 1
        if match := re.fullmatch(r"/tunes/(\d+)/prompts/(\d+)", path):
            return {"id": int(match[2]), "tune_id": int(match[1]), "text": "", "images": []}
        if match := re.fullmatch(r"/tunes/(\d+)/prompts", path):
            offset = int((kwargs.get("params") or {}).get("offset", 0))
            ids = Prompt.objects.filter(avatar__tune_id=int(match[1]), astria_prompt_id__isnull=False).order_by(
                "-astria_prompt_id").values_list("astria_prompt_id", flat=True)[offset:offset + 20]
            return [{"id": pid, "tune_id": int(match[1]), "text": "", "images": []} for pid in ids]
        if match := re.fullmatch(r"/tunes/(\d+)", path):
            # Training started when it was submitted and should have taken 20 minutes.
            submitted = Avatar.objects.filter(tune_id=int(match[1])).values_list("submitted_at", flat=True).first()
            submitted = submitted or self.clock()
            return {"id": int(match[1]), "title": "", "trained_at": None,
                    "started_training_at": submitted.isoformat(),
                    "eta": (submitted + timedelta(minutes=20)).isoformat()}
        if path == "/tunes":
            return []
        return None


def reconciler(seeded) -> list[Figure]:
    import redis
    from celery import current_app
    from celery.app.task import Task
    from django.conf import settings

    from studio.astria.client import AstriaClient

    clock = Clock()
    astria = FakeAstria(clock)
    queue: deque = deque()

    redis_url = os.environ.get("REDIS_URL", "")
    broker = redis.Redis.from_url(redis_url) if redis_url else None
    send = Task.apply_async

    def publish(task, args=None, kwargs=None, **options):
        queue.append((task.name, tuple(args or ()), dict(kwargs or {})))
        if broker is not None:
            send(task, args, kwargs, **options)

    def purge() -> None:
        if broker is not None:
            for key in broker.scan_iter(f"*{os.environ['BENCH_QUEUE']}*"):
                broker.delete(key)

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("reconcile"))
    reconcile = beat_task(entry["task"])
    runs, published, lengths, executed, failures = [], [], [], 0, 0
    with mock.patch("django.utils.timezone.now", clock), \
            mock.patch.object(AstriaClient, "_request", astria.request), \
            mock.patch.object(Task, "apply_async", publish):
        for minute in range(MINUTES):
            minute_start = clock.now
            before = len(queue)
            started = time.perf_counter()
            reconcile.run()
            runs.append(time.perf_counter() - started)
            published.append(len(queue) - before)
            purge()  # the simulated worker below takes its tasks from `queue`
            # The worker's minute: WORKER_RATE tasks a second, each run for real, the clock moving.
            for _ in range(WORKER_RATE * 60):
                if not queue:
                    break
                name, args, kwargs = queue.popleft()
                clock.now += timedelta(seconds=1 / WORKER_RATE)
                try:
                    current_app.tasks[name].run(*args, **kwargs)
                except Exception as error:
                    if not failures:
                        say(f"a task failed ({name}): {error!r}")
                    failures += 1
                executed += 1
            lengths.append(len(queue))
            clock.now = max(clock.now, minute_start + timedelta(seconds=60))
            say(f"minute {minute + 1}: run {runs[-1]:.2f} s, {published[-1]:,} tasks enqueued, "
                f"{len(queue):,} left after the worker's minute")
    in_flight = seeded.in_flight
    detail = {"runs_s": [round(r, 3) for r in runs], "enqueued_per_run": published, "queue_after_minute": lengths,
              "executed": executed, "task_errors": failures, "astria_calls": astria.calls}
    sent = "messages published to Redis" if broker is not None else "messages counted, not sent (no REDIS_URL)"
    note = f"{in_flight:,} avatars in flight; {sent}; worker {WORKER_RATE} tasks/s (fixed), {MINUTES} runs"
    return [
        Figure("scale.reconcile_run", max(runs), "s", budget=RECONCILE_RUN_BUDGET_S,
               note=f"{note}; the longest run (first {runs[0]:.1f} s)", details=detail),
        Figure("scale.reconcile_tasks_per_minute", sum(published) / MINUTES, "tasks",
               budget=TASKS_PER_MINUTE_BUDGET, note=f"enqueued over {MINUTES} minutes (the most in one run: "
               f"{max(published):,})"),
        Figure("scale.reconcile_queue_after_10min", lengths[-1], "tasks", budget=QUEUE_BUDGET,
               note=f"left after {MINUTES} minutes (peak {max(lengths):,}); flat means under a minute of work"),
        Figure("scale.astria_calls_per_minute", astria.calls / MINUTES, "calls",
               note="calls to the stand-in Astria by the worker's tasks"),
    ]


def main(size: int) -> list[Figure]:
    folder = Path(tempfile.mkdtemp(prefix="studio-scale-"))
    database = Database("bench", folder)
    say(f"scale: {size:,} avatars in {database.description}")
    try:
        setup(database, folder)
        from bench.scale_seed import seed

        started = time.perf_counter()
        seeded = seed(size)
        seconds = time.perf_counter() - started
        counts = ", ".join(f"{count:,} {name}" for name, count in seeded.counts.items())
        say(f"seeded in {seconds:.0f} s: {counts}")
        figures = [Figure("scale.seed", seconds, "s", budget=SEED_BUDGET_S, note=counts)]
        figures += rollup()
        figures += pages(seeded)
        figures += reconciler(seeded)
        return figures
    finally:
        from django.db import connections

        connections.close_all()
        if not os.environ.get("BENCH_KEEP"):
            database.drop()


if __name__ == "__main__":
    result = main(int(sys.argv[1]))
    print(json.dumps([asdict(figure) for figure in result]))
