"""``homeschool names missing``: element names without Kazakh or English, refusals without ru, kk or en."""

from __future__ import annotations

import json
import sys

import click

from service.application.name_check import missing_names
from service.config import Settings

from .cli_support import fail


@click.group()
def names() -> None:
    """Translations of the diagrams' element names (processes/<process>.names.toml)."""


@names.command("missing")
@click.argument("processes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (machine-readable).")
def names_missing(processes: tuple[str, ...], as_json: bool) -> None:
    """List every named element without a kk or en name, and every refusal without a ru, kk or en text.

    A line gives the process, language, element id (or refusal key), type and the Russian text.

    PROCESSES are process ids (default: every diagram of the processes directory). Entries for
    elements no longer in the diagram are listed as stale (a warning). Exit 1 when a name is
    missing or a file cannot be read, 0 otherwise.
    """
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        fail(str(exc))
    report = missing_names(settings.processes_dir, processes)
    if as_json:
        click.echo(json.dumps({"processes": report.processes, "missing": [m.as_dict() for m in report.missing],
                               "stale": [s.as_dict() for s in report.stale], "problems": report.problems},
                              ensure_ascii=False, indent=2))
        sys.exit(0 if report.complete else 1)
    for problem in report.problems:
        click.echo(f"ERROR {problem}", err=True)
    for item in report.missing:
        click.echo(f"missing {item.process_id} {item.language} {item.element_id} ({item.kind}): {item.name}")
    for entry in report.stale:
        why = "no fail_if of the diagram uses this refusal" if entry.is_refusal else "no such element in the diagram"
        click.echo(f"warn  stale {entry.process_id} {entry.element_id}: {why}")
    for process_id in report.processes:
        count = sum(1 for item in report.missing if item.process_id == process_id)
        click.echo(f"FAIL  {process_id}: {count} name(s) missing" if count
                   else f"ok    {process_id}: every name in kk and en, every refusal in ru, kk and en")
    sys.exit(0 if report.complete else 1)
