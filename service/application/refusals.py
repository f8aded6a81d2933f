"""A diagram's refusal of a step (``fail_if``) in the reader's language.

``fail_if(condition, "<key>", name=value, …)`` names a refusal whose texts the names file of the
case's version declares (``[refusals.<key>]`` with ``ru``, ``kk``, ``en`` and ``{name}``
placeholders): the person reads it in their language with the values filled in. A message that is
no declared key is shown as written (older diagrams refuse with an English sentence).
"""

from __future__ import annotations

from pathlib import Path

from service.engine.names import DIAGRAM_LANGUAGE, refusal_texts
from service.engine.scripting import Refusal, fill_in
from service.persistence.uow import UnitOfWork

from .case_diagram import names_dir
from .incidents import refusal_in
from .runtime import Runtime


def refusal_text(uow: UnitOfWork, runtime: Runtime, *, instance_id: int, exc: BaseException, language: str,
                 processes_dir: Path) -> str | None:
    """What the diagram's refusal behind ``exc`` says in ``language`` (None when ``exc`` is no refusal).

    The texts are those of the case's own version; a language without a text takes the diagram's
    (Russian), and a key no version declares is shown as written, values filled in.
    """
    refusal = refusal_in(exc)
    if refusal is None:
        return None
    if not isinstance(refusal, Refusal):
        return refusal.message
    stored = uow.instances.get(instance_id)
    if stored is None:
        return refusal.message
    folder = names_dir(runtime, stored.process_id, processes_dir, stored.deployment_hash)
    return _worded(refusal, folder, stored.process_id, language)


def refusal_wording(runtime: Runtime, *, exc: BaseException, language: str,
                    processes_dir: Path) -> tuple[str, Refusal | None] | None:
    """Where no case is at hand: the refusal behind ``exc`` in ``language``, and the keyed refusal if it is one.

    The texts are those of the current version of the process that refused (a refusal raised before
    a case exists, e.g. at a start); None when ``exc`` is no refusal. A sentence, or a key whose
    process is unknown, is given as written.
    """
    refusal = refusal_in(exc)
    if refusal is None:
        return None
    if not isinstance(refusal, Refusal):
        return refusal.message, None
    if refusal.process_id is None:
        return refusal.message, refusal
    folder = names_dir(runtime, refusal.process_id, processes_dir)
    return _worded(refusal, folder, refusal.process_id, language), refusal


def _worded(refusal: Refusal, folder: Path, process_id: str, language: str) -> str:
    """The refusal's text in ``language`` from the names file in ``folder`` (else Russian, else as written)."""
    texts = refusal_texts(folder, process_id).get(refusal.key, {})
    text = texts.get(language) or texts.get(DIAGRAM_LANGUAGE)
    return fill_in(text, refusal.values) if text else refusal.message
