"""Steps about work waiting for a role: the clerk checks a portal request, the head decides grade
and language and issues the order, a specialist organises the schooling — each the named official
of the school the case belongs to, who sees only that school's cases and tasks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from service.application.cases import complete_task
from service.application.queries import case_view, find_case, list_tasks, task_context
from service.bootstrap import Services
from service.domain.errors import FormInvalid, NotFound
from service.domain.model import TaskSummary
from service.domain.staff import Actor

from . import people, wording
from .cases import VKK, Case, application_case


def tasks_seen(product: Services, who: Actor, case: Case, role: str | None = None) -> list[TaskSummary]:
    """The tasks of this case in the person's task list (of ``role``, or of all their roles)."""
    with product.uow(write=False) as uow:
        return [t for t in list_tasks(uow, product.runtime, actor=who, role=role, per_page=200).items
                if t.instance_id == case.instance_id]


def open_tasks(product: Services, case: Case, role: str) -> list[TaskSummary]:
    """The tasks of ``role`` on this case, as the official of ``role`` where the case says sees them."""
    return tasks_seen(product, people.actor(product, case.organisation_of(role), role), case, role)


def complete(product: Services, case: Case, role: str, element_id: str, data: dict[str, Any], at: str) -> None:
    """The official of ``role`` completes the case's task ``element_id`` with ``data`` at the moment ``at``."""
    tasks = [t for t in open_tasks(product, case, role) if t.element_id == element_id]
    assert len(tasks) == 1, f"{role} has no single task '{element_id}' on case {case.number}: {tasks}"
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=people.actor(product, case.organisation_of(role), role),
                      task_id=tasks[0].task_id, data=data, now=wording.moment(at))


def attempt(product: Services, case: Case, role: str, element_id: str, data: dict[str, Any], at: str) -> FormInvalid:
    """The same, where the submission must be turned down; the reasons given."""
    try:
        complete(product, case, role, element_id, data, at)
    except FormInvalid as refused:
        return refused
    raise AssertionError(f"'{element_id}' accepted {data}, which should have been turned down")


# --- the office clerk: checking a portal request (§5) ----------------------------------------

#: What the clerk can say is wrong with a request, in the words of the features.
CLERK_REASONS = {
    "сведения недостоверны": "unreliable_data",
    "заключение ВКК не рекомендует обучение на дому": "not_recommended",
    "не представлен документ, удостоверяющий личность": "missing_document",
}


@given(parsers.re(r"сотрудник канцелярии принял запрос (?P<at>.+)"))
@when(parsers.re(r"сотрудник канцелярии принимает запрос (?P<at>.+)"))
def clerk_accepts(product: Services, case: Case, at: str) -> None:
    """The clerk has checked and registered the electronic request."""
    complete(product, case, "office_clerk", "check_portal_request", {"decision": "accept"}, at)


@when(parsers.re(r"сотрудник канцелярии отказывает в приёме (?P<at>.+), потому что (?P<reason>.+): «(?P<note>.+)»"))
def clerk_refuses(product: Services, case: Case, at: str, reason: str, note: str) -> None:
    """The clerk refuses, naming what was found."""
    data = {"decision": "refuse", "extra_reasons": [{"code": CLERK_REASONS[reason], "note": note}]}
    complete(product, case, "office_clerk", "check_portal_request", data, at)


@when(parsers.re(r"сотрудник канцелярии отказывает в приёме (?P<at>.+), не добавляя своих оснований"))
def clerk_refuses_on_package(product: Services, case: Case, at: str) -> None:
    """The clerk refuses on what the package check already found."""
    complete(product, case, "office_clerk", "check_portal_request", {"decision": "refuse"}, at)


@when(parsers.re(r"сотрудник канцелярии пытается отказать в приёме (?P<at>.+), не указав оснований"),
      target_fixture="turned_down")
def clerk_refuses_without_reason(product: Services, case: Case, at: str) -> FormInvalid:
    """A refusal with no reason at all."""
    return attempt(product, case, "office_clerk", "check_portal_request", {"decision": "refuse"}, at)


@when(parsers.re(r"сотрудник канцелярии пытается отказать в приёме (?P<at>.+), потому что (?P<reason>[^:«]+)"),
      target_fixture="turned_down")
def clerk_tries_to_refuse(product: Services, case: Case, at: str, reason: str) -> FormInvalid:
    """A refusal for a reason the clerk may not use."""
    data = {"decision": "refuse", "extra_reasons": [{"code": CLERK_REASONS[reason], "note": reason}]}
    return attempt(product, case, "office_clerk", "check_portal_request", data, at)


