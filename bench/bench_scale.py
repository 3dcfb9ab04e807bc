"""The studio at scale: `python -m bench scale [--size N]` (10,000 avatars unless --size says).

Needs PostgreSQL (DATABASE_URL): without it the benchmark says so and is skipped. It resets one
database of its own beside DATABASE_URL's (`<name>_bench`), migrates it and seeds it with COPY
through the models' tables (bench/scale_seed.py: `size` avatars, about 9 prompts each, 8 images
per finished prompt, their callbacks, purchases and ledger, a tenth of the avatars in flight), then,
in a process of its own (so its settings never mix with the other benchmarks'), measures:

- the operator's pages, requested in-process through the whole Django stack as a staff member
  (median of 3 after a warm-up), each with its query count and the slowest query's plan
  (EXPLAIN ANALYZE, kept in results.json): the dashboard for 30 days and all time, the admin's
  avatars (list and search by email), prompts search, images list and ledger search by email;
- the customer's pages: "My avatars" of a user with 50 avatars, and a gallery;
- the reconciler, through the task beat runs, against a counting stand-in for Astria (tunes still
  training, prompts still generating, so everything in flight stays in flight): one run's wall
  time, the tasks it enqueues, and the queue over 10 simulated minutes (a run a minute, the clock
  moved forward, and a simulated worker draining WORKER_RATE tasks a second, running each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import Figure

DEFAULT_SIZE = 10_000
ROOT = Path(__file__).resolve().parent.parent


def say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def run(size: int | None = None) -> list[Figure]:
    size = size or DEFAULT_SIZE
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        say("scale: SKIPPED, it needs PostgreSQL: set DATABASE_URL=postgres://... (no figures from it)")
        return []
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.scale_child", str(size)],
        cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the scale benchmark failed (exit {completed.returncode})")
    rows = json.loads(completed.stdout.strip().splitlines()[-1])
    return [Figure(**row) for row in rows]
