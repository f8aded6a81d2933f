"""``homeschool case …``: repair stuck cases from the command line, as a named administrator or analyst.

Each command acts on one case (``N``, the case's id) or, with ``--stuck-at PROCESS:VERSION:ELEMENT``,
on every running case of that diagram version standing at that element; every case is reported
on its own line and one failing does not stop the others (the exit code is then 1).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from service import bootstrap
from service.application.repair import (
    RepairOutcome,
    cancel_case,
    cases_stuck_at,
    correct_case_data,
    migrate_case,
    plan_migration,
    repair_each,
    repairer,
    retry_case,
)
from service.cli_support import command_services, fail
from service.domain.errors import DomainError
from service.domain.staff import Actor


def _actor(services: bootstrap.Services, login: str) -> Actor:
    with services.uow(write=False) as uow:
        return repairer(uow, login)


def _targets(services: bootstrap.Services, instance_id: int | None, stuck_at: str | None) -> list[int]:
    """The case named, or every case stuck at PROCESS:VERSION:ELEMENT."""
    if (instance_id is None) == (stuck_at is None):
        fail("name one case (N) or use --stuck-at PROCESS:VERSION:ELEMENT")
    if instance_id is not None:
        return [instance_id]
    parts = (stuck_at or "").split(":")
    if len(parts) != 3 or not all(parts):
        fail(f"--stuck-at must be PROCESS:VERSION:ELEMENT, got '{stuck_at}'")
    with services.uow(write=False) as uow:
        found = cases_stuck_at(uow, parts[0], parts[1], parts[2])
    if not found:
        click.echo(f"no running case of {parts[0]} on version {parts[1]} stands at {parts[2]}")
    return found


def _apply(ids: list[int], repair: Callable[[int], RepairOutcome]) -> None:
    """Repair each case, one line each; exit 1 if any was refused or failed."""
    report = repair_each(ids, repair)
    done = {o.instance_id: o for o in report.outcomes}
    for instance_id in ids:
        outcome = done.get(instance_id)
        if outcome is None:
            click.echo(f"case {instance_id}: refused: {report.errors[instance_id]}")
            continue
        detail = f" — {outcome.detail}" if outcome.detail else ""
        click.echo(f"case {instance_id} ({outcome.business_key}): {outcome.outcome}, {outcome.status}{detail}")
    if len(ids) > 1:
        click.echo(f"{len(ids)} case(s): {len(ids) - len(report.errors)} repaired, {len(report.errors)} not")
    if report.errors:
        sys.exit(1)


_AS = click.option("--as", "login", required=True, help="Login of the administrator or analyst who repairs.")
_STUCK = click.option("--stuck-at", default=None, metavar="PROCESS:VERSION:ELEMENT",
                      help="Every running case of this diagram version standing at this element.")
_REASON = click.option("--reason", required=True, help="Why (kept in the case's history).")
_CASE = click.argument("instance_id", metavar="N", type=int, required=False)


@click.group("case")
def case() -> None:
    """Repair stuck cases: retry, correct data, move to another diagram version, cancel."""


@case.command("retry")
@_CASE
@_STUCK
@_AS
def retry(instance_id: int | None, stuck_at: str | None, login: str) -> None:
    """Run the case now: due timers, kept messages, pending steps."""
    with command_services() as services:
        member = _actor(services, login)
        _apply(_targets(services, instance_id, stuck_at),
               lambda n: retry_case(services.uow, services.runtime, actor=member, instance_id=n, now=services.now()))


def _assignments(pairs: tuple[str, ...]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or not name.strip():
            fail(f"--set must be name=JSON, got '{pair}'")
        try:
            changes[name.strip()] = json.loads(text)
        except json.JSONDecodeError as exc:
            fail(f"--set {name.strip()}: not JSON ({exc.msg}); text goes in quotes, e.g. name='\"text\"'")
    return changes


@case.command("correct")
@_CASE
@_STUCK
@click.option("--set", "pairs", multiple=True, required=True, metavar="NAME=JSON",
              help="A variable and its new value as JSON (repeatable).")
@_REASON
@_AS
def correct(instance_id: int | None, stuck_at: str | None, pairs: tuple[str, ...], reason: str, login: str) -> None:
    """Set variables where the case stands (old and new values logged), then retry it."""
    changes = _assignments(pairs)
    with command_services() as services:
        member = _actor(services, login)
        _apply(_targets(services, instance_id, stuck_at),
               lambda n: correct_case_data(services.uow, services.runtime, actor=member, instance_id=n,
                                           changes=changes, reason=reason, now=services.now()))


@case.command("migrate")
@_CASE
@_STUCK
@click.option("--to", "target", required=True, help="'current' or the target version's hash (8+ characters).")
@click.option("--dry-run", is_flag=True, help="Only report what differs and whether each case can move.")
@click.option("--reason", default="", help="Why (required unless --dry-run; kept in the case's history).")
@_AS
def migrate(instance_id: int | None, stuck_at: str | None, target: str, dry_run: bool, reason: str,
            login: str) -> None:
    """Move the case to another version of its diagram, then retry it."""
    if not dry_run and not reason.strip():
        fail("--reason is required (unless --dry-run)")
    with command_services() as services:
        member = _actor(services, login)
        ids = _targets(services, instance_id, stuck_at)
        if dry_run:
            _dry_run(services, member, ids, target)
            return
        _apply(ids, lambda n: migrate_case(services.uow, services.runtime, actor=member, instance_id=n,
                                           target_version=target, reason=reason, now=services.now()))


def _dry_run(services: bootstrap.Services, member: Actor, ids: list[int], target: str) -> None:
    blocked = 0
    for instance_id in ids:
        try:
            with services.uow(write=False) as uow:
                report = plan_migration(uow, services.runtime, actor=member, instance_id=instance_id,
                                        target_version=target)
        except DomainError as exc:
            click.echo(f"case {instance_id}: refused: {exc}")
            blocked += 1
            continue
        blocked += not report.possible
        for line in report.lines():
            click.echo(line)
    if blocked:
        sys.exit(1)


@case.command("cancel")
@_CASE
@_STUCK
@_REASON
@_AS
def cancel(instance_id: int | None, stuck_at: str | None, reason: str, login: str) -> None:
    """End the case as cancelled: open tasks and timers removed, the outbox left as it is."""
    with command_services() as services:
        member = _actor(services, login)

        def one(n: int) -> RepairOutcome:
            with services.uow() as uow:
                return cancel_case(uow, actor=member, instance_id=n, reason=reason, now=services.now())

        _apply(_targets(services, instance_id, stuck_at), one)