@when(parsers.re(r"сотрудник канцелярии пытается принять запрос (?P<at>.+)"), target_fixture="turned_down")
def clerk_tries_to_accept(product: Services, case: Case, at: str) -> FormInvalid:
    """An acceptance the package check stands against."""
    return attempt(product, case, "office_clerk", "check_portal_request", {"decision": "accept"}, at)


_CORRECTION = r"заключение ВКК действительно по (?P<until>.+? года) — «(?P<note>.+)»"


def _corrected_vkk(until: str, note: str) -> dict[str, Any]:
    return {"vkk_conclusion": dict(VKK, valid_until=wording.calendar_day(until).isoformat()), "note": note}


@when(parsers.re(r"сотрудник канцелярии исправляет сведения запроса (?P<at>.+?): " + _CORRECTION))
def clerk_corrects_portal_request(product: Services, case: Case, at: str, until: str, note: str) -> None:
    """The clerk finds the check wrong (the data were mistyped) and corrects the request instead of refusing."""
    data = {"decision": "correct", "corrections": _corrected_vkk(until, note)}
    complete(product, case, "office_clerk", "check_portal_request", data, at)


# --- the office clerk: a refusal at the office is confirmed by a person (§4) -----------------

@given(parsers.re(r"сотрудник канцелярии подтвердил отказ (?P<at>.+)"))
@when(parsers.re(r"сотрудник канцелярии подтверждает отказ (?P<at>.+)"))
def clerk_confirms_refusal(product: Services, case: Case, at: str) -> None:
    """The clerk has read the reasons the check found and confirms the refusal."""
    complete(product, case, "office_clerk", "confirm_office_refusal", {"decision": "refuse"}, at)


@when(parsers.re(r"сотрудник канцелярии исправляет сведения (?P<at>.+?): принесено заключение ВКК — «(?P<note>.+)»"))
def clerk_adds_conclusion(product: Services, case: Case, at: str, note: str) -> None:
    """The parent brought the missing VKK conclusion: the clerk enters it and the package is checked again."""
    data = {"decision": "correct", "corrections": {
        "documents": ["application", "vkk_conclusion", "identity_document"], "vkk_conclusion": dict(VKK),
        "note": note}}
    complete(product, case, "office_clerk", "confirm_office_refusal", data, at)


# --- the head: grade and language (§6), the order (§7) ---------------------------------------

@when(parsers.re(r"руководитель отказывает (?P<at>.+?), не добавляя своих оснований"))
def head_refuses_on_package(product: Services, case: Case, at: str) -> None:
    """The head refuses on the Art. 19-1 grounds the package check found."""
    complete(product, case, "head", "determine_class_and_language", {"head_decision": "refuse"}, at)


@when(parsers.re(r"руководитель пытается издать приказ № (?P<number>\S+) от (?P<day>.+? года) (?P<at>.+)"),
      target_fixture="turned_down")
def head_tries_to_backdate(product: Services, case: Case, number: str, day: str, at: str) -> FormInvalid:
    """An order dated on a day of the head's choosing."""
    data = {"order_number": number, "order_date": wording.calendar_day(day).isoformat()}
    return attempt(product, case, "head", "issue_admission_order", data, at)

_GRADE = r"(?P<grade>\d+)-й класс и (?P<language>[а-я]+) язык обучения (?P<at>.+)"


def _grade_and_language(grade: str, language: str) -> dict[str, Any]:
    return {"head_decision": "determine", "grade": int(grade), "language": wording.INSTRUCTION_LANGUAGES[language]}


@given(parsers.re(r"руководитель определил " + _GRADE))
@when(parsers.re(r"руководитель определяет " + _GRADE))
def head_decides(product: Services, case: Case, grade: str, language: str, at: str) -> None:
    """The head has reviewed the documents and set the grade and the language of instruction."""
    complete(product, case, "head", "determine_class_and_language", _grade_and_language(grade, language), at)


@when(parsers.re(r"руководитель пытается определить " + _GRADE), target_fixture="turned_down")
def head_tries(product: Services, case: Case, grade: str, language: str, at: str) -> FormInvalid:
    """A grade or language the school cannot teach."""
    return attempt(product, case, "head", "determine_class_and_language", _grade_and_language(grade, language), at)


@when(parsers.re(r"руководитель (?P<at>.+?) издаёт приказ № (?P<number>\S+)"))
def head_issues_order(product: Services, case: Case, at: str, number: str) -> None:
    """The head signs the admission order; it is dated the day it is signed."""
    data = {"order_number": number, "order_date": wording.moment(at).date().isoformat()}
    complete(product, case, "head", "issue_admission_order", data, at)


