"""``homeschool deploy`` and ``homeschool deployments …``: versions of the processes, without a restart.

``deploy`` validates the diagrams, forms and declarations given (default: the processes and forms
folders), stores each changed process as a new version and makes it current; every web process and
worker takes it up within HOMESCHOOL_DEPLOYMENT_CHECK_SECONDS. ``deployments list`` / ``diff`` show
the versions; ``deployments migrate`` moves running cases to another version (``--dry-run`` first).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from service import bootstrap
from service.application.deployments import (
    DeploymentRefused,
    deploy,
    deploy_shipped,
    deployer,
    diff_versions,
    files_from_paths,
    list_versions,
)
from service.application.version_moves import cases_of_version, move_cases, plan_moves
from service.cli_support import command_services, fail
from service.domain.staff import Actor

log = logging.getLogger(__name__)




def take_up_shipped(services: bootstrap.Services) -> None:
    """At start-up (serve, worker): deploy the files on disk unless that content was deployed before."""
    settings = services.settings
    try:
        result = deploy_shipped(services.write_uow, services.runtime, settings.processes_dir, settings.forms_dir,
                                services.now())
    except DeploymentRefused as exc:
        log.error("the diagrams and forms on disk were not deployed (the deployed versions stay in use):\n%s",
                  "\n".join(exc.problems))
        return
    for version in result.versions if result else ():
        log.info("%s", version.line())


def _actor(services: bootstrap.Services, login: str | None) -> Actor:
    if login is None:
        return Actor.system("command line")
    with services.uow(write=False) as uow:
        return deployer(uow, login)


@click.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--as", "login", default=None, help="Login of the analyst who deploys (default: the operator).")
@click.option("--override-reason", default=None, help="Kept with the version: why it goes live despite failed checks.")
def deploy_command(paths: tuple[Path, ...], login: str | None, override_reason: str | None) -> None:
    """Validate and deploy diagrams, forms and declarations (default: the processes and forms folders)."""
    with command_services() as services:
        settings = services.settings
        given = list(paths) or [d for d in (settings.processes_dir, settings.forms_dir) if d.is_dir()]
        try:
            files = files_from_paths(given, settings.processes_dir, settings.forms_dir)
            result = deploy(services.write_uow, services.runtime, actor=_actor(services, login), files=files,
                            now=services.now(), override_reason=override_reason)
        except DeploymentRefused as exc:
            for problem in exc.problems:
                click.echo(f"ERROR {problem}", err=True)
            sys.exit(1)
        for version in result.versions:
            click.echo(version.line())


@click.group("deployments")
def deployments() -> None:
    """Deployed versions of the processes: list, compare, move running cases."""


@deployments.command("list")
@click.argument("process_id")
@click.option("--as", "login", required=True, help="Login of the analyst.")
def list_command(process_id: str, login: str) -> None:
    """Every version of a process, newest first, with its running cases."""
    with command_services() as services, services.uow(write=False) as uow:
        for v in list_versions(uow, services.runtime, actor=_actor(services, login), process_id=process_id):
            mark = "current" if v.current else "       "
            click.echo(f"{v.content_hash[:12]} {mark} {v.deployed_at:%Y-%m-%d %H:%M} {v.deployed_by:16} "
                       f"running cases: {v.running_cases}")


@deployments.command("diff")
@click.argument("process_id")
@click.argument("old")
@click.argument("new", default="current")
@click.option("--as", "login", required=True, help="Login of the analyst.")
def diff_command(process_id: str, old: str, new: str, login: str) -> None:
    """What differs between two versions of a process: elements, form fields, declarations."""
    with command_services() as services, services.uow(write=False) as uow:
        diff = diff_versions(uow, services.runtime, actor=_actor(services, login), process_id=process_id,
                             old=old, new=new)
    click.echo(f"{process_id}: {diff.old.content_hash[:12]} -> {diff.new.content_hash[:12]}")
    for change in (*diff.diagram.added, *diff.diagram.removed, *diff.diagram.changed):
        facts = "; ".join(f"{k}: {a or '-'} -> {b or '-'}" for k, (a, b) in change.facts.items())
        click.echo(f"  {change.change:8} {change.element_id} ({change.name}){': ' + facts if facts else ''}")
    for form in diff.forms:
        click.echo(f"  form     {form.form_id}: added {', '.join(form.added) or '-'}; removed "
                   f"{', '.join(form.removed) or '-'}; changed {', '.join(form.changed) or '-'}")
    for path in diff.files:
        click.echo(f"  file     {path}")
    if diff.empty:
        click.echo("  no difference")


@deployments.command("migrate")
@click.argument("instance_id", metavar="N", type=int, required=False)
@click.option("--all-of-version", "version", default=None, metavar="HASH",
              help="Every running case of this version (8+ characters of its hash).")
@click.option("--to", "target", required=True, help="'current' or the target version's hash (8+ characters).")
@click.option("--dry-run", is_flag=True, help="Only report which cases can move and why the others cannot.")
@click.option("--reason", default="", help="Why (required unless --dry-run; kept in each case's history).")
@click.option("--as", "login", required=True, help="Login of the analyst or administrator who moves them.")
def migrate_command(instance_id: int | None, version: str | None, target: str, dry_run: bool, reason: str,
                    login: str) -> None:
    """Move one running case, or every running case of a version, to another version."""
    if (instance_id is None) == (version is None):
        fail("name one case (N) or use --all-of-version HASH")
    if not dry_run and not reason.strip():
        fail("--reason is required (unless --dry-run)")
    with command_services() as services:
        member = _actor(services, login)
        with services.uow(write=False) as uow:
            ids = cases_of_version(uow, version, actor=member)[1] if version else [instance_id or 0]
            plans = plan_moves(uow, services.runtime, actor=member, instance_ids=ids, to_version=target)
        if dry_run or not ids:
            for plan in plans:
                click.echo(plan.line())
            movable = sum(plan.possible for plan in plans)
            click.echo(f"{len(plans)} case(s): {movable} can move, {len(plans) - movable} cannot")
            sys.exit(0 if movable == len(plans) else 1)
        report = move_cases(services.uow, services.runtime, actor=member, instance_ids=ids, to_version=target,
                            reason=reason, now=services.now())
        for outcome in report.outcomes:
            click.echo(f"case {outcome.instance_id} ({outcome.business_key}): {outcome.outcome}, {outcome.status}"
                       f"{' — ' + outcome.detail if outcome.detail else ''}")
        for failed, error in report.errors.items():
            if all(o.instance_id != failed for o in report.outcomes):
                click.echo(f"case {failed}: not moved: {error}")
        click.echo(f"{len(ids)} case(s): {len(ids) - len(report.errors)} moved, {len(report.errors)} not")
        sys.exit(1 if report.errors else 0)
