"""The legal features run against a candidate version before it goes live (the analysts' modeler).

A run copies the processes and forms folders into its own folder, lays the candidate's files over
them and runs ``pytest`` on ``features/`` in a child process with ``HOMESCHOOL_PROCESSES_DIR`` and
``HOMESCHOOL_FORMS_DIR`` pointing there. Everything a run knows lives in its folder
(``<instance>/feature-runs/<run id>/``: the candidate's hash, pytest's output, its Cucumber JSON
report and exit code), so any web process on the machine can report on it. The child never sees
the service's database: its ``DATABASE_URL`` is removed and the features make their own scratch
SQLite files, as in CI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.domain.errors import NotFound

#: A run taking longer than this is stopped and reported as failed.
RUN_TIMEOUT_SECONDS = 30 * 60
#: Finished runs kept (each holds a copy of the processes and forms); older ones are removed.
KEEP_RUNS = 20
_RUN_ID = re.compile(r"^[0-9a-f]{16}$")
_COLLECTED = re.compile(r"collected (\d+) items?(?: / \d+ deselected / (\d+) selected)?")
_RESULT = re.compile(r"\s(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")


def candidate_hash(files: Mapping[str, bytes]) -> str:
    """The SHA-256 naming a candidate: its files' paths and contents, in order."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class FeatureResult:
    """One feature (one ``.feature`` file): its title and its scenarios that failed."""

    name: str
    uri: str
    passed: int
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FeatureRun:
    """Where a run stands: ``running``, ``passed`` or ``failed``; progress; results per feature."""

    run_id: str
    candidate: str
    state: str
    done: int
    total: int
    features: list[FeatureResult]
    #: The end of pytest's output when the run failed without per-feature results (e.g. an import error).
    log_tail: str = ""

    @property
    def passed(self) -> bool:
        """Whether every feature passed."""
        return self.state == "passed"


def start_run(runs_dir: Path, project_dir: Path, processes_dir: Path, forms_dir: Path,
              files: Mapping[str, bytes], selection: str = "") -> str:
    """Start the features on ``files`` (deployment paths → bytes) laid over the current folders; its id.

    ``selection`` is a pytest keyword expression (``-k``) choosing scenarios; empty runs them all.
    """
    prune_runs(runs_dir, KEEP_RUNS)
    run_id = secrets.token_hex(8)
    folder = runs_dir / run_id
    candidate_processes, candidate_forms = folder / "processes", folder / "forms"
    shutil.copytree(processes_dir, candidate_processes)
    if forms_dir.is_dir():
        shutil.copytree(forms_dir, candidate_forms)
    else:
        candidate_forms.mkdir(parents=True)
    for path, content in files.items():
        target = _candidate_path(folder, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (folder / "candidate.sha256").write_text(candidate_hash(files), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(HOMESCHOOL_PROCESSES_DIR=str(candidate_processes), HOMESCHOOL_FORMS_DIR=str(candidate_forms),
               PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "pytest", str(project_dir / "features"), "-v", "-p", "no:cacheprovider",
               "-o", "console_output_style=classic", f"--cucumber-json={folder / 'cucumber.json'}"]
    if selection:
        command += ["-k", selection]
    log = (folder / "log.txt").open("wb")
    process = subprocess.Popen(command, cwd=project_dir, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                               stdin=subprocess.DEVNULL, start_new_session=True)
    threading.Thread(target=_wait, args=(process, folder, log), name=f"features-{run_id}", daemon=True).start()
    return run_id


def prune_runs(runs_dir: Path, keep: int) -> list[str]:
    """Remove finished runs beyond the ``keep`` newest (a run still going is never touched); their ids."""
    finished = [folder for folder in runs_dir.iterdir() if _RUN_ID.match(folder.name)
                and (folder / "exit_code").exists()] if runs_dir.is_dir() else []
    finished.sort(key=lambda folder: (folder / "exit_code").stat().st_mtime, reverse=True)
    for folder in finished[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return [folder.name for folder in finished[keep:]]


def _candidate_path(folder: Path, path: str) -> Path:
    """Where a candidate file goes in the run's folder (only ``processes/…`` and ``forms/…``)."""
    parts = Path(path).parts
    if len(parts) < 2 or parts[0] not in ("processes", "forms") or any(p in ("..", "") for p in parts):
        raise ValueError(f"not a deployment path: {path!r}")
    return folder.joinpath(*parts)


def _wait(process: subprocess.Popen[bytes], folder: Path, log: object) -> None:
    """Wait for the child (stopping it after the time limit) and write its exit code."""
    try:
        code = process.wait(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    finally:
        close = getattr(log, "close", None)
        if close is not None:
            close()
    (folder / "exit_code").write_text(str(code), encoding="utf-8")


def run_status(runs_dir: Path, run_id: str) -> FeatureRun:
    """Where run ``run_id`` stands (NotFound for an unknown id)."""
    folder = runs_dir / run_id
    if not _RUN_ID.match(run_id) or not folder.is_dir():
        raise NotFound(f"feature run {run_id} does not exist")
    log = _read(folder / "log.txt")
    collected = _COLLECTED.search(log)
    total = int(collected.group(2) or collected.group(1)) if collected else 0
    done = len(_RESULT.findall(log))
    candidate = _read(folder / "candidate.sha256").strip()
    exit_code = _read(folder / "exit_code").strip()
    if not exit_code:
        return FeatureRun(run_id, candidate, "running", done, total, [])
    features = _features(folder / "cucumber.json")
    state = "passed" if exit_code == "0" else "failed"
    tail = "" if features and state == "passed" else "\n".join(log.strip().splitlines()[-15:])
    return FeatureRun(run_id, candidate, state, max(done, total) if state == "passed" else done, total,
                      features, tail)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _features(report: Path) -> list[FeatureResult]:
    """Per feature: its scenarios passed and the names of those that failed (from the Cucumber JSON)."""
    try:
        features = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    results = []
    for feature in features if isinstance(features, list) else []:
        passed, failed = 0, []
        for scenario in feature.get("elements", []):
            statuses = [step.get("result", {}).get("status") for step in scenario.get("steps", [])]
            if statuses and all(status == "passed" for status in statuses):
                passed += 1
            else:
                failed.append(str(scenario.get("name", "")))
        results.append(FeatureResult(str(feature.get("name", "")), str(feature.get("uri", "")), passed, failed))
    return sorted(results, key=lambda f: f.uri)