# --- the specialist: organising the schooling (§6) -------------------------------------------

_PLAN = (r"(?P<teachers>учител[ья] .+?), (?P<hours>\d+) час(?:а|ов)? в неделю по индивидуальному учебному плану "
         r"№ (?P<plan>\S+), с (?P<start>.+? года) по (?P<end>.+? года)")


def _plan(teachers: str, hours: str, plan: str, start: str, end: str) -> dict[str, Any]:
    named = re.findall(r"«(.+?)» \((.+?)\)", teachers)
    assert named, f"no teachers in «{teachers}»; write them like «Серікова Дана» (математика)"
    return {
        "teachers": [{"full_name": name, "subject": subject} for name, subject in named],
        "weekly_hours": int(hours), "curriculum_reference": plan,
        "period_start": wording.calendar_day(start).isoformat(), "period_end": wording.calendar_day(end).isoformat(),
    }


@when(parsers.re(r"специалист организует обучение на дому (?P<at>.+?): " + _PLAN))
def specialist_organises(product: Services, case: Case, at: str, teachers: str, hours: str, plan: str, start: str,
                         end: str) -> None:
    """Teachers, weekly hours, the individual curriculum and the period are set."""
    complete(product, case, "specialist", "organise_home_schooling", _plan(teachers, hours, plan, start, end), at)


@when(parsers.re(r"специалист пытается организовать обучение на дому (?P<at>.+?): " + _PLAN),
      target_fixture="turned_down")
def specialist_tries(product: Services, case: Case, at: str, teachers: str, hours: str, plan: str, start: str,
                     end: str) -> FormInvalid:
    """A plan the conclusion does not cover."""
    return attempt(product, case, "specialist", "organise_home_schooling", _plan(teachers, hours, plan, start, end),
                   at)


@given(parsers.re(r"обучение организовано (?P<at>.+?): (?P<grade>\d+)-й класс, (?P<language>[а-я]+) язык обучения, "
                  + _PLAN))
def schooling_organised(product: Services, case: Case, at: str, grade: str, language: str, teachers: str, hours: str,
                        plan: str, start: str, end: str) -> None:
    """The head has set grade and language and a specialist has organised the schooling, both at ``at``."""
    complete(product, case, "head", "determine_class_and_language", _grade_and_language(grade, language), at)
    complete(product, case, "specialist", "organise_home_schooling", _plan(teachers, hours, plan, start, end), at)


# --- the office clerk: after a proactive offer's 24 hours ran out (§7-1) ------------------------


@when(parsers.re(r"сотрудник канцелярии записывает (?P<at>.+?): «(?P<note>.+)»"))
def clerk_notes_contact(product: Services, offer: Case, at: str, note: str) -> None:
    """The clerk reached the parent by telephone and closes the offer with a note of the call."""
    complete(product, offer, "office_clerk", "contact_after_silence", {"outcome": "close", "note": note}, at)


@when(parsers.re(r"сотрудник канцелярии по просьбе родителя отправляет предложение повторно (?P<at>.+)"))
def clerk_resends_offer(product: Services, offer: Case, at: str) -> None:
    """The parent asked on the telephone for the offer again: a new SMS, a new 24 hours from its delivery."""
    data = {"outcome": "resend", "note": "Родитель по телефону попросил прислать предложение повторно"}
    complete(product, offer, "office_clerk", "contact_after_silence", data, at)


# --- what waits for whom ----------------------------------------------------------------------


@then(parsers.re(r"у (?P<who>руководителя|специалиста|сотрудника канцелярии) ожидает задача «(?P<title>.+?)»"
                 r"(?: со сроком до (?P<due>.+))?"))
def task_waits(product: Services, case: Case, who: str, title: str, due: str | None) -> None:
    """The role's task list shows this task for the case (and when it is due)."""
    tasks = [t for t in open_tasks(product, case, wording.role(who)) if t.title == title]
    assert len(tasks) == 1, f"{who}: {[t.title for t in open_tasks(product, case, wording.role(who))]}"
    if due is not None:
        assert tasks[0].due_at == wording.moment(due), f"«{title}» is due {tasks[0].due_at}"


@then(parsers.re(r"у (?P<who>руководителя|специалиста|сотрудника канцелярии) нет задач по этому делу"))
def no_task(product: Services, case: Case, who: str) -> None:
    """Nothing of this case is in the role's task list."""
    assert open_tasks(product, case, wording.role(who)) == []


