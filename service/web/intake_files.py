"""The scans of an office intake form: fresh ones from the file inputs, kept ones offered again by token.

Every bad file is named beside its input in the interface language; the good ones are kept on the
server (:mod:`service.application.pending_uploads`) until the form goes through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from flask import request

from service.application.intake import Upload, new_case_number, office_payload
from service.application.pending_uploads import FileProblem, KeptFile, PendingUploads, file_problems
from service.application.runtime import Runtime
from service.config import Settings
from service.domain.declarations import OfficeIntake
from service.domain.errors import FormInvalid

from .i18n import translate

PENDING_FIELD = "pending."


def _store(settings: Settings) -> PendingUploads:
    return PendingUploads(settings.instance_dir / "pending-uploads")


def problem_text(problem: FileProblem, language: str) -> str:
    """What is wrong with one file, naming it, in the interface language."""
    return translate(f"file_{problem.code}", language).format(
        name=problem.filename, size=f"{problem.size:,}".replace(",", " "), limit=f"{problem.limit:,}".replace(",", " "))


def chosen_files(owner: str, settings: Settings, language: str, kinds: Sequence[str]) -> tuple[
        list[Upload], dict[str, KeptFile], dict[str, list[str]]]:
    """The good files of this submission (fresh or kept), what is kept per kind, and each bad file's error."""
    store = _store(settings)
    fresh: list[Upload] = []
    for kind in kinds:
        given = request.files.get(f"upload.{kind}")
        if given is not None and given.filename:
            fresh.append(Upload(kind, given.filename, given.read()))
    problems = file_problems(fresh, settings.max_attachment_bytes)
    bad = {problem.kind for problem in problems}
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(f"upload.{problem.kind}", []).append(problem_text(problem, language))
    kept: dict[str, KeptFile] = {}
    uploads: list[Upload] = []
    fresh_kinds = {upload.kind for upload in fresh}
    for upload in fresh:
        if upload.kind not in bad:
            kept[upload.kind] = store.keep(owner, upload)
            uploads.append(upload)
    for kind in kinds:
        token = request.form.get(f"{PENDING_FIELD}{kind}", "")
        if kind in fresh_kinds or not token:
            continue
        found = store.get(owner, token)
        if found is not None and found[0].kind == kind:
            kept[kind] = found[0]
            uploads.append(found[1])
    return uploads, kept, errors


def forget_files(owner: str, settings: Settings, kept: dict[str, Any]) -> None:
    """The form went through: the kept files are stored with the case, forget them here."""
    _store(settings).discard(owner, [file.token for file in kept.values()])


def check_without_files(runtime: Runtime, intake: OfficeIntake, values: Mapping[str, Any], now: datetime) -> None:
    """Check the typed fields as registration would (FormInvalid), when a bad file stops the registration."""
    payload = office_payload(intake, values, new_case_number(intake.prefix, now), now)
    if intake.uploads:
        payload["attachments"] = []
    runtime.check_form(intake.process_id, intake.message, payload)
    raise FormInvalid(f"{intake.process_id}/{intake.message}", {})
