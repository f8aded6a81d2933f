"""Saving a running workflow without its spec, and restoring it onto a cached spec.

SpiffWorkflow's default JSON carries the whole parsed diagram in every instance (about 12 KB
of a 20 KB document) and rebuilds spec objects on every load. The spec is already stored once
per diagram version (content hash) and cached parsed, so the instance state keeps only the
task tree and data; on load the cached spec objects are handed back to the converter.

The task tree is saved without its finished history (``history.py``): a task reopened in a loop
costs the same to load and save on its 200th round as on its first.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .history import PrunedHistory, Shape, pruned_history, remember, shape_of, tasks_to_dict

#: Stored with each instance; SpiffWorkflow's migrations key off it when its format changes.
SERIALIZER_VERSION = VERSION

_specs_for_restore: ContextVar[tuple[Any, dict[str, Any]] | None] = ContextVar(
    "specs_for_restore", default=None
)


def _workflow_fields(converter: WorkflowConverter, workflow: Any, tasks: dict[str, Any]) -> dict[str, Any]:
    """SpiffWorkflow's ``WorkflowConverter.to_dict``, with the tasks already converted (kept ones only)."""
    registry = converter.registry
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": tasks,
        "root": str(workflow.task_tree.id),
    }


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Like SpiffWorkflow's converter, minus the spec on the way out, plus a cached spec on the way in.

    On the way out the finished history is left out of the task tree (:mod:`.history`);
    :class:`_UnprunedWorkflowConverter` keeps everything.
    """

    prune = True

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        if not self.prune:
            dct = WorkflowConverter.to_dict(self, workflow)
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            history = pruned_history(workflow)
            if history.tasks:
                dct["pruned"] = history.to_dict()
            return dct
        shapes: dict[int, Shape] = {id(workflow): shape_of(workflow)}
        removed = list(shapes[id(workflow)].removed)
        subprocesses: dict[str, Any] = {}
        for task_id, sub in workflow.subprocesses.items():  # parents before their children
            parent_shape = shapes.get(id(sub.parent_workflow))
            if parent_shape is None or not parent_shape.keeps(task_id, sub.parent_workflow):
                removed.extend(sub.tasks.values())  # its task is cut out: the finished subprocess goes too
                continue
            shape = shapes[id(sub)] = shape_of(sub)
            removed.extend(shape.removed)
            fields = _workflow_fields(self, sub, tasks_to_dict(self.registry, sub, shape))
            fields["parent_task_id"] = str(sub.parent_task_id)
            fields["spec"] = sub.spec.name
            subprocesses[str(task_id)] = fields
        dct = _workflow_fields(self, workflow, tasks_to_dict(self.registry, workflow, shapes[id(workflow)]))
        dct["subprocesses"] = subprocesses
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        history = pruned_history(workflow).adding(removed)
        if history.tasks:
            dct["pruned"] = history.to_dict()
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        specs = _specs_for_restore.get()
        if specs is None:
            raise RuntimeError("restore a workflow through WorkflowSerializer.restore")
        spec, subprocess_specs = specs
        workflow = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
        return self._restore_into(workflow, dct)

    def _restore_into(self, workflow: BpmnWorkflow, dct: dict[str, Any]) -> BpmnWorkflow:
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        remember(workflow, PrunedHistory.from_dict(dct.get("pruned")))
        return workflow


class _UnprunedWorkflowConverter(_SpecFreeWorkflowConverter):
    """Saves every task SpiffWorkflow ran (for comparisons: the same case with its whole history)."""

    prune = False


def _build_serializer(prune: bool = True) -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpecFreeWorkflowConverter if prune else _UnprunedWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


class UnstorableState(ValueError):
    """The state holds a value strict JSON cannot write (NaN, infinity, an object of no known type)."""


class WorkflowSerializer:
    """Turns a workflow into compact JSON text and back, given the diagram's parsed specs."""

    def __init__(self, prune: bool = True) -> None:
        #: Whether finished history is left out of the saved task tree (see :mod:`.history`).
        self.prune = prune
        self._serializer = _build_serializer(prune)

    def dump(self, workflow: BpmnWorkflow) -> str:
        """The instance's state as strict JSON (no NaN or infinity), without the spec.

        SpiffWorkflow's ``serialize_json`` with ``allow_nan=False`` added: PostgreSQL's JSON types
        refuse NaN and Infinity, and a state that cannot be read back must never be saved.
        """
        serializer = self._serializer
        serializer.registry._encoder_mode = True
        try:
            dct = serializer.to_dict(workflow)
            dct[serializer.VERSION_KEY] = serializer.VERSION
            return json.dumps(dct, cls=serializer._encoder_cls, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise UnstorableState(str(exc)) from exc
        finally:
            serializer.registry._encoder_mode = False

    def restore(self, text: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        """Rebuild a workflow from :meth:`dump` output onto already parsed specs."""
        dct = json.loads(text)
        self._serializer.migrate(dct)
        token = _specs_for_restore.set((spec, subprocess_specs))
        try:
            return self._serializer.from_dict(dct)
        finally:
            _specs_for_restore.reset(token)
