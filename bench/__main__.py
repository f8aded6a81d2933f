"""Run the benchmarks and write the table: ``python -m bench [--quick] [--postgres URL]``."""

from __future__ import annotations

import argparse
import os
import sys

from . import b1_case
from .common import PROJECT, Result, machine


def write_report(results: list[Result], quick: bool) -> str:
    """The Markdown table (also written to docs/benchmarks.md in full mode)."""
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
    return "\n".join(lines) + "\n"


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small counts, for CI")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    databases = ["sqlite"] + ([] if args.no_postgres else [args.postgres])
    results: list[Result] = []
    for module in (b1_case,):
        print(f"benchmark {module.__name__.rsplit('.', 1)[-1]} …", flush=True)
        results += module.run(args.quick, databases)
        print(f"  {results[-1].measured}", flush=True)
    report = write_report(results, args.quick)
    print(report)
    if not args.quick:
        (PROJECT / "docs" / "benchmarks.md").write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
