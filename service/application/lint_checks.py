"""bpmn.io's linter (bpmnlint, recommended rules) and the layout checks, as checks of ``homeschool validate``.

:func:`lint_checks` gives the validation (``service.application.validation``) one more check per
diagram: bpmnlint's findings (its errors are errors, its warnings warnings) and the layout checks'
(a label crossed by a flow, overlapping shapes or labels, something outside its pool, an element
without a drawing). bpmnlint comes from ``node_modules`` (``make setup``); its configuration is the
``.bpmnlintrc`` beside that folder, at the root of the installation.
"""

from __future__ import annotations

from pathlib import Path

from service.domain.problems import Problem
from service.engine.lint import lint_diagram

from .validation import DiagramFile, FileCheck

CONFIG_NAME = ".bpmnlintrc"


def lint_config(node_modules: Path) -> Path:
    """Where bpmnlint's configuration lies for this ``node_modules`` folder."""
    return node_modules.parent / CONFIG_NAME


def lint_checks(node_modules: Path) -> list[FileCheck]:
    """The checks to add to a validation: bpmnlint's recommended rules and the layout checks."""
    config = lint_config(node_modules)
    said: set[str] = set()

    def bpmnlint_and_layout(diagram: DiagramFile) -> list[Problem]:
        """bpmnlint's and the layout checks' problems of one diagram (bpmnlint missing: said once per run)."""
        found = lint_diagram(diagram.source, diagram.file, node_modules, config, diagram.path)
        fresh = [p for p in found if p.file is not None or p.message not in said]
        said.update(p.message for p in found if p.file is None)
        return fresh

    return [bpmnlint_and_layout]
