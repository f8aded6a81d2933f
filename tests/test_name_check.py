"""``homeschool names missing``: every named element of the shipped diagrams has its kk and en name."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from service.application.name_check import missing_names
from service.cli import main

from .support import PROJECT

PROCESSES = PROJECT / "processes"


def _names(tmp_path: Path) -> Path:
    """A copy of the shipped diagrams and their names files to break."""
    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    return folder


def _without(folder: Path, process_id: str, element_id: str) -> None:
    """Remove one entry (its table header and the lines up to the next table) from a names file."""
    path = folder / f"{process_id}.names.toml"
    text = path.read_text(encoding="utf-8")
    shorter = re.sub(rf"\n\[{element_id}\][^\n]*\n(?:[^\[\n][^\n]*\n)*", "\n", text)
    assert shorter != text, element_id
    path.write_text(shorter, encoding="utf-8")


def _run(folder: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["names", "missing", *args], env={"HOMESCHOOL_PROCESSES_DIR": str(folder)},
                              catch_exceptions=False)


def test_the_shipped_diagrams_have_every_name_in_kazakh_and_english() -> None:
    report = missing_names(PROCESSES)
    assert sorted(report.processes) == ["complaint_review", "proactive_offer", "service_delivery"]
    assert report.missing == [] and report.stale == [] and report.problems == []
    assert report.complete


def test_a_removed_timer_name_is_listed_with_its_id_type_and_russian_name(tmp_path: Path) -> None:
    folder = _names(tmp_path)
    assert _run(folder).exit_code == 0
    _without(folder, "service_delivery", "head_period_passed")
    result = _run(folder)
    assert result.exit_code == 1, result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith("missing")]
    assert lines == [
        "missing service_delivery kk head_period_passed (boundaryEvent): Срок оказания услуги истёк",
        "missing service_delivery en head_period_passed (boundaryEvent): Срок оказания услуги истёк",
    ]
    assert "FAIL  service_delivery: 2 name(s) missing" in result.stdout
    assert "ok    complaint_review" in result.stdout
    assert _run(folder, "complaint_review").exit_code == 0  # only the processes asked for


def test_one_language_missing_stale_entries_and_json(tmp_path: Path) -> None:
    folder = _names(tmp_path)
    path = folder / "proactive_offer.names.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('en = "Send the offer by SMS"\n', "")  # send_offer_sms: Kazakh only
    path.write_text(text + '\n[renamed_long_ago]\nkk = "Ескі"\nen = "Old"\n', encoding="utf-8")
    result = _run(folder, "proactive_offer", "--json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["missing"] == [{"process": "proactive_offer", "language": "en", "element_id": "send_offer_sms",
                                "type": "intermediateThrowEvent", "name_ru": "Отправить предложение по SMS"}]
    assert body["stale"] == [{"process": "proactive_offer", "element_id": "renamed_long_ago"}]
    plain = _run(folder, "proactive_offer")
    assert "warn  stale proactive_offer renamed_long_ago" in plain.stdout


def test_an_unknown_process_and_a_broken_file_fail(tmp_path: Path) -> None:
    folder = _names(tmp_path)
    assert _run(folder, "no_such_process").exit_code == 1
    (folder / "complaint_review.names.toml").write_text("[broken", encoding="utf-8")
    result = _run(folder, "complaint_review")
    assert result.exit_code == 1
    assert "complaint_review.names.toml" in result.stderr
    assert "missing complaint_review kk review_complaint (userTask)" in result.stdout  # nothing of it counts