@then("решение не принято с пояснением:")
def turned_down_because(turned_down: FormInvalid, datatable: list[list[str]]) -> None:
    """The submission was not accepted, and every explanation listed was given (in Russian)."""
    given_ru = [" ".join(m.text("ru").split()) for messages in turned_down.fields.values() for m in messages]
    for expected in wording.table_lines(datatable):
        assert any(expected in text for text in given_ru), f"«{expected}» not among {given_ru}"


# --- who works where: each school's and body's own staff --------------------------------------

_ORGANISATION = "|".join(people.ORGANISATIONS)
_STAFF = r"(?P<who>руководителя|специалиста|сотрудника канцелярии) (?P<organisation>" + _ORGANISATION + ")"


@given(parsers.re(r"(?P<who>руководитель|специалист|сотрудник канцелярии|должностное лицо) "
                  r"(?P<organisation>" + _ORGANISATION + r")(?P<reviews>, рассматривающее жалобы,)? — (?P<name>.+)"))
def works_there(who: str, organisation: str, reviews: str | None, name: str) -> None:
    """A premise about who holds a role where, checked against the named staff the steps act as."""
    if who == "должностное лицо":
        assert reviews, "say what the official does: «должностное лицо акимата, рассматривающее жалобы, — …»"
        role = "reviewing_official"
    else:
        role = wording.role(who)
    acting = people.official(people.organisation(organisation), role)
    assert acting.full_name == name.strip(), f"{who} {organisation} is {acting.full_name} in the steps"


def seen_by(product: Services, who: str, organisation: str, case: Case) -> list[TaskSummary]:
    """The case's tasks in the task list of that school's member of staff (all their roles)."""
    return tasks_seen(product, people.actor(product, people.organisation(organisation), wording.role(who)), case)


@then(parsers.re(rf"у {_STAFF} ожидает задача «(?P<title>.+?)» по заявлению № (?P<number>\S+)"))
def task_of_that_school(product: Services, who: str, organisation: str, title: str, number: str) -> None:
    """That school's member of staff has this task of the application in their list."""
    tasks = seen_by(product, who, organisation, application_case(product, number))
    assert [t.title for t in tasks] == [title], f"{who} {organisation}: {[t.title for t in tasks]}"


@then(parsers.re(rf"у {_STAFF} нет задач по заявлению № (?P<number>\S+)"))
def no_task_of_that_application(product: Services, who: str, organisation: str, number: str) -> None:
    """Nothing of that application is in the school's member of staff's task list, in any of their roles."""
    assert seen_by(product, who, organisation, application_case(product, number)) == []


@then(parsers.re(rf"у {_STAFF} нет задач по (?:этой жалобе|этому делу)"))
def no_task_there(product: Services, case: Case, who: str, organisation: str) -> None:
    """Nothing of the case is in that school's member of staff's task list, in any of their roles."""
    assert seen_by(product, who, organisation, case) == []


_OPENS = r"(?P<who>руководитель|специалист|сотрудник канцелярии) (?P<organisation>" + _ORGANISATION + ")"


@then(parsers.re(rf"{_OPENS} может открыть дело по заявлению № (?P<number>\S+)"))
def opens_the_case(product: Services, who: str, organisation: str, number: str) -> None:
    """The school's member of staff opens the case and its open task."""
    case = application_case(product, number)
    reader = people.actor(product, people.organisation(organisation), wording.role(who))
    tasks = tasks_seen(product, reader, case)
    assert tasks, f"{who} {organisation} has no task of application № {number} to open"
    with product.uow(write=False) as uow:
        assert case_view(uow, product.runtime, actor=reader, instance_id=case.instance_id).business_key == number
        for task in tasks:
            assert task_context(uow, product.runtime, actor=reader, task_id=task.task_id).case.business_key == number


@then(parsers.re(rf"{_OPENS} не может открыть дело по заявлению № (?P<number>\S+): такого дела нет"))
def cannot_open_the_case(product: Services, who: str, organisation: str, number: str) -> None:
    """The case of another school is not found for this person — nor its tasks, nor its number."""
    case = application_case(product, number)
    reader = people.actor(product, people.organisation(organisation), wording.role(who))
    open_ids = [t.task_id for t in tasks_seen(product, Actor.system("features"), case)]
    assert open_ids, f"application № {number} has no open task to try"
    with product.uow(write=False) as uow:
        with pytest.raises(NotFound):
            case_view(uow, product.runtime, actor=reader, instance_id=case.instance_id)
        for task_id in open_ids:
            with pytest.raises(NotFound):
                task_context(uow, product.runtime, actor=reader, task_id=task_id)
        assert find_case(uow, product.runtime, actor=reader, process_id="service_delivery", business_key=number) is None
