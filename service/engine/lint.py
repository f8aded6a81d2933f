"""bpmn.io's linter (bpmnlint, its recommended rules) and the layout checks, as diagram findings.

bpmnlint is a Node package installed by ``make setup`` (``npm ci`` from the lock file) into the
``node_modules`` folder of the settings; ``js/bpmnlint-json.js`` runs its Linter API with
bpmn-moddle on the files and prints JSON, which becomes :class:`Problem` s here with the line and
name of each element read from the file. bpmnlint's errors are errors, its warnings warnings. No
node or no ``node_modules``: one finding saying to run ``make setup``, never a traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from service.domain.problems import ERROR, WARNING, Problem, Severity

from .layout import check_layout

SCRIPT = Path(__file__).with_name("js") / "bpmnlint-json.js"
#: How long bpmnlint may take for all files together (it takes well under a second per file).
TIMEOUT_SECONDS = 60
_SETUP = "run 'make setup' (it installs the front-end libraries with npm ci)"
_SEVERITY: dict[str, Severity] = {"error": ERROR, "rule-error": ERROR, "warn": WARNING}
#: What to do, per recommended rule an analyst meets most (bpmnlint's own messages say what is wrong).
HINTS = {
    "fake-join": "add a joining exclusive gateway in front of it and lead the incoming flows into that gateway",
    "no-gateway-join-fork": "split it in two: a gateway that joins the incoming flows, then one that decides",
    "no-bpmndi": "draw it in the modeler (or add its bpmndi element) and save",
    "label-required": "give it a name",
    "no-implicit-split": "lead the outgoing flows from a gateway, or give them conditions",
    "no-disconnected": "connect it with sequence flows, or delete it",
    "conditional-flows": "give every outgoing flow of the split a condition, or mark one as the default",
    "superfluous-gateway": "delete the gateway and connect the flows directly",
    "no-overlapping-elements": "move the elements apart",
    "end-event-required": "end every path with an end event",
    "no-implicit-end": "lead the last element into an end event",
    "no-implicit-start": "start the path at a start event",
}


def _not_run(why: str) -> Problem:
    return Problem(file=None, message=f"bpmn.io's linter (bpmnlint) did not run: {why}", kind="bpmnlint-unavailable",
                   severity=ERROR)


def _missing_setup(node_modules: Path, config: Path) -> str | None:
    """Why bpmnlint cannot run here, or None if it can."""
    if shutil.which("node") is None:
        return f"Node.js ('node') is not installed; {_SETUP}"
    for package in ("bpmnlint", "bpmn-moddle"):
        if not (node_modules / package / "package.json").is_file():
            return f"'{package}' is not installed in {node_modules}; {_SETUP}"
    if not config.is_file():
        return f"bpmnlint's configuration {config} is missing; restore it from the repository"
    return None


def _parse(source: bytes) -> Any:
    """The parsed XML, or None if it is not well-formed (the product's own checks say so)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        return etree.fromstring(source, parser)
    except etree.XMLSyntaxError:
        return None


def _elements_by_id(root: Any) -> dict[str, Any]:
    """Every element of the diagram with an id, for its line and name."""
    if root is None:
        return {}
    return {node.get("id"): node for node in root.iter() if isinstance(node.tag, str) and node.get("id")}


def _run(paths: Sequence[Path], node_modules: Path, config: Path) -> list[dict[str, Any]]:
    """bpmnlint's reports per file, as its JSON; raise RuntimeError with a readable reason."""
    command = [shutil.which("node") or "node", str(SCRIPT), str(node_modules), str(config), *map(str, paths)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"bpmnlint took longer than {TIMEOUT_SECONDS} s") from None
    except OSError as exc:
        raise RuntimeError(f"bpmnlint could not be started ({exc.strerror}); {_SETUP}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[0]
        raise RuntimeError(f"bpmnlint failed: {reason}; {_SETUP} if the packages are missing")
    try:
        results = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError("bpmnlint printed something that is not its JSON report") from None
    if not isinstance(results, list):
        raise RuntimeError("bpmnlint printed something that is not its JSON report")
    return results


def run_bpmnlint(paths: Sequence[Path], node_modules: Path, config: Path,
                 names: Mapping[Path, str] | None = None) -> list[Problem]:
    """bpmnlint's findings for the files, in one run (``names``: how to call each file in the findings)."""
    if not paths:
        return []
    names = names or {}
    why = _missing_setup(node_modules, config)
    if why is not None:
        return [_not_run(why)]
    try:
        results = _run(paths, node_modules, config)
    except RuntimeError as exc:
        return [_not_run(str(exc))]
    findings: list[Problem] = []
    for path, result in zip(paths, results, strict=False):
        file = names.get(path, str(path))
        try:
            root = _parse(path.read_bytes())
        except OSError:
            root = None
        if result.get("parseError") and root is not None:  # not well-formed XML is reported by the product itself
            findings.append(Problem(file=file, message=f"bpmn.io could not read it: {result['parseError']}",
                                    kind="bpmnlint-unreadable", severity=ERROR))
        elements = _elements_by_id(root)
        for report in result.get("reports", []):
            severity = _SEVERITY.get(str(report.get("category")))
            if severity is None:
                continue
            element_id = str(report["id"]) if report.get("id") else None
            node = elements.get(element_id or "")
            rule = str(report.get("rule") or "bpmnlint")
            findings.append(Problem(
                file=file, message=f"{report.get('message') or rule} (bpmnlint rule {rule})", kind=f"bpmnlint/{rule}",
                severity=severity, element_id=element_id,
                element_name=(node.get("name") or None) if node is not None else None,
                line=node.sourceline if node is not None else None, hint=HINTS.get(rule, ""),
            ))
    return findings


def lint_diagram(source: bytes, file: str, node_modules: Path, config: Path,
                 path: Path | None = None) -> list[Problem]:
    """bpmnlint's and the layout checks' findings for one diagram (read from ``path`` if given, else a copy).

    An element bpmnlint already names as undrawn (``no-bpmndi``) is not named again by the layout checks.
    """
    if path is not None:
        linted = run_bpmnlint([path], node_modules, config, {path: file})
    else:
        with tempfile.TemporaryDirectory(prefix="homeschool-lint-") as scratch:
            copy = Path(scratch) / "diagram.bpmn"
            copy.write_bytes(source)
            linted = run_bpmnlint([copy], node_modules, config, {copy: file})
    root = _parse(source)
    if root is None:
        return linted
    undrawn = {f.element_id for f in linted if f.kind == "bpmnlint/no-bpmndi"}
    return linted + [f for f in check_layout(root, file)
                     if not (f.kind == "layout-no-di" and f.element_id in undrawn)]
