"""What every use case that moves a case needs besides its unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from service.domain.declarations import Declarations
from service.domain.errors import FormInvalid
from service.domain.organisations import Organisation
from service.engine.runtime import ProcessEngine
from service.persistence.uow import UnitOfWork

from .deployed import DeploymentCache
from .forms import Form, load_form, validate_submission, with_choices
from .process_access import ProcessAccess


@dataclass(frozen=True)
class Signatory:
    """The official who acted, as printed above the signature."""

    full_name: str
    position_kk: str
    position_ru: str


class DocumentIssuer(Protocol):
    """Renders and stores a document a diagram asked for (``document.<kind>``); returns stored ids."""

    def __call__(self, uow: UnitOfWork, *, instance_id: int, business_key: str, kind: str,
                 payload: Mapping[str, Any], letterhead: Organisation, signatory: Signatory | None,
                 now: datetime) -> list[int]: ...


@dataclass(frozen=True)
class Runtime:
    """The engine plus the services a run may call: issuing documents, need-to-know declarations."""

    engine: ProcessEngine
    issue_document: DocumentIssuer | None = None
    #: Where forms live; when set, every task completion and every start message is validated.
    forms_dir: Path | None = None
    #: Need to know per process (``processes/<process>.access.toml``).
    access: Mapping[str, ProcessAccess] = field(default_factory=dict)
    #: Settings that name a form field's allowed values (``"x-enum-setting"``), e.g. the languages of instruction.
    form_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: The deployed versions (diagram, forms, access file): a case's forms are those of its version.
    deployments: DeploymentCache | None = None
    #: What each process needs besides its diagram (``processes/<process>.process.toml``), current versions.
    declarations: Declarations = field(default_factory=Declarations)

    def forms_dir_for(self, process_id: str, deployment_hash: str | None = None) -> Path | None:
        """Where the forms of a version are: the case's version, else the process's current one, else ``forms_dir``."""
        if self.deployments is not None:
            digest = deployment_hash or self.deployments.current_hash(process_id)
            if digest is not None:
                return self.deployments.forms_dir(digest)
        return self.forms_dir

    def form(self, forms_dir: Path, process_id: str, form_id: str) -> Form:
        """The form of a user task or start message, with the allowed values the settings give."""
        fixed = self.deployments is not None and self.deployments.holds(forms_dir)
        return with_choices(load_form(forms_dir, process_id, form_id, fixed=fixed), self.form_choices)

    def check_form(self, process_id: str, form_id: str, data: Mapping[str, Any],
                   context: Mapping[str, Any] | None = None, elements: frozenset[str] | None = None,
                   deployment_hash: str | None = None) -> None:
        """Validate submitted values against the form of a user task or start message.

        ``elements``: the element ids of the case's diagram version, for choices only newer versions carry out;
        ``deployment_hash``: the case's version (its forms are used), None for a new case (the current version).
        """
        forms_dir = self.forms_dir_for(process_id, deployment_hash)
        if forms_dir is None:
            return
        form = self.form(forms_dir, process_id, form_id)
        errors = validate_submission(form, data, context, elements)
        if errors:
            raise FormInvalid(f"{process_id}/{form_id}", {path: list(messages) for path, messages in errors.items()})
