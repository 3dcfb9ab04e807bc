"""The studio's benchmarks: `make bench` (or `python -m bench [NAME...]`).

Each module `bench/bench_<name>.py` defines `run() -> list[Figure]`. A figure is one number
measured in this run, with an optional budget. The runner prints a table, writes
`bench/results.json`, and exits non-zero only when a figure misses its budget by more than a
factor of two: budgets are anchors for this kind of machine, not promises, so a small miss is
reported but does not fail the run. Fixtures are generated at run time, never committed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

FAIL_FACTOR = 2.0


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    budget: float | None = None
    higher_is_better: bool = False
    note: str = ""
    details: dict | None = None  # kept in results.json only (a query plan, the runs one by one)

    @property
    def status(self) -> str:
        """"ok", "over budget" (reported only), "FAIL" (more than 2x off), or "" without a budget."""
        if self.budget is None:
            return ""
        if self.higher_is_better:
            if self.value >= self.budget:
                return "ok"
            return "FAIL" if self.value * FAIL_FACTOR < self.budget else "over budget"
        if self.value <= self.budget:
            return "ok"
        return "FAIL" if self.value > self.budget * FAIL_FACTOR else "over budget"

    def as_dict(self) -> dict:
        return asdict(self) | {"status": self.status}


def median_seconds(func: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    """The median wall time of `func` over `repeat` calls, after `warmup` calls."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_seconds_paired(
    first: Callable[[], object], second: Callable[[], object], *, repeat: int = 7
) -> tuple[float, float]:
    """Median wall times of two functions measured in alternation, so that a ratio between them
    is not skewed by the machine getting busier or quieter during the run."""
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for func, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            func()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def peak_memory_mb(target: str, *args: str) -> float:
    """Peak memory (MiB) that calling `module:function(*args)` adds, in a fresh interpreter.

    The child imports the module first, resets its resident-size high-water mark, calls the
    function, then reads the mark (/proc/self/status VmHWM): allocations made by C libraries such
    as Pillow count too, which tracemalloc would miss.
    """
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench._peak", target, *args],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": os.getcwd()},
    )
    return float(json.loads(completed.stdout.strip().splitlines()[-1])["peak_mb"])


def setup_django() -> None:
    """For benchmarks that need the ORM or templates: the test settings (SQLite, no services)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings_test")
    import django

    django.setup()
