"""Benchmarks 8 and 9's case shape: one user task reopened in a loop until a field says stop.

``start → revise (user task, the specialist's) → "done?" (exclusive gateway) → back to revise``
unless the submitted ``stop`` is true, then ``end``. Every reopening adds a new task for ``revise``
and for the gateway to SpiffWorkflow's task tree, which is what benchmark 8 measures the product
against; benchmark 9 uses the same case for its many short task completions. The diagram and its
form are generated here into a folder the product is pointed at.
"""

from __future__ import annotations

import json
from pathlib import Path

PROCESS_ID = "bench_rework_loop"
#: The lane (role) of the reopened task.
LANE = "specialist"
TASK = "revise"
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')


def diagram() -> str:
    """BPMN text of the loop."""
    nodes = ("start", TASK, "done_yet", "end")
    refs = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in nodes)
    return "\n".join([
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<bpmn:definitions {NS} id="{PROCESS_ID}_definitions" targetNamespace="http://homeschool.edu.kz/bench">',
        f'  <bpmn:process id="{PROCESS_ID}" name="Benchmark rework loop" isExecutable="true">',
        f'    <bpmn:laneSet id="{PROCESS_ID}_lanes"><bpmn:lane id="{LANE}" name="Specialist">{refs}</bpmn:lane>'
        "</bpmn:laneSet>",
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
        "  </bpmn:process>",
        "</bpmn:definitions>",
        "",
    ])


def form() -> dict[str, object]:
    """The form of ``revise``: a note, a mark and whether to stop, checked like any task's form."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Revise",
        "type": "object",
        "additionalProperties": False,
        "required": ["note", "mark", "stop"],
        "properties": {
            "note": {"type": "string", "maxLength": 200, "title": "Note"},
            "mark": {"type": "integer", "minimum": 1, "maximum": 5, "title": "Mark"},
            "stop": {"type": "boolean", "title": "Stop"},
        },
    }


def answers(number: int, stop: bool = False) -> dict[str, object]:
    """What the specialist submits at the ``number``-th opening."""
    return {"note": f"Правка {number}", "mark": 1 + number % 5, "stop": stop}


def write(folder: Path) -> tuple[Path, Path]:
    """Write the diagram and its form under ``folder``; (processes dir, forms dir)."""
    processes, forms = folder / "processes", folder / "forms" / PROCESS_ID
    processes.mkdir(parents=True, exist_ok=True)
    forms.mkdir(parents=True, exist_ok=True)
    (processes / f"{PROCESS_ID}.bpmn").write_text(diagram(), encoding="utf-8")
    (forms / f"{TASK}.schema.json").write_text(json.dumps(form(), ensure_ascii=False, indent=1), encoding="utf-8")
    return processes, forms.parent
