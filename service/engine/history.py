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
    """The tree of one (sub)workflow as it will be saved: which tasks stay and how they hang together.

    Tasks are held by identity (SpiffWorkflow's ``Task`` has no ``__eq__``): hashing their UUIDs
    again and again in Python would cost more than the pruning saves on a small case.
    """

    kept: set[Task]
    #: kept task → its kept children, in the original order (only for tasks whose children change).
    children: dict[Task, list[Task]] = field(default_factory=dict)
    #: kept task → its new parent (only for tasks whose parent was cut out).
    parent: dict[Task, Task] = field(default_factory=dict)
    removed: list[Task] = field(default_factory=list)

    def keeps(self, task_id: UUID, workflow: Any) -> bool:
        """Whether the task of ``workflow`` with ``task_id`` is saved."""
        task = workflow.tasks.get(task_id)
        return task is not None and task in self.kept


def shape_of(workflow: Any) -> Shape:
    """Which tasks of ``workflow`` its saved state keeps, and the tree they form (nothing is changed)."""
    tasks: dict[UUID, Task] = workflow.tasks
    children_of: dict[Task, list[Task]] = {}
    parent_of: dict[Task, Task] = {}
    for task in tasks.values():
        below = [child for child in map(tasks.get, task._children) if child is not None]  # noqa: SLF001
        children_of[task] = below
        for child in below:
            parent_of[child] = task
    kept: set[Task] = {workflow.task_tree}
    sources: list[Task] = []
    for task in tasks.values():
        if not task.state & _PRUNABLE:
            sources.append(task)
            kept.add(task)
            parent = parent_of.get(task)
            if parent is not None:
                kept.update(children_of[parent])
    last = workflow.last_task
    if last is not None and last in children_of:
        sources.append(last)
        kept.add(last)
    walked: set[Task] = set()
    for task in sources:  # in the workflow's order: a parent's walk comes before its children's
        _keep_nearest_ancestors(task, parent_of, kept, walked)
    if len(kept) == len(tasks):
        return Shape(kept)
    return _cut(tasks, children_of, kept)


def _keep_nearest_ancestors(task: Task, parent_of: dict[Task, Task], kept: set[Task], walked: set[Task]) -> None:
    """Keep, above ``task``, the nearest task of each spec (the direct parent among them).

    Reaching a task whose own walk is done ends this one: that walk kept the nearest task of every
    spec above it, and this walk would only keep some of those.
    """
    seen: set[str] = set()
    walked.add(task)
    current = parent_of.get(task)
    while current is not None:
        name = current.task_spec.name
        if name not in seen:
            seen.add(name)
            kept.add(current)
        if current in walked:
            return
        current = parent_of.get(current)


def _cut(tasks: dict[UUID, Task], children_of: dict[Task, list[Task]], kept: set[Task]) -> Shape:
    """Hang each kept task below its nearest kept ancestor; list the tasks cut out."""
    shape = Shape(kept)
    for task in tasks.values():
        if task not in kept:
            continue
        direct = children_of[task]
        if all(child in kept for child in direct):
            continue
        below: list[Task] = []
        stack = list(reversed(direct))
        while stack:
            child = stack.pop()
            if child in kept:
                below.append(child)
                if child not in direct:
                    shape.parent[child] = task
                continue
            shape.removed.append(child)
            stack.extend(reversed(children_of[child]))
        shape.children[task] = below
    return shape


def tasks_to_dict(registry: Any, workflow: Any, shape: Shape) -> dict[str, Any]:
    """The saved form of the kept tasks of ``workflow``, in the workflow's own order (parents first)."""
    saved: dict[str, Any] = {}
    for task in workflow.tasks.values():
        if task not in shape.kept:
            continue
        dct = registry.convert(task)
        children = shape.children.get(task)
        if children is not None:
            dct["children"] = [str(child.id) for child in children]
        new_parent = shape.parent.get(task)
        if new_parent is not None:
            dct["parent"] = str(new_parent.id)
            if "delta" in dct:  # data stored as a difference from the parent's: now from the new parent
                dct["delta"] = {
                    "updates": DeepMerge.get_updated_keys(new_parent.data, task.data),
                    "deletions": DeepMerge.get_deleted_keys(new_parent.data, task.data),
                }
        saved[dct["id"]] = dct
    return saved
