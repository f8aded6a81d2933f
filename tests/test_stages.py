"""§8 stages: a fixed list with codes and names, mapped from the diagrams' own elements."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.domain.errors import DiagramError
from service.domain.stages import BUILT_IN_STAGES, STAGES, UNMAPPED, Stage, recorded_stage_name, stage_names
from service.engine.library import parse_diagram

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
#: Ends that close an escalation or a repeated timer: the case's stage does not change there.
NOT_A_STAGE = ("escalat", "already", "attended")


@pytest.mark.parametrize("path", sorted(PROCESSES.glob("*.bpmn")), ids=lambda p: p.stem)
def test_every_task_and_outcome_of_the_shipped_diagrams_names_a_stage(path: Path) -> None:
    diagram = parse_diagram(path.read_bytes(), path.name)
    missing = [
        e.element_id for e in diagram.elements.values()
        if (e.kind == "userTask" or e.kind == "endEvent" and not any(w in e.element_id for w in NOT_A_STAGE))
        and e.stage is None
    ]
    assert missing == []
    assert {e.stage for e in diagram.elements.values() if e.stage} <= set(STAGES)


def test_an_unknown_stage_is_refused_with_the_element_named(tmp_path: Path) -> None:
    source = (PROCESSES / "service_delivery.bpmn").read_text(encoding="utf-8")
    broken = source.replace('name="stage" value="organising"', 'name="stage" value="organizing"', 1)
    assert broken != source
    with pytest.raises(DiagramError) as caught:
        parse_diagram(broken.encode(), "service_delivery.bpmn")
    assert caught.value.element_id == "organise_home_schooling"
    assert "organizing" in str(caught.value) and "organising" in str(caught.value)


def test_names_in_each_language_and_several_stages_at_once() -> None:
    assert stage_names(["class_and_language"], "kk") == "Басшы сыныпты және оқыту тілін айқындауда"
    assert stage_names(["check_request", "overdue"], "ru") == (
        "Электронный запрос на проверке; Срок нарушен — на контроле руководителя")
    assert stage_names(["no_such_stage"], "ru") == STAGES[UNMAPPED].name("ru") == "Обращение рассматривается"


def test_every_built_in_stage_is_named_in_three_languages_from_the_catalogue() -> None:
    for language in ("kk", "ru", "en"):
        names = [STAGES[code].name(language) for code in sorted(BUILT_IN_STAGES)]
        assert len(set(names)) == len(names) and not set(names) & BUILT_IN_STAGES, language
    assert STAGES["provided"].name("en") == "The state service was provided"
    assert Stage("added_by_a_declaration", "а", "б", "c").name("kk") == "а"  # a declaration's own names


def test_a_stage_recorded_before_the_list_keeps_its_recorded_name() -> None:
    old = {"stage": "determine_class_and_language", "stage_name": "Определить класс и язык обучения"}
    assert recorded_stage_name(old, "kk") == "Определить класс и язык обучения"
    assert recorded_stage_name({"stage": "organising"}, "kk") == "Үйде оқыту ұйымдастырылуда"
    assert recorded_stage_name({"stage": "check_request+overdue"}, "en") == (
        "The electronic request is being checked; Overdue — under the head's control")
