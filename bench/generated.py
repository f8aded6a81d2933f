"""Generated case shapes, shared by benchmarks 1, 8 and 9: their BPMN wrapper, forms, files and services.

``step_case`` (N tasks in a row) and ``loop_case`` (one task reopened in a loop) write only their
own elements; the definitions, the specialist's lane, the forms' common fields, the files the
product is pointed at and the product wired on them on a fresh database are made here once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from service.application.deployments import deploy_shipped
from service.bootstrap import Services, build_services
from service.config import Settings

from .common import PROJECT, fresh_database, registry, scratch

#: The lane (role) doing every task of the generated cases.
LANE = "specialist"
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')


def diagram(process_id: str, name: str, nodes: Sequence[str], elements: Sequence[str]) -> str:
    """BPMN text of one executable process whose ``nodes`` are all in the specialist's lane."""
    refs = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in nodes)
    return "\n".join([
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<bpmn:definitions {NS} id="{process_id}_definitions" targetNamespace="http://homeschool.edu.kz/bench">',
        f'  <bpmn:process id="{process_id}" name="{name}" isExecutable="true">',
        f'    <bpmn:laneSet id="{process_id}_lanes"><bpmn:lane id="{LANE}" name="Specialist">{refs}</bpmn:lane>'
        "</bpmn:laneSet>",
        *elements,
        "  </bpmn:process>",
        "</bpmn:definitions>",
        "",
    ])


def form(title: str, **more: dict[str, object]) -> dict[str, object]:
    """A task's form: a note and a mark (and ``more`` fields), all required, checked like any task's form."""
    properties: dict[str, object] = {
        "note": {"type": "string", "maxLength": 200, "title": "Note"},
        "mark": {"type": "integer", "minimum": 1, "maximum": 5, "title": "Mark"},
        **more,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def write(folder: Path, diagrams: Mapping[str, str], forms: Mapping[str, Mapping[str, dict[str, object]]]
          ) -> tuple[Path, Path]:
    """Diagrams ({process id: BPMN}) and forms ({process id: {task: form}}) under ``folder``; (processes, forms)."""
    processes, forms_dir = folder / "processes", folder / "forms"
    processes.mkdir(parents=True, exist_ok=True)
    for process_id, text in diagrams.items():
        (processes / f"{process_id}.bpmn").write_text(text, encoding="utf-8")
    for process_id, tasks in forms.items():
        own = forms_dir / process_id
        own.mkdir(parents=True, exist_ok=True)
        for task, schema in tasks.items():
            (own / f"{task}.schema.json").write_text(json.dumps(schema, ensure_ascii=False, indent=1),
                                                     encoding="utf-8")
    return processes, forms_dir


@contextlib.contextmanager
def services_on(url: str | None, write_files: Callable[[Path], tuple[Path, Path]], prefix: str) -> Iterator[Services]:
    """The product on generated diagrams and forms (``write_files`` puts them in a folder), deployed, fresh database."""
    with fresh_database(url) as database_url, scratch(prefix) as folder:
        processes, forms = write_files(Path(folder))
        settings = Settings.from_env({
            "DATABASE_URL": database_url, "HOMESCHOOL_INSTANCE_DIR": folder,
            "HOMESCHOOL_CALENDAR_OVERRIDES": f"{folder}/none.toml",
            "HOMESCHOOL_PROCESSES_DIR": str(processes), "HOMESCHOOL_FORMS_DIR": str(forms),
        }, base=PROJECT)
        services = build_services(settings)
        try:
            registry(services)
            # Deployed at start-up, as the web app and the worker do: cases run on a stored version.
            deploy_shipped(services.write_uow, services.runtime, processes, forms, services.now())
            yield services
        finally:
            services.database.dispose()
