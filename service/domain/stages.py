"""§8: the stages of a case, as the monitoring information system and the applicant are told them.

The list of codes is fixed here (codes are what other systems store; their names are ``stage_<code>``
in the interface's catalogue, service/translations), and a process declaration may add
stages of its own (``[[stage]]`` in ``processes/<id>.process.toml``); diagrams map their elements to it
with a ``stage`` property, so an analyst changes the mapping in the diagram, not in code:

    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="stage" value="class_and_language" />
    </spiffworkflow:properties></bpmn:extensionElements>

A case's stage is the stage of what it waits on — its open tasks, else the event it waits for —
or of the end it reached. An element without a stage (a script, an escalation's closing end)
does not change the stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.domain.phrases import phrase

STAGE_LANGUAGES = ("kk", "ru", "en")


@dataclass(frozen=True)
class Stage:
    """One stage: its code, and its names when a process declaration gives them.

    A built-in stage has no names of its own: they are ``stage_<code>`` in the interface's catalogue.
    """

    code: str
    kk: str = ""
    ru: str = ""
    en: str = ""

    def name(self, language: str) -> str:
        """The stage's name in ``language`` (kk, ru or en; anything else gets Russian)."""
        if not self.ru:
            return phrase(f"stage_{self.code}", language)
        return {"kk": self.kk, "ru": self.ru, "en": self.en}.get(language, self.ru)


_LIST = (
    # the service (§4–§7)
    Stage("check_request"),
    Stage("refusal_confirmation"),
    Stage("class_and_language"),
    Stage("organising"),
    Stage("order"),
    Stage("overdue"),
    Stage("provided"),
    Stage("refused"),
    # the proactive offer (§7-1)
    Stage("offer_sent"),
    Stage("offer_follow_up"),
    Stage("offer_accepted"),
    Stage("offer_declined"),
    Stage("offer_closed"),
    # complaints (§9)
    Stage("complaint_with_appealed"),
    Stage("complaint_review"),
    Stage("complaint_extended"),
    Stage("complaint_satisfied_by_act"),
    Stage("complaint_decided"),
    # an element a diagram left without a stage while the case waits on it
    Stage("in_progress"),
)

STAGES: dict[str, Stage] = {stage.code: stage for stage in _LIST}
#: The stages the product ships with; a process declaration may add others (:func:`declare_stage`).
BUILT_IN_STAGES = frozenset(STAGES)


#: Who declared each added stage (a process id): its new versions may rename it, other processes may not.
_DECLARED_BY: dict[str, str] = {}


def declare_stage(stage: Stage, declared_by: str = "") -> None:
    """Make a stage a process declaration adds known (ValueError if its code is taken by another stage)."""
    known = STAGES.get(stage.code)
    if stage.code in BUILT_IN_STAGES:
        if known != stage:
            raise ValueError(f"stage '{stage.code}' is a built-in stage with other names")
        return
    owner = _DECLARED_BY.setdefault(stage.code, declared_by)
    if known is not None and known != stage and owner != declared_by:
        raise ValueError(f"stage '{stage.code}' is declared by {owner or 'another process'} with other names")
    STAGES[stage.code] = stage


#: The stage reported for an element the diagram did not map (never its raw name or id).
UNMAPPED = "in_progress"


def stage_names(codes: list[str] | tuple[str, ...], language: str) -> str:
    """The names of ``codes`` in ``language``, joined; an unknown code is named as in progress."""
    return "; ".join(STAGES.get(code, STAGES[UNMAPPED]).name(language) for code in codes)


def recorded_stage_name(details: Mapping[str, Any], language: str) -> str:
    """The name of a stage as recorded (a monitoring entry or a history event) in ``language``.

    Stages recorded before the fixed list existed carry the element ids and a Russian name: that
    name is kept.
    """
    codes = str(details.get("stage") or "").split("+")
    if all(code in STAGES for code in codes):
        return stage_names(codes, language)
    return str(details.get("stage_name") or details.get("stage") or "")
