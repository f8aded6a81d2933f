"""The process declarations (``processes/<process>.process.toml``): one typed loader, clear errors, validated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.application.declarations import load_process_declarations, mismatches, read_declaration
from service.application.validation import validate_files
from service.domain.declarations import DeclarationError, Declarations, parse_declaration
from service.domain.staff import declare_role, role_name
from service.domain.stages import Stage, declare_stage
from service.engine.library import DiagramLibrary

from .support import PROJECT

PROCESSES = PROJECT / "processes"


def test_the_shipped_declarations_agree_with_their_diagrams() -> None:
    declarations = load_process_declarations(PROCESSES)
    library = DiagramLibrary.from_directory(PROCESSES)
    assert {d.process_id for d in declarations.all()} == {d.process_id for d in library.diagrams()}
    for diagram in library.diagrams():
        declared = declarations.get(diagram.process_id)
        assert declared is not None and mismatches(declared, diagram) == []
    assert declarations.lookup_order() == ["service_delivery", "complaint_review", "proactive_offer"]
    assert [intake.kind for intake in declarations.intakes()] == ["application", "complaint"]
    assert declarations.accepting("proactive_reply") is declarations.get("proactive_offer")
    assert declarations.appealable() == {"service_delivery"}


def _parse(text: str) -> None:
    import tomllib

    parse_declaration("p", tomllib.loads(text), "processes/p.process.toml")


@pytest.mark.parametrize(("text", "named"), [
    ("lookup_priorty = 1", "processes/p.process.toml: lookup_priorty: is not a key of a process declaration; "
                           "did you mean 'lookup_priority'?"),
    ("lookup_priority = 'first'", "processes/p.process.toml: lookup_priority: must be an integer"),
    ("[[intake]]\nkind = 'x'\nmessage = 'm'\nrole = 'r'\nnumber_prefix = 'X'\nnumber_field = 'n'\n"
     "time_field = 't'\ntitle_key = 'k'\nuploads = 'scan'", "intake[0].uploads: must be a list"),
    ("[[intake]]\nkind = 'x'\nmessage = 'm'\nrole = 'r'\nnumber_prefix = 'X'\nnumber_field = 'n'\n"
     "time_field = 't'", "intake[0].title: give title_key"),
    ("[[api_start]]\npath = 'a'\nmessage = 'm'\nscope = 's'\nschema = 'S'\noperation_id = 'o'\nsummary = 's'",
     "api_start[0].number_prefix: give either number_prefix"),
    ("[[role]]\nid = 'r'\nkk = 'a'\nru = 'b'", "role[0].en: give the name in kk, ru and en"),
    ("[[stage]]\ncode = 's'\nkk = 'a'\nru = 'b'\nen = 'c'\n[[stage]]\ncode = 's'\nkk = 'a'\nru = 'b'\nen = 'c'",
     "stage: declared twice: s"),
])
def test_a_mistake_is_named_by_file_and_key(text: str, named: str) -> None:
    with pytest.raises(DeclarationError) as caught:
        _parse(text)
    assert named in str(caught.value)


def test_what_a_declaration_names_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "p.process.toml"
    path.write_text("documents = ['certificate']\n", encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"p.process.toml: documents: 'certificate' is not a kind"):
        read_declaration(path)
    path.write_text("stages = ['nowhere']\n", encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"stages: 'nowhere' is neither a built-in stage"):
        read_declaration(path)
    path.write_text("[[stage]]\ncode = 'provided'\nkk = 'a'\nru = 'b'\nen = 'c'\n", encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"stage\[0\].code: stage 'provided' is a built-in stage"):
        read_declaration(path)
    path.write_text("not toml = = 1", encoding="utf-8")
    with pytest.raises(DeclarationError, match="not valid TOML"):
        read_declaration(path)


def test_roles_and_stages_added_are_named_by_their_process_only() -> None:
    declare_role("test_only_role", {"kk": "a", "ru": "b", "en": "c"}, "p")
    declare_role("test_only_role", {"kk": "a", "ru": "B", "en": "c"}, "p")  # a new version of p renames it
    assert role_name("test_only_role", "ru") == "B"
    with pytest.raises(ValueError, match="declared by p"):
        declare_role("test_only_role", {"kk": "x", "ru": "y", "en": "z"}, "q")
    declare_stage(Stage("test_only_stage", "a", "b", "c"), "p")
    with pytest.raises(ValueError, match="declared by p"):
        declare_stage(Stage("test_only_stage", "x", "y", "z"), "q")
    with pytest.raises(ValueError, match="administrative"):
        declare_role("analyst", {"kk": "a", "ru": "b", "en": "c"})
    with pytest.raises(ValueError, match="built-in"):
        declare_stage(Stage("provided", "a", "b", "c"))


def _copy(tmp_path: Path) -> Path:
    processes = tmp_path / "processes"
    shutil.copytree(PROCESSES, processes)
    return processes


def test_validate_reports_a_broken_declaration_as_a_problem_of_its_file(tmp_path: Path) -> None:
    processes = _copy(tmp_path)
    path = processes / "complaint_review.process.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("lookup_priority = 2", "lookup_priority = '2'"),
                    encoding="utf-8")
    problems = validate_files(None, PROJECT / "forms", processes_dir=processes)
    found = [p for p in problems if p.kind == "declaration"]
    assert [(p.file, p.is_error) for p in found] == [("processes/complaint_review.process.toml", True)]
    assert "lookup_priority: must be an integer" in found[0].message
    # only that file: the other processes' office fields are still known (no false problem in their diagrams)
    assert not [p for p in problems if p.is_error and p.kind != "declaration"], [p.describe() for p in problems]


def test_validate_reports_a_declaration_naming_what_the_diagram_lacks(tmp_path: Path) -> None:
    processes = _copy(tmp_path)
    path = processes / "service_delivery.process.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('message = "service_requested"\nrole = "office_clerk"',
                                                             'message = "service_requestd"\nrole = "office_clerk"'),
                    encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace('"acceptance_notification", ', "")
    path.write_text(text.replace('stages = ["check_request", ', 'stages = ['), encoding="utf-8")
    problems = [p for p in validate_files(None, PROJECT / "forms", processes_dir=processes)
                if p.kind == "declaration"]
    assert sorted(p.message for p in problems) == [
        "documents: processes/service_delivery.bpmn issues documents not listed: acceptance_notification",
        "intake[0].message: no start event of processes/service_delivery.bpmn catches 'service_requestd'",
        "stages: processes/service_delivery.bpmn uses stages not listed: check_request"]


def test_a_lane_is_a_role_only_when_built_in_or_declared(tmp_path: Path) -> None:
    processes = _copy(tmp_path)
    second = PROJECT / "tests" / "second_service"
    shutil.copy(second / "processes" / "certificate_issuance.bpmn", processes)
    forms = tmp_path / "forms"
    shutil.copytree(PROJECT / "forms", forms)
    shutil.copytree(second / "forms" / "certificate_issuance", forms / "certificate_issuance")
    target = [processes / "certificate_issuance.bpmn"]
    declaration = (second / "processes" / "certificate_issuance.process.toml").read_text(encoding="utf-8")
    (processes / "certificate_issuance.process.toml").write_text(declaration, encoding="utf-8")
    assert [p.describe() for p in validate_files(target, forms, processes_dir=processes) if p.is_error] == []
    without_role = declaration.replace("[[role]]\nid = \"certificate_officer\"", "[[role]]\nid = \"officer_x\"")
    (processes / "certificate_issuance.process.toml").write_text(without_role, encoding="utf-8")
    problems = validate_files(target, forms, processes_dir=processes)
    assert any(p.element_id == "certificate_officer" and p.is_error for p in problems), [p.describe() for p in problems]
    assert any(p.kind == "declaration" and "role[0].id: 'officer_x' is no lane" in p.message for p in problems)


def test_two_processes_cannot_declare_the_same_page_or_route(tmp_path: Path) -> None:
    processes = _copy(tmp_path)
    path = processes / "proactive_offer.process.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('path = "proactive/conclusions"', 'path = "complaints"'),
                    encoding="utf-8")
    problems = [p for p in validate_files(None, PROJECT / "forms", processes_dir=processes) if p.kind == "declaration"]
    assert [(p.file, p.message) for p in problems] == [
        ("processes/proactive_offer.process.toml", "API path 'complaints' is declared by complaint_review too")]


def test_declarations_are_replaced_per_process() -> None:
    declarations = load_process_declarations(PROCESSES)
    offer = declarations.get("proactive_offer")
    assert offer is not None
    declarations.replace("proactive_offer", None)
    assert declarations.accepting("proactive_reply") is None and "proactive_offer" not in declarations
    declarations.replace("proactive_offer", offer)
    assert declarations.lookup_order()[-1] == "proactive_offer"
    assert Declarations().rules() == []
