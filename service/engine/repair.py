"""Repairing a live workflow: correct its variables, or move it onto another version of its diagram.

Moving uses SpiffWorkflow's own diff helpers (``SpiffWorkflow.bpmn.util.diff``): the old and new
specs are aligned by element id, the tasks of the case are pointed at the new specs, and what
the waiting tasks had predicted is predicted again from the new diagram. Unlike
``migrate_workflow``'s default, waiting and ready tasks are *not* reset: a timer keeps its due
instant and a user task keeps its id (and so its assignee and deadline).
"""

from __future__ import annotations

import json
import keyword
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from service.domain.errors import InvalidInput

from .library import Diagram
from .runtime import ProcessRun

#: Tasks that are where the case stands: a person's task, a waiting event, an engine step due.
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
#: A mask no stored task is in: given to ``migrate_workflow`` so that it resets nothing itself.
_RESET_NOTHING = TaskState.ERROR
#: Marks a variable a correction added (it had no value before).
ABSENT = "<absent>"
#: Converts specs to dictionaries, which is how the diff compares two versions of an element.
_REGISTRY = BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG))


@dataclass(frozen=True)
class VersionDiff:
    """How two versions of a diagram differ, and whether a case can move from one to the other."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    #: element id → names of the spec attributes that differ (e.g. ``cond_task_specs``).
    changed: Mapping[str, tuple[str, ...]]
    #: Elements the case waits on now (open tasks, timers, message catches).
    waiting_on: tuple[str, ...]
    #: Of those, the ones the target version does not have.
    missing: tuple[str, ...]

    @property
    def possible(self) -> bool:
        """Whether every element the case waits on exists in the target."""
        return not self.missing


def _workflow(run: ProcessRun) -> Any:
    return run._workflow  # noqa: SLF001 - the engine's own run; repairs need the task tree


def waiting_on(run: ProcessRun) -> tuple[str, ...]:
    """Ids of the elements the case stands at: ready tasks, waiting events and timers (boundaries too).

    An event-based gateway waits on the catch events after it as well (SpiffWorkflow moves their
    definitions onto the gateway): a target without one of them could not take that event.
    """
    found = set()
    for task in _workflow(run).get_tasks(state=_LIVE):
        specs = [task.task_spec]
        if isinstance(task.task_spec, EventBasedGateway):
            specs += list(task.task_spec.outputs)
        for spec in specs:
            element_id = getattr(spec, "bpmn_id", None)
            if element_id and run.diagram.element(element_id) is not None:
                found.add(element_id)
    return tuple(sorted(found))


def diff_versions(run: ProcessRun, target: Diagram) -> VersionDiff:
    """Compare the case's diagram version with ``target`` (nothing is changed)."""
    source = run.diagram
    spec_diff = SpecDiff(_REGISTRY, source.spec, target.spec)
    changed = {
        spec.bpmn_id: tuple(sorted(attributes))
        for spec, attributes in spec_diff.changed.items()
        if getattr(spec, "bpmn_id", None) in source.elements
    }
    for name, sub_spec in source.subprocess_specs.items():
        new_sub = target.subprocess_specs.get(name)
        if new_sub is None:
            continue
        sub_diff = SpecDiff(_REGISTRY, sub_spec, new_sub)
        changed.update({spec.bpmn_id: tuple(sorted(attributes)) for spec, attributes in sub_diff.changed.items()
                        if getattr(spec, "bpmn_id", None) in source.elements})
    waiting = waiting_on(run)
    target_ids = set(target.elements)
    return VersionDiff(
        added=tuple(sorted(set(target.elements) - set(source.elements))),
        removed=tuple(sorted(set(source.elements) - target_ids)),
        changed=dict(sorted(changed.items())),
        waiting_on=waiting,
        missing=tuple(element for element in waiting if element not in target_ids),
    )


def migrate_run(run: ProcessRun, target: Diagram) -> VersionDiff:
    """Move the live workflow onto ``target``; raise :class:`InvalidInput` naming waited-on elements it lacks."""
    diff = diff_versions(run, target)
    if diff.missing:
        raise InvalidInput(
            f"the target version {target.content_hash[:12]} has no element "
            + ", ".join(f"'{element}'" for element in diff.missing)
            + " that the case waits on; it cannot be moved there"
        )
    workflow = _workflow(run)
    top, sub_diffs = diff_workflow(_REGISTRY, workflow, target.spec, dict(target.subprocess_specs))
    missing_subs = [sp_id for sp_id, sub in sub_diffs.items() if sub is None]
    if missing_subs:
        raise InvalidInput(f"the target version {target.content_hash[:12]} lacks a subprocess the case is in")
    migrate_workflow(top, workflow, target.spec, reset_mask=_RESET_NOTHING)
    for sp_id, sub in sub_diffs.items():
        sub_workflow = workflow.subprocesses[sp_id]
        migrate_workflow(sub, sub_workflow, target.subprocess_specs[sub_workflow.spec.name],
                         reset_mask=_RESET_NOTHING)
    workflow.subprocess_specs = dict(target.subprocess_specs)
    for task in list(workflow.get_tasks(state=_LIVE)):
        _predict_again(task)
    run.diagram = target
    return diff


def _predict_again(task: Any) -> None:
    """Drop what a live task had predicted from the old spec and predict it from the new one.

    Like ``Task.reset_branch`` but keeping the task's state, data and internal data (a timer's due instant).
    """
    if task.workflow.tasks.get(task.id) is None:
        return
    task._drop_children(force=True)  # noqa: SLF001 - only predicted children hang below a live task
    task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | task.state)  # noqa: SLF001


def check_variables(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Variables a correction may set: identifiers (not private), values JSON can keep exactly."""
    if not changes:
        raise InvalidInput("name at least one variable to correct")
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise InvalidInput(f"'{name}' is not a variable name a diagram can use")
        _check_json(name, value)
        checked[name] = value
    return checked


def _check_json(name: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"variable '{name}': {value} cannot be stored")
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, list):
        for item in value:
            _check_json(name, item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"variable '{name}': object keys must be text")
            _check_json(name, item)
        return
    raise InvalidInput(f"variable '{name}': a {type(value).__name__} cannot be stored (JSON values only)")


def correct_data(run: ProcessRun, changes: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Set variables on every task the case stands at; return ``{name: {"old": …, "new": …}}``.

    The old value is the one the first such task saw (``ABSENT`` if it had none).
    """
    values = check_variables(changes)
    tasks = _workflow(run).get_tasks(state=_LIVE)
    if not tasks:
        raise InvalidInput("the case stands at no task or event: there is no data to correct")
    seen = tasks[0].data
    report = {name: {"old": _copy(seen[name]) if name in seen else ABSENT, "new": value}
              for name, value in values.items()}
    for task in tasks:
        task.data.update(json.loads(json.dumps(values)))
        if task.state == TaskState.WAITING and task.parent is not None:
            # A waiting event takes its parent's data again each time it is looked at (SpiffWorkflow's
            # ``_inherit_data``, the parent winning): the value must be there too, or it is undone.
            task.parent.data.update(json.loads(json.dumps(values)))
    return report


def _copy(value: Any) -> Any:
    """A value as the event log can keep it (its JSON form; text for what JSON cannot hold)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return repr(value)
