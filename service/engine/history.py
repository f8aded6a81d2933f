"""Keeping a case's finished history out of its saved state: only what the running case can still need.

SpiffWorkflow keeps every task it ever ran in one tree, and a loop hangs each new round below the
last one, so a task reopened 200 times drags 200 rounds of finished tasks (each with a copy of the
case's data) through every load and save. The event log already records each completed step, so
the saved state keeps only:

* the root, every task that is not finished (ready, waiting, started, predicted or failed) and
  everything below one;
* above each of those, and above the last completed task: for every task spec met on the way up,
  the nearest task of that spec — which is what SpiffWorkflow looks up (``find_ancestor``: the
  split of a boundary event, a join's split), and always the direct parent, whose data a task
  inherits;
* the siblings of a task that is not finished (a boundary timer that fired beside its user task:
  the task stays overdue).

The other finished tasks are cut out: a kept task hangs below its nearest kept ancestor, in the same
order as before (ancestry among kept tasks is unchanged), and its data — stored as a difference
from its parent's — is compared with that new parent. A finished subprocess whose task is cut out
goes with it. The elements completed by the tasks cut out are remembered in :class:`PrunedHistory`,
so the case's drawing still marks them done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

#: A task in one of these states is history; anything else is where the case stands or may go.
_PRUNABLE = TaskState.COMPLETED | TaskState.CANCELLED
#: The workflow attribute a restored state's :class:`PrunedHistory` is kept on.
_ATTRIBUTE = "homeschool_pruned_history"


@dataclass(frozen=True)
class PrunedHistory:
    """What was cut out of a case's saved task tree so far: how many tasks, which elements they completed."""

    tasks: int = 0
    completed: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The form kept in the saved state."""
        return {"tasks": self.tasks, "completed": sorted(self.completed)}

    @classmethod
    def from_dict(cls, dct: Any) -> PrunedHistory:
        """Read back :meth:`to_dict` output (absent in states saved before pruning)."""
        if not isinstance(dct, dict):
            return cls()
        return cls(int(dct.get("tasks", 0)), frozenset(str(e) for e in dct.get("completed", ())))

    def adding(self, removed: Iterable[Task]) -> PrunedHistory:
        """This history plus the tasks ``removed`` now."""
        count, completed = self.tasks, set(self.completed)
        for task in removed:
            count += 1
            element_id = getattr(task.task_spec, "bpmn_id", None)
            if element_id and task.state == TaskState.COMPLETED:
                completed.add(element_id)
        return PrunedHistory(count, frozenset(completed))


def pruned_history(workflow: Any) -> PrunedHistory:
    """What earlier saves of this workflow cut out (nothing for a new case or one saved unpruned)."""
    found = getattr(workflow, _ATTRIBUTE, None)
    return found if isinstance(found, PrunedHistory) else PrunedHistory()


def remember(workflow: Any, history: PrunedHistory) -> None:
    """Attach ``history`` to a restored workflow."""
    setattr(workflow, _ATTRIBUTE, history)


@dataclass
class Shape:
    """The tree of one (sub)workflow as it will be saved: which tasks stay and how they hang together."""

    kept: set[UUID]
    #: kept task → its kept children, in the original order (only for tasks whose children change).
    children: dict[UUID, list[UUID]] = field(default_factory=dict)
    #: kept task → its new parent (only for tasks whose parent was cut out).
    parent: dict[UUID, UUID] = field(default_factory=dict)
    removed: list[Task] = field(default_factory=list)


def shape_of(workflow: Any) -> Shape:
    """Which tasks of ``workflow`` its saved state keeps, and the tree they form (nothing is changed)."""
    tasks: dict[UUID, Task] = workflow.tasks
    root: Task = workflow.task_tree
    kept: set[UUID] = {root.id}
    sources: list[Task] = []
    for task in tasks.values():
        if not task.state & _PRUNABLE:
            sources.append(task)
            kept.add(task.id)
            parent = task.parent
            if parent is not None:
                kept.update(parent._children)  # noqa: SLF001 - ids, without looking each task up
    last = workflow.last_task
    if last is not None and last.id in tasks:
        sources.append(last)
        kept.add(last.id)
    for task in sources:
        _keep_nearest_ancestors(task, kept)
    if len(kept) == len(tasks):
        return Shape(kept)
    return _cut(tasks, root, kept)


def _keep_nearest_ancestors(task: Task, kept: set[UUID]) -> None:
    """Keep, above ``task``, the nearest task of each spec (the direct parent among them)."""
    seen: set[str] = set()
    current = task.parent
    while current is not None:
        name = current.task_spec.name
        if name not in seen:
            seen.add(name)
            kept.add(current.id)
        current = current.parent


def _cut(tasks: dict[UUID, Task], root: Task, kept: set[UUID]) -> Shape:
    """Hang each kept task below its nearest kept ancestor; list the tasks cut out."""
    shape = Shape(kept)
    for task_id in kept:
        task = tasks.get(task_id)
        if task is None:
            continue
        direct = task._children  # noqa: SLF001
        if all(child in kept for child in direct):
            continue
        below: list[UUID] = []
        stack = list(reversed(direct))
        while stack:
            child_id = stack.pop()
            if child_id in kept:
                below.append(child_id)
                shape.parent[child_id] = task_id
                continue
            child = tasks.get(child_id)
            if child is not None:
                shape.removed.append(child)
                stack.extend(reversed(child._children))  # noqa: SLF001
        shape.children[task_id] = below
    # a kept child under a kept parent keeps that parent: only record real changes
    shape.parent = {child: parent for child, parent in shape.parent.items() if tasks[child]._parent != parent}  # noqa: SLF001
    return shape


def tasks_to_dict(registry: Any, workflow: Any, shape: Shape) -> dict[str, Any]:
    """The saved form of the kept tasks of ``workflow``, in the workflow's own order (parents first)."""
    tasks: dict[UUID, Task] = workflow.tasks
    saved: dict[str, Any] = {}
    for task_id, task in tasks.items():
        if task_id not in shape.kept:
            continue
        dct = registry.convert(task)
        children = shape.children.get(task_id)
        if children is not None:
            dct["children"] = [str(child) for child in children]
        new_parent = shape.parent.get(task_id)
        if new_parent is not None:
            dct["parent"] = str(new_parent)
            base = tasks[new_parent].data
            if "delta" in dct:  # data stored as a difference from the parent's: now from the new parent
                dct["delta"] = {
                    "updates": DeepMerge.get_updated_keys(base, task.data),
                    "deletions": DeepMerge.get_deleted_keys(base, task.data),
                }
        saved[str(task_id)] = dct
    return saved
