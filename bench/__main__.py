"""Run the benchmarks and write the table: ``python -m bench [--quick] [--postgres URL] [--only 2,3]``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from types import ModuleType

from . import (
    b1_case,
    b2_task_list,
    b3_timer_sweep,
    b4_timer_lag,
    b5_http_tasks,
    b6_memory,
    b7_metrics,
    b8_growth,
    b9_throughput,
)
from .common import PROJECT, Result, machine

MODULES: dict[str, ModuleType] = {
    "1": b1_case, "2": b2_task_list, "3": b3_timer_sweep, "4": b4_timer_lag, "5": b5_http_tasks, "6": b6_memory,
    "7": b7_metrics, "8": b8_growth, "9": b9_throughput,
}


def write_report(results: list[Result], quick: bool, notes: dict[str, str] | None = None,
                 durations: dict[str, float] | None = None) -> str:
    """The Markdown table (also written to docs/benchmarks.md in full mode) and how each figure was measured."""
    info = machine()
    lines = [
        "# Benchmarks",
        "",
        f"Measured {info['date']} on {info['machine']}, Python {info['python']}, commit {info['commit']}"
        + (" — QUICK MODE (small counts; the figures only prove the benchmarks run)." if quick else "."),
        "",
        "| # | what | measured | target | met |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        met = "yes" if r.met else ("no" if r.met is False else "—")
        lines.append(f"| {r.number} | {r.what} | {r.measured} | {r.target} | {met} |")
    if notes:
        lines += ["", "## How measured", ""]
        for number, note in notes.items():
            took = f" (this benchmark took {durations[number]:.0f} s)" if durations and number in durations else ""
            lines.append(f"{number}. {' '.join(note.split())}{took}")
    analysis = PROJECT / "bench" / "analysis.md"
    if analysis.is_file():
        lines += ["", analysis.read_text(encoding="utf-8").rstrip()]
    lines += ["", "Run them with `make bench` (this file) or `make bench-quick` (CI, small counts, nothing written)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small counts, for CI")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated benchmark numbers, e.g. 2,3 (nothing is written)")
    args = parser.parse_args()
    databases = ["sqlite"] + ([] if args.no_postgres else [args.postgres])
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or list(MODULES)
    unknown = [n for n in chosen if n not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(MODULES)}")
    results: list[Result] = []
    notes: dict[str, str] = {}
    durations: dict[str, float] = {}
    started = time.perf_counter()
    for number in chosen:
        module = MODULES[number]
        print(f"benchmark {module.__name__.rsplit('.', 1)[-1]} …", flush=True)
        began = time.perf_counter()
        new = module.run(args.quick, databases)
        durations[number] = time.perf_counter() - began
        results += new
        notes[number] = getattr(module, "HOW", None) or (module.__doc__ or "").strip()
        for r in new:
            print(f"  {r.what}: {r.measured} (target {r.target}: {'met' if r.met else 'NOT met'})", flush=True)
        print(f"  ({durations[number]:.1f} s)", flush=True)
    report = write_report(results, args.quick, notes, durations)
    print(report)
    print(f"all benchmarks: {time.perf_counter() - started:.1f} s", flush=True)
    if not args.quick and not args.only:
        (PROJECT / "docs" / "benchmarks.md").write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
