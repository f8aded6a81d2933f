"""No process is coded: the web app and the use cases never name one (issue 12, point 5).

What a process needs is declared beside its diagram (``processes/<process>.process.toml``). This
test reads every file under ``service/web/`` and ``service/application/`` — Python, templates,
scripts — and fails on any of the shipped processes' ids as a whole word, comments and docstrings
included (a comment naming a process usually documents a coupling the declaration should carry).
Names that merely contain an id, like the message ``sms.proactive_offer_closed``, are not ids.
"""

from __future__ import annotations

import re
from pathlib import Path

from .support import PROJECT

PROCESS_IDS = sorted(path.name.removesuffix(".bpmn") for path in (PROJECT / "processes").glob("*.bpmn"))
_ID = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, PROCESS_IDS)) + r")(?!\w)")


def occurrences(folder: Path) -> list[str]:
    """``file:line: text`` of every whole-word process id in the text files under ``folder``."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # an image or another binary file
        found += [f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
                  for number, line in enumerate(text.splitlines(), 1) if _ID.search(line)]
    return found


def test_the_shipped_processes_are_what_the_check_looks_for() -> None:
    assert PROCESS_IDS == ["complaint_review", "proactive_offer", "service_delivery"]
    assert _ID.search('LOOKUP_ORDER = ("service_delivery", "complaint_review")')
    assert not _ID.search('OFFER_CLOSED_SMS = "sms.proactive_offer_closed"')


def test_no_process_id_in_the_web_app_or_the_use_cases() -> None:
    found = occurrences(PROJECT / "service" / "web") + occurrences(PROJECT / "service" / "application")
    assert found == [], "declare it in processes/<process>.process.toml instead:\n" + "\n".join(found)
