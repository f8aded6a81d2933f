"""The legal features run on a candidate version in a child process: progress, results per feature, failures."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from service.application.feature_runs import FeatureRun, candidate_hash, prune_runs, run_status, start_run
from service.domain.errors import NotFound

from .support import PROJECT

#: One quick scenario on service delivery: a refusal at the office, then the court (§10).
SELECTION = "отказ_в_канцелярии__не_представлено_заключение_вкк"
DIAGRAM = "processes/service_delivery.bpmn"


def _finished(runs: Path, run_id: str, seconds: float = 240) -> FeatureRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = run_status(runs, run_id)
        if status.state != "running":
            return status
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {seconds} s")


def _run(tmp_path: Path, source: bytes) -> tuple[str, FeatureRun]:
    runs = tmp_path / "runs"
    run_id = start_run(runs, PROJECT, PROJECT / "processes", PROJECT / "forms", {DIAGRAM: source}, SELECTION)
    assert run_status(runs, run_id).state in ("running", "passed")
    return run_id, _finished(runs, run_id)


def test_a_sound_candidate_passes_and_each_feature_is_reported(tmp_path: Path) -> None:
    source = (PROJECT / DIAGRAM).read_bytes().replace(
        "Подтвердить отказ или исправить сведения".encode(), "Подтвердить отказ (ред.)".encode())
    run_id, status = _run(tmp_path, source)
    assert status.state == "passed", status.log_tail
    assert status.candidate == candidate_hash({DIAGRAM: source})
    assert status.total == 1 and status.done == 1
    [feature] = status.features
    assert feature.uri.endswith("p10_court.feature") and feature.passed == 1 and not feature.failed
    copied = tmp_path / "runs" / run_id / "processes" / "service_delivery.bpmn"
    assert copied.read_bytes() == source  # the candidate, not the shipped diagram, was under test


def test_a_candidate_that_breaks_the_rules_fails_naming_the_scenario(tmp_path: Path) -> None:
    # the analyst misspelt the start message: no application can start the process any more
    source = (PROJECT / DIAGRAM).read_bytes().replace(b'name="service_requested"', b'name="service_request"')
    _run_id, status = _run(tmp_path, source)
    assert status.state == "failed"
    assert status.log_tail
    failed = [name for feature in status.features for name in feature.failed]
    assert failed or "service_request" in status.log_tail or "Error" in status.log_tail


def test_unknown_runs_and_paths_outside_the_candidate_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        run_status(tmp_path, "../../etc")
    with pytest.raises(NotFound):
        run_status(tmp_path, "0123456789abcdef")
    with pytest.raises(ValueError, match="not a deployment path"):
        start_run(tmp_path / "runs", PROJECT, PROJECT / "processes", PROJECT / "forms",
                  {"../outside.bpmn": b"<x/>"})


def test_only_the_newest_finished_runs_are_kept(tmp_path: Path) -> None:
    for number in range(5):
        folder = tmp_path / f"{number:016x}"
        folder.mkdir()
        (folder / "exit_code").write_text("0", encoding="utf-8")
        os.utime(folder / "exit_code", (1000 + number, 1000 + number))
    (tmp_path / f"{9:016x}").mkdir()  # still running: no exit code
    assert sorted(prune_runs(tmp_path, 2)) == [f"{n:016x}" for n in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{n:016x}" for n in (3, 4, 9)]
