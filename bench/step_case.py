"""Benchmark 1's case shape: a diagram of N user tasks in a row, each with its form, generated here.

Every task is the specialist's and carries a stage of the fixed list (§8), alternating between two,
so each completion moves the case to another stage (the last one ends it as provided). The
product then writes what a real step writes: the state, the open task (the next one replaces
it), the event log (task completed, stage changed, outbox queued) and one outbox row for the
monitoring system. No documents are issued (the floor has none either); the shipped diagrams
issue theirs on a few steps only.
"""

from __future__ import annotations

from pathlib import Path

from . import generated
from .generated import LANE

__all__ = ["LANE", "STAGES", "answers", "diagram", "form", "process_id", "task_id", "write"]

#: Two stages of the fixed list, alternated so each step changes the stage.
STAGES = ("check_request", "refusal_confirmation")


def process_id(tasks: int) -> str:
    """The process id of the case shape with ``tasks`` user tasks."""
    return f"bench_steps_{tasks}"


def task_id(number: int) -> str:
    """The element id of the ``number``-th user task (from 1)."""
    return f"step_{number:03d}"


def _stage(code: str) -> str:
    return (f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="stage" '
            f'value="{code}"/></spiffworkflow:properties></bpmn:extensionElements>')


def diagram(tasks: int) -> str:
    """BPMN text: start → ``tasks`` user tasks in a row → end, all in the specialist's lane."""
    ids = ["start"] + [task_id(i) for i in range(1, tasks + 1)] + ["done"]
    nodes = ['    <bpmn:startEvent id="start" name="Start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>']
    for i in range(1, tasks + 1):
        stage = STAGES[i % 2]
        nodes.append(
            f'    <bpmn:userTask id="{task_id(i)}" name="Step {i}">'
            f'{_stage(stage)}'
            f'<bpmn:incoming>f{i - 1}</bpmn:incoming><bpmn:outgoing>f{i}</bpmn:outgoing></bpmn:userTask>')
    nodes.append(f'    <bpmn:endEvent id="done" name="Done">{_stage("provided")}'
                 f'<bpmn:incoming>f{tasks}</bpmn:incoming></bpmn:endEvent>')
    flows = [f'    <bpmn:sequenceFlow id="f{i}" sourceRef="{ids[i]}" targetRef="{ids[i + 1]}"/>'
             for i in range(tasks + 1)]
    return generated.diagram(process_id(tasks), f"Benchmark case of {tasks} tasks", ids, [*nodes, *flows])


def form() -> dict[str, object]:
    """The form of every step: a note and a mark, both required, checked like any task's form."""
    return generated.form("Step")


def answers(number: int) -> dict[str, object]:
    """What the specialist submits at step ``number``."""
    return {"note": f"Шаг {number} выполнен", "mark": 1 + number % 5}


def write(folder: Path, sizes: tuple[int, ...]) -> tuple[Path, Path]:
    """Write the diagrams and forms for each size under ``folder``; (processes dir, forms dir)."""
    return generated.write(folder, {process_id(tasks): diagram(tasks) for tasks in sizes},
                           {process_id(tasks): {task_id(i): form() for i in range(1, tasks + 1)} for tasks in sizes})
