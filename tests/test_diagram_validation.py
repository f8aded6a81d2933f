"""Broken diagrams are refused with the file, the element id and the line an analyst needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.domain.errors import DiagramError
from service.engine.library import DiagramLibrary, DiagramSetError, parse_diagram

from .support import DIAGRAMS

GOOD = (DIAGRAMS / "intake_demo.bpmn").read_text(encoding="utf-8")


def _parse(text: str) -> DiagramError:
    with pytest.raises(DiagramError) as caught:
        parse_diagram(text.encode("utf-8"), "processes/broken.bpmn")
    return caught.value


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def test_the_good_diagram_loads_with_lanes_and_paragraphs() -> None:
    diagram = parse_diagram(GOOD.encode("utf-8"), "intake_demo.bpmn")
    review = diagram.element("review_by_head")
    assert review is not None
    assert (review.kind, review.lane, review.lane_name, review.paragraphs) == ("userTask", "head",
                                                                               "Head of the school", ("§6",))
    assert review.line == _line_of(GOOD, '<bpmn:userTask id="review_by_head"')


def test_malformed_xml_names_file_and_line() -> None:
    broken = GOOD.replace("</bpmn:userTask>", "</bpmn:userTsk>", 1)
    error = _parse(broken)
    assert error.file == "processes/broken.bpmn"
    assert error.line == _line_of(broken, "</bpmn:userTsk>")
    assert "not well-formed XML" in error.message
    assert str(error).startswith(f"processes/broken.bpmn:{error.line}: ")


def test_dangling_sequence_flow_names_the_flow() -> None:
    broken = GOOD.replace('targetRef="end_done"', 'targetRef="end_gone"')
    error = _parse(broken)
    assert error.element_id == "flow_to_done"
    assert "'end_gone' is not an element of this process" in error.message
    assert error.line == _line_of(broken, 'id="flow_to_done"')


def test_schema_violation_names_line_and_element() -> None:
    broken = GOOD.replace('<bpmn:userTask id="review_by_head" name="Review by the head">',
                          '<bpmn:userTask id="review_by_head" name="Review by the head" priority="high">')
    error = _parse(broken)
    assert "BPMN 2.0 schema" in error.message and "priority" in error.message
    assert (error.element_id, error.line) == ("review_by_head", _line_of(broken, 'priority="high"'))


def test_condition_syntax_error_names_the_flow() -> None:
    broken = GOOD.replace("package_complete == True", "package_complete ==")
    error = _parse(broken)
    assert error.element_id == "flow_complete" and "SyntaxError" in error.message


def test_thrown_message_must_reach_an_outbox_channel_or_another_diagram(tmp_path: Path) -> None:
    (tmp_path / "intake.bpmn").write_text(GOOD.replace('name="portal_cabinet.refusal"', 'name="fax.refusal"'))
    with pytest.raises(DiagramSetError) as caught:
        DiagramLibrary().load_files([tmp_path / "intake.bpmn"], base=tmp_path)
    [error] = caught.value.errors
    assert error.element_id == "notify_refusal" and error.file == "intake.bpmn"
    assert "'fax.refusal'" in error.message and "outbox channel" in error.message
    assert error.line == _line_of(GOOD, '<bpmn:intermediateThrowEvent id="notify_refusal"')


def test_a_message_caught_by_another_diagram_is_fine(tmp_path: Path) -> None:
    offer = (DIAGRAMS / "offer_demo.bpmn").read_text(encoding="utf-8")
    (tmp_path / "intake.bpmn").write_text(GOOD.replace('name="portal_cabinet.refusal"', 'name="conclusion_registered"'))
    (tmp_path / "offer.bpmn").write_text(offer)
    library = DiagramLibrary()
    library.load_files(sorted(tmp_path.glob("*.bpmn")), base=tmp_path)
    assert library.process_starting_with("conclusion_registered").process_id == "offer_demo"


def test_not_a_bpmn_file() -> None:
    error = _parse('<?xml version="1.0"?><html><body>hello</body></html>')
    assert "not a BPMN 2.0 file" in error.message


def test_directory_load_reports_every_broken_file_and_keeps_nothing(tmp_path: Path) -> None:
    (tmp_path / "processes").mkdir()
    (tmp_path / "processes" / "a.bpmn").write_text(GOOD.replace('targetRef="end_done"', 'targetRef="x"'))
    (tmp_path / "processes" / "b.bpmn").write_text("<bpmn:definitions")
    with pytest.raises(DiagramSetError) as caught:
        DiagramLibrary.from_directory(tmp_path / "processes")
    files = sorted(e.file for e in caught.value.errors)
    assert files == ["processes/a.bpmn", "processes/b.bpmn"]


def test_same_process_id_in_two_files_is_refused(tmp_path: Path) -> None:
    for name in ("one.bpmn", "two.bpmn"):
        (tmp_path / name).write_text(GOOD)
    with pytest.raises(DiagramSetError, match="also defined in"):
        DiagramLibrary().load_files(sorted(tmp_path.glob("*.bpmn")), base=tmp_path)


def test_each_version_is_parsed_once_and_old_versions_stay_runnable() -> None:
    library = DiagramLibrary()
    old = parse_diagram(GOOD.encode(), "intake_demo.bpmn")
    library.add(old)
    new_source = GOOD.replace("Register the application", "Register the application and documents")
    new = parse_diagram(new_source.encode(), "intake_demo.bpmn")
    library.add(new)
    assert library.current("intake_demo") is new
    assert library.version(old.content_hash) is old
    assert old.content_hash != new.content_hash
