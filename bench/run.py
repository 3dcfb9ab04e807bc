"""Runs the benchmark modules, prints the table, writes bench/results.json."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import Figure

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def format_table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "budget", "status", "note")]
    for f in figures:
        budget = ""
        if f.budget is not None:
            budget = f"{'>=' if f.higher_is_better else '<='} {f.budget:g} {f.unit}"
        rows.append((f.name, f"{f.value:,.1f} {f.unit}", budget, f.status, f.note))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]),
                 row[3].ljust(widths[3]), row[4]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results: dict) -> str:
    """The figures of a results.json as a Markdown table (for the README)."""
    lines = ["| figure | value | budget | status |", "| --- | ---: | --- | --- |"]
    for f in results["figures"]:
        budget = f"{'≥' if f['higher_is_better'] else '≤'} {f['budget']:g} {f['unit']}" if f["budget"] else ""
        lines.append(f"| `{f['name']}` | {f['value']:,.1f} {f['unit']} | {budget} | {f['status']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: {', '.join(available())})")
    parser.add_argument("--size", type=int, default=None,
                        help="avatars the scale benchmark seeds (default: bench/bench_scale.py's DEFAULT_SIZE)")
    parser.add_argument("--markdown", action="store_true", help="print the last results.json as a Markdown table")
    options = parser.parse_args(argv)
    if options.markdown:
        print(markdown(json.loads(RESULTS.read_text())))
        return 0
    names = options.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}")

    figures: list[Figure] = []
    started = time.perf_counter()
    for name in names:
        print(f"running bench_{name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.bench_{name}")
        options_for = {"size": options.size} if "size" in inspect.signature(module.run).parameters else {}
        figures.extend(module.run(**options_for))
    elapsed = time.perf_counter() - started

    print()
    print(format_table(figures))
    failed = [f for f in figures if f.status == "FAIL"]
    over = [f for f in figures if f.status == "over budget"]
    print()
    print(f"{len(figures)} figures in {elapsed:.0f} s: {len(failed)} more than 2x over budget, "
          f"{len(over)} over budget within 2x.")

    RESULTS.write_text(json.dumps({
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "seconds": round(elapsed, 1),
        "figures": [f.as_dict() for f in figures],
    }, indent=2) + "\n")
    print(f"results written to {RESULTS}")
    return 1 if failed else 0
