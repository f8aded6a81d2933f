"""Running diagrams: start a case, complete a user task, deliver a message, fire due timers.

One :class:`ProcessRun` wraps one live SpiffWorkflow workflow for the length of one use case.
Every operation takes the instant it happens at ("now"), runs the engine until only people,
messages or timers can move it on, and records what it did; :meth:`ProcessRun.snapshot` then
tells the application what to keep beside the state (open tasks, timers, awaited messages,
outgoing messages, completed steps) without anyone having to deserialize it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from service.domain.calendar import WorkingCalendar
from service.domain.errors import ScriptError, TaskNotReady
from service.domain.model import OpenTask, OutgoingMessage, PendingTimer, Snapshot, Step
from service.domain.outbox import outbox_channel
from service.domain.package import PackageRules
from service.domain.time import ALMATY

from .clock import pinned_now
from .history import pruned_history
from .library import Diagram, DiagramLibrary
from .scripting import Refusal, build_script_engine
from .serialization import SERIALIZER_VERSION, UnstorableState, WorkflowSerializer
from .storable import describe_unstorable, instant_problem, is_storable

_JUST_AFTER = timedelta(microseconds=1)
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_NOT_FINISHED = TaskState.NOT_FINISHED_MASK


def _element_id(task: Task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def _diagram_line(exc: BaseException | None) -> int | None:
    """The line of diagram code (script or expression) the innermost diagram frame was running."""
    line = None
    tb = exc.__traceback__ if exc is not None else None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<diagram"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@dataclass(frozen=True)
class Baseline:
    """The projections of a case as stored before this run: open tasks, timers, awaited messages."""

    open_tasks: tuple[OpenTask, ...]
    timers: tuple[PendingTimer, ...]
    awaited_messages: tuple[str, ...]
    waiting_elements: tuple[str, ...]


class ProcessRun:
    """One live workflow inside one use case."""

    def __init__(self, engine: ProcessEngine, diagram: Diagram, workflow: BpmnWorkflow, fresh: bool = False) -> None:
        self.diagram = diagram
        self._engine = engine
        self._workflow = workflow
        self._steps: list[Step] = []
        self._outgoing: list[OutgoingMessage] = []
        #: What the case waited on when this run began, so saving writes only what changed.
        self.baseline = Baseline((), (), (), ()) if fresh else self._current_baseline()

    def _current_baseline(self) -> Baseline:
        timers = self._timers_by_task()
        return Baseline(
            open_tasks=tuple(self._open_tasks(timers)),
            timers=tuple(sorted(timers.values(), key=lambda t: (t.due_at, t.element_id))),
            awaited_messages=self.awaited_messages(),
            waiting_elements=self.waiting_elements(),
        )

    # --- operations -------------------------------------------------------------------------

    def complete_task(self, task_id: str, data: Mapping[str, Any], now: datetime) -> Step:
        """Complete the ready user task ``task_id`` with the submitted ``data``."""
        task = self._ready_user_task(task_id)
        with self._running(now):
            task.data.update(data)
            task.run()
            step = self._record(task)
            self._workflow.do_engine_steps(did_complete_task=self._record)
        assert step is not None, "user tasks always carry a BPMN id"
        return step

    def task_data(self, task_id: str) -> dict[str, Any]:
        """The data a ready user task sees (the case's variables at that point)."""
        return dict(self._ready_user_task(task_id).data)

    def deliver_message(self, name: str, payload: Mapping[str, Any], now: datetime) -> bool:
        """Hand a message to the event waiting for it; False if nothing in this case waits for it."""
        definition = self._waiting_for(name)
        if definition is None:
            return False
        event = BpmnEvent(definition, dict(payload))
        with self._running(now):
            self._workflow.send_event(event)
            self._workflow.do_engine_steps(did_complete_task=self._record)
        return True

    def fire_timers(self, now: datetime) -> None:
        """Let every timer due at ``now`` fire and run on from there."""
        with self._running(now):
            self._workflow.refresh_timers()
            self._workflow.do_engine_steps(did_complete_task=self._record)

    def run_engine(self, now: datetime) -> None:
        """Run automatic steps (used right after a case starts)."""
        with self._running(now):
            self._workflow.do_engine_steps(did_complete_task=self._record)

    # --- reading ----------------------------------------------------------------------------

    def finished(self) -> bool:
        """Whether the workflow has no unfinished task left (SpiffWorkflow's ``is_completed``, read newest first).

        The library walks the task tree from its root, through every completed task, to the first
        one not finished; the newest tasks are the live ones, so looking from the end of the
        workflow's task table answers at once while the case runs.
        """
        workflow = self._workflow
        if not workflow.completed:
            workflow.completed = not any(task.state & _NOT_FINISHED for task in reversed(workflow.tasks.values()))
        return bool(workflow.completed)

    def case_data(self) -> Mapping[str, Any]:
        """The case's variables as they stand (the finished workflow's, else the last task's); not a copy."""
        if self.finished():
            return self._workflow.data
        last = self._workflow.last_task
        return last.data if last else {}

    def snapshot(self) -> Snapshot:
        """What the case waits for now, and what it did since the run began."""
        timers_by_task = self._timers_by_task()
        return Snapshot(
            completed=self.finished(),
            open_tasks=tuple(self._open_tasks(timers_by_task)),
            timers=tuple(sorted(timers_by_task.values(), key=lambda t: (t.due_at, t.element_id))),
            awaited_messages=self.awaited_messages(),
            outgoing=tuple(self._drain_outgoing()),
            steps=tuple(self._steps),
            data=dict(self.case_data()),
        )

    def pending_timers(self) -> tuple[PendingTimer, ...]:
        """The timers the case waits on now, soonest first (reading only, unlike :meth:`snapshot`)."""
        return tuple(sorted(self._timers_by_task().values(), key=lambda t: (t.due_at, t.element_id)))

    def waiting_elements(self) -> tuple[str, ...]:
        """Ids of the events (or event-based gateways) the case waits at, not counting boundary timers."""
        found = set()
        for task in self._workflow.event_manager.tasks.values():
            element_id = _element_id(task)
            info = self.diagram.element(element_id) if element_id else None
            if task.state == TaskState.WAITING and info is not None and info.kind != "boundaryEvent":
                found.add(info.element_id)
        return tuple(sorted(found))

    def element_states(self) -> dict[str, str]:
        """Diagram element id → ``active`` (waiting or ready now) or ``completed`` (done at least once)."""
        states: dict[str, str] = {}
        for task in self._workflow.get_tasks():
            element_id = _element_id(task)
            if element_id is None:
                continue
            if task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                states[element_id] = "active"
            elif task.state == TaskState.COMPLETED and states.get(element_id) != "active":
                states[element_id] = "completed"
        for element_id in pruned_history(self._workflow).completed:  # done in rounds no longer saved
            states.setdefault(element_id, "completed")
        return states

    def dump(self) -> str:
        """The workflow state as JSON text (without the spec); an unstorable value fails naming its element."""
        try:
            return self._engine.serializer.dump(self._workflow)
        except UnstorableState as exc:
            self._raise_unstorable(list(self._workflow.tasks.values()))
            raise ScriptError(f"the case's state cannot be stored: {exc}", file=self.diagram.file) from exc

    @property
    def serializer_version(self) -> str:
        """The SpiffWorkflow serialization format this state is written in."""
        return SERIALIZER_VERSION

    # --- internals --------------------------------------------------------------------------

    @contextmanager
    def _running(self, now: datetime) -> Iterator[None]:
        # SpiffWorkflow fires a timer only once its time is strictly past; the product's rule (and
        # the sweep's) is "due at or before now", so the engine's clock runs a microsecond ahead.
        started = time.time()
        try:
            with pinned_now(now + _JUST_AFTER):
                yield
            self._check_storable(started)
        except SpiffWorkflowException as exc:
            raise self._script_error(exc) from exc

    def _script_error(self, exc: SpiffWorkflowException) -> ScriptError:
        """SpiffWorkflow's exception chain as one :class:`ScriptError`: file, element, script line, message."""
        task = getattr(exc, "task", None)
        cause = exc.__cause__ or exc.__context__  # SpiffWorkflow raises its wrapper inside the except
        self._mark_refusal(exc)
        if isinstance(cause, ScriptError):
            message = cause.message
        elif cause is not None:
            message = f"{type(cause).__name__}: {cause}"
        else:
            message = str(exc)
        line = _diagram_line(cause)
        script = getattr(task.task_spec, "script", None) if task is not None else None
        lines = script.splitlines() if isinstance(script, str) else []
        return self._located(
            message, task, line_number=line,
            error_line=lines[line - 1].strip() if line is not None and 0 < line <= len(lines) else None,
        )

    def _mark_refusal(self, exc: BaseException) -> None:
        """A diagram's refusal (``fail_if``) in the chain learns its process, whose names file words it."""
        current: BaseException | None = exc
        for _ in range(20):  # the chain is short; a cycle cannot hang
            if current is None:
                return
            if isinstance(current, Refusal):
                current.process_id = current.process_id or self.diagram.process_id
                return
            current = current.__cause__ or current.__context__

    def _located(self, message: str, task: Task | None, **where: Any) -> ScriptError:
        element_id = _element_id(task) if task is not None else None
        info = self.diagram.element(element_id) if element_id else None
        return ScriptError(message, element_id=element_id, element_name=info.name if info and info.name else None,
                           file=self.diagram.file, **where)

    def _check_storable(self, since: float) -> None:
        """Fail the step, naming the element, if it left a value the state, outbox or timers cannot keep.

        The data the case carries on is checked: that of the tasks now waiting or ready, and of the
        last one completed. A value a later script dropped again is still in an intermediate task's
        data; :meth:`dump` finds that one (strict JSON) and names its element the same way.
        """
        tasks = self._workflow.tasks.values()
        holders = [task for task in tasks if task.state & _LIVE and task.last_state_change >= since]
        if self._workflow.last_task is not None:
            holders.append(self._workflow.last_task)
        if not is_storable([task.data for task in holders] + [self._workflow.data]):
            self._raise_unstorable([task for task in tasks if task.last_state_change >= since] + holders)
        events = self._workflow.bpmn_events
        if events and not is_storable([event.payload for event in events]):
            changed = [task for task in tasks if task.last_state_change >= since]
            for event in events:
                name = event.event_definition.name
                problem = describe_unstorable(event.payload, "the payload")
                if problem is not None:
                    raise self._located(f"message '{name}': {problem}", self._thrower(changed, name))

    def _raise_unstorable(self, tasks: list[Task]) -> None:
        """Raise naming the first element (in the order they ran) whose data holds an unstorable value."""
        for task in sorted(tasks, key=lambda t: t.last_state_change):
            problem = self._variable_problem(task.data)
            if problem is not None:
                raise self._located(problem, self._named(task))
        problem = self._variable_problem(self._workflow.data)
        if problem is not None:
            raise self._located(problem, self._workflow.last_task)

    @staticmethod
    def _variable_problem(data: Mapping[str, Any]) -> str | None:
        for name, value in data.items():
            problem = describe_unstorable(value, f"variable '{name}'")
            if problem is not None:
                return problem
        return None

    @staticmethod
    def _named(task: Task) -> Task:
        """``task``, or the nearest ancestor that is a diagram element (SpiffWorkflow adds unnamed helpers)."""
        found: Task | None = task
        while found is not None and _element_id(found) is None:
            found = found.parent
        return found or task

    @staticmethod
    def _thrower(changed: list[Task], message_name: str) -> Task | None:
        for task in sorted(changed, key=lambda t: t.last_state_change, reverse=True):
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(definition, MessageEventDefinition) and definition.name == message_name:
                return task
        return None

    def _ready_user_task(self, task_id: str) -> Task:
        try:
            task = self._workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException):
            task = None
        if task is None or not task.task_spec.manual:
            raise TaskNotReady(f"task {task_id} is not a task of this case")
        if task.state != TaskState.READY:
            raise TaskNotReady(f"task '{_element_id(task)}' is no longer open ({TaskState.get_name(task.state)})")
        return task

    def _record(self, task: Task) -> Step | None:
        element_id = _element_id(task)
        if element_id is None:
            return None
        info = self.diagram.element(element_id)
        step = Step(
            element_id=element_id,
            name=info.name if info else element_id,
            kind=info.kind if info else type(task.task_spec).__name__,
            lane=info.lane if info else None,
            paragraphs=info.paragraphs if info else (),
        )
        self._steps.append(step)
        return step

    def _waiting_definitions(self) -> Iterator[tuple[Task, Any, str]]:
        """(waiting task, event definition, id of the catching element) for everything awaited.

        An event-based gateway waits on several definitions at once (a message *or* a timer);
        each is reported under the id of the catch event that follows the gateway.
        """
        for task in list(self._workflow.event_manager.tasks.values()):
            if task.state != TaskState.WAITING:
                continue
            definition = task.task_spec.event_definition
            if isinstance(definition, MultipleEventDefinition):
                for inner in definition.event_definitions:
                    yield task, inner, self._catcher_id(task, inner)
            else:
                yield task, definition, _element_id(task) or task.task_spec.name

    @staticmethod
    def _catcher_id(task: Task, definition: Any) -> str:
        # SpiffWorkflow moves the catch events' definitions onto the gateway; a timer keeps the
        # name of the event it came from, which is how we find that event again.
        for output in task.task_spec.outputs:
            same = getattr(output, "event_definition", None) == definition
            if same or getattr(output, "bpmn_name", None) == getattr(definition, "name", object()):
                return getattr(output, "bpmn_id", None) or output.name
        return _element_id(task) or task.task_spec.name

    def _waiting_for(self, name: str) -> Any:
        for _task, definition, _element in self._waiting_definitions():
            if isinstance(definition, MessageEventDefinition) and definition.name == name:
                return definition
        return None

    def awaited_messages(self) -> tuple[str, ...]:
        """Names of the messages this case's catch events are ready for."""
        return tuple(sorted({
            definition.name
            for _task, definition, _element in self._waiting_definitions()
            if isinstance(definition, MessageEventDefinition)
        }))

    def _timers_by_task(self) -> dict[UUID, PendingTimer]:
        timers: dict[UUID, PendingTimer] = {}
        for task, definition, element_id in self._waiting_definitions():
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = task._get_internal_data("event_value")
            if isinstance(definition, CycleTimerEventDefinition) and isinstance(value, dict):
                value = value.get("next")
            if not isinstance(value, str):
                continue
            problem = instant_problem(value)  # a state saved before timers were checked may hold one
            if problem is not None:
                info = self.diagram.element(element_id)
                raise ScriptError(f"the timer {problem}", element_id=element_id, file=self.diagram.file,
                                  element_name=info.name if info and info.name else None)
            # re-created as a plain datetime: the engine's clock subclass must not leak out
            due = datetime.fromisoformat(TimerEventDefinition.get_datetime(value).isoformat())
            timers[task.id] = PendingTimer(element_id=element_id, due_at=due.astimezone(ALMATY))
        return timers

    def _ready_user_tasks(self) -> list[Task]:
        """The ready user tasks in the order of the task tree.

        Without subprocesses every task is in the workflow's own table: one pass over it finds them,
        and when at most one is ready there is no order to find (the usual case), so the tree is not walked.
        """
        if not self._workflow.subprocesses:
            ready = [task for task in self._workflow.tasks.values()
                     if task.state == TaskState.READY and task.task_spec.manual]
            if len(ready) < 2:
                return ready
        return list(self._workflow.get_tasks(state=TaskState.READY, manual=True))

    def _open_tasks(self, timers_by_task: Mapping[UUID, PendingTimer]) -> Iterator[OpenTask]:
        for task in self._ready_user_tasks():
            element_id = _element_id(task) or task.task_spec.name
            info = self.diagram.element(element_id)
            yield OpenTask(
                task_id=str(task.id),
                element_id=element_id,
                title=info.name if info else element_id,
                lane=info.lane if info else task.task_spec.lane,
                due_at=self._due_of(task, timers_by_task),
                paragraphs=info.paragraphs if info else (),
            )

    @staticmethod
    def _due_of(task: Task, timers_by_task: Mapping[UUID, PendingTimer]) -> datetime | None:
        """A user task is due when the earliest timer on its boundary fires (or fired: it stays overdue)."""
        parent = task.parent
        if parent is None or not parent.task_spec.name.endswith(".BoundaryEventSplit"):
            return None
        dues = []
        for child in parent.children:
            if child.id in timers_by_task:
                dues.append(timers_by_task[child.id].due_at)
                continue
            definition = getattr(child.task_spec, "event_definition", None)
            value = child._get_internal_data("event_value") if isinstance(definition, TimerEventDefinition) else None
            if isinstance(value, str) and instant_problem(value) is None:
                due = datetime.fromisoformat(TimerEventDefinition.get_datetime(value).isoformat())
                dues.append(due.astimezone(ALMATY))
        return min(dues) if dues else None

    def _drain_outgoing(self) -> list[OutgoingMessage]:
        for event in self._workflow.get_events():
            name = event.event_definition.name
            payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
            self._outgoing.append(OutgoingMessage(name=name, channel=outbox_channel(name) or "", payload=payload))
        drained, self._outgoing = self._outgoing, []
        return drained


class ProcessEngine:
    """Starts and resumes workflows of the loaded diagrams with the restricted script engine."""

    def __init__(
        self, library: DiagramLibrary, calendar: WorkingCalendar, rules: PackageRules | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.library = library
        self.serializer = WorkflowSerializer()
        self._script_engine = build_script_engine(calendar, rules, settings)

    def start(self, process_id: str, data: Mapping[str, Any], now: datetime) -> ProcessRun:
        """A new workflow of the current version of ``process_id``, run up to its first wait."""
        diagram = self.library.current(process_id)
        workflow = BpmnWorkflow(diagram.spec, dict(diagram.subprocess_specs), script_engine=self._script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        run = ProcessRun(self, diagram, workflow, fresh=True)
        run.run_engine(now)
        return run

    def resume(self, diagram: Diagram, state: str) -> ProcessRun:
        """The workflow saved as ``state`` on ``diagram``'s version, ready for the next operation."""
        workflow = self.serializer.restore(state, diagram.spec, dict(diagram.subprocess_specs))
        workflow.script_engine = self._script_engine
        return ProcessRun(self, diagram, workflow)
