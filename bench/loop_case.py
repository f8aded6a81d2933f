"""Benchmarks 8 and 9's case shape: one user task reopened in a loop until a field says stop.

``start → revise (user task, the specialist's) → "done?" (exclusive gateway) → back to revise``
unless the submitted ``stop`` is true, then ``end``. Every reopening adds a new task for ``revise``
and for the gateway to SpiffWorkflow's task tree, which is what benchmark 8 measures the product
against; benchmark 9 uses the same case for its many short task completions. The diagram and its
form are generated here into a folder the product is pointed at.
"""

from __future__ import annotations

from pathlib import Path

from . import generated
from .generated import LANE

__all__ = ["LANE", "PROCESS_ID", "TASK", "answers", "diagram", "form", "write"]

PROCESS_ID = "bench_rework_loop"
TASK = "revise"


def diagram() -> str:
    """BPMN text of the loop."""
    return generated.diagram(PROCESS_ID, "Benchmark rework loop", ("start", TASK, "done_yet", "end"), [
        '    <bpmn:startEvent id="start" name="Start"><bpmn:outgoing>to_revise</bpmn:outgoing></bpmn:startEvent>',
        f'    <bpmn:userTask id="{TASK}" name="Revise the plan"><bpmn:incoming>to_revise</bpmn:incoming>'
        '<bpmn:incoming>again</bpmn:incoming><bpmn:outgoing>to_check</bpmn:outgoing></bpmn:userTask>',
        '    <bpmn:exclusiveGateway id="done_yet" name="Done?" default="again">'
        '<bpmn:incoming>to_check</bpmn:incoming><bpmn:outgoing>finished</bpmn:outgoing>'
        '<bpmn:outgoing>again</bpmn:outgoing></bpmn:exclusiveGateway>',
        '    <bpmn:endEvent id="end" name="Done"><bpmn:incoming>finished</bpmn:incoming></bpmn:endEvent>',
        '    <bpmn:sequenceFlow id="to_revise" sourceRef="start" targetRef="revise"/>',
        '    <bpmn:sequenceFlow id="to_check" sourceRef="revise" targetRef="done_yet"/>',
        '    <bpmn:sequenceFlow id="finished" sourceRef="done_yet" targetRef="end">'
        '<bpmn:conditionExpression>stop</bpmn:conditionExpression></bpmn:sequenceFlow>',
        '    <bpmn:sequenceFlow id="again" sourceRef="done_yet" targetRef="revise"/>',
    ])


def form() -> dict[str, object]:
    """The form of ``revise``: a note, a mark and whether to stop, checked like any task's form."""
    return generated.form("Revise", stop={"type": "boolean", "title": "Stop"})


def answers(number: int, stop: bool = False) -> dict[str, object]:
    """What the specialist submits at the ``number``-th opening."""
    return {"note": f"Правка {number}", "mark": 1 + number % 5, "stop": stop}


def write(folder: Path) -> tuple[Path, Path]:
    """Write the diagram and its form under ``folder``; (processes dir, forms dir)."""
    return generated.write(folder, {PROCESS_ID: diagram()}, {PROCESS_ID: {TASK: form()}})
