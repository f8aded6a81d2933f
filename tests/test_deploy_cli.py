"""``homeschool deploy`` and ``homeschool deployments …`` (issue 12, points 2 and 4), and start-up: the files on
disk are deployed once, cases from before deployments are attached to a version of their diagram."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.application.demo import ensure_demo_accounts
from service.application.deployments import deploy_shipped
from service.bootstrap import Services
from service.cli import main
from service.config import Settings
from service.engine.library import DiagramLibrary

from .support import PROJECT, build_test_services
from .test_deployments import FORM_A, FORM_B, T0, V2, V3, _case, _complete, _start


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Iterator[tuple[dict[str, str], Services, Path]]:
    """Settings for the command line on a processes folder with repair_demo and its form; the demo staff."""
    processes, forms = tmp_path / "processes", tmp_path / "forms" / "repair_demo"
    processes.mkdir()
    forms.mkdir(parents=True)
    (processes / "repair_demo.bpmn").write_bytes(V2)
    (forms / "check.schema.json").write_bytes(FORM_A)
    env = {"DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": str(tmp_path / "instance"),
           "HOMESCHOOL_PROCESSES_DIR": str(processes), "HOMESCHOOL_FORMS_DIR": str(tmp_path / "forms"),
           "HOMESCHOOL_CALENDAR_OVERRIDES": str(tmp_path / "no-overrides.toml")}
    built = build_test_services(Settings.from_env(env, base=PROJECT), DiagramLibrary.from_directory(processes))
    with built.uow() as uow:
        ensure_demo_accounts(uow, T0)
        uow.commit()
    yield env, built, tmp_path
    built.database.dispose()


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_deploy_stores_a_version_once_and_refuses_a_broken_form_naming_it(cli) -> None:  # noqa: ANN001
    env, svc, root = cli
    first = _run(env, "deploy")
    assert first.exit_code == 0, first.output
    assert "repair_demo: deployed as" in first.output
    again = _run(env, "deploy")
    assert again.exit_code == 0 and "repair_demo: already deployed as" in again.output
    (root / "forms" / "repair_demo" / "check.schema.json").write_bytes(b'{"type": "object",')
    broken = _run(env, "deploy", str(root / "forms"))
    assert broken.exit_code == 1
    assert "ERROR forms/repair_demo/check.schema.json" in broken.output and "not valid JSON" in broken.output
    with svc.uow(write=False) as uow:
        assert len(uow.deployments.versions_of("repair_demo")) == 1
    assert _run(env, "deploy", "--as", "clerk").exit_code == 1  # only an analyst deploys


def test_deployments_migrate_moves_every_case_of_a_version_after_a_dry_run(cli) -> None:  # noqa: ANN001
    env, svc, root = cli
    assert _run(env, "deploy").exit_code == 0
    svc.runtime.deployments.refresh(force=True)  # type: ignore[union-attr]
    at_task, at_timer = _start(svc, "C-1"), _start(svc, "C-2")
    _complete(svc, at_timer, approved=True, checked_by="clerk")
    first = _case(svc, at_task).deployment_hash
    (root / "processes" / "repair_demo.bpmn").write_bytes(V3)
    (root / "forms" / "repair_demo" / "check.schema.json").write_bytes(FORM_B)
    assert _run(env, "deploy", "--as", "analyst").exit_code == 0
    listed = _run(env, "deployments", "list", "repair_demo", "--as", "analyst")
    assert listed.exit_code == 0 and listed.output.count("running cases: ") == 2 and "current" in listed.output

    plan = _run(env, "deployments", "migrate", "--all-of-version", first[:10], "--to", "current", "--dry-run",
                "--as", "analyst")
    assert plan.exit_code == 1, plan.output  # one case cannot move
    assert f"case {at_task} (C-1)" in plan.output and "can move" in plan.output
    assert "cannot move" in plan.output and "cooling_off" in plan.output
    assert _case(svc, at_task).deployment_hash == first

    moved = _run(env, "deployments", "migrate", "--all-of-version", first[:10], "--to", "current",
                 "--reason", "new form", "--as", "analyst")
    assert moved.exit_code == 1 and "1 moved, 1 not" in moved.output
    assert _case(svc, at_task).deployment_hash != first and _case(svc, at_timer).deployment_hash == first


def test_start_up_deploys_the_files_once_and_attaches_cases_from_before(cli) -> None:  # noqa: ANN001
    env, svc, root = cli
    old = _start(svc, "S-1")  # started before anything was deployed
    assert _case(svc, old).deployment_hash is None
    settings = svc.settings
    result = deploy_shipped(svc.write_uow, svc.runtime, settings.processes_dir, settings.forms_dir, T0)
    assert result is not None and [v.new for v in result.versions] == [True]
    assert _case(svc, old).deployment_hash == result.versions[0].content_hash  # same diagram, today's forms
    assert deploy_shipped(svc.write_uow, svc.runtime, settings.processes_dir, settings.forms_dir, T0) is None
    diff = _run(env, "deployments", "diff", "repair_demo", result.versions[0].content_hash[:10], "--as", "analyst")
    assert diff.exit_code == 0 and "no difference" in diff.output
