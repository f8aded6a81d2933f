"""Who acts in the service: people with roles in organisations, and the systems around them.

Roles are the diagrams' lanes (the library tells which exist); :func:`role_name` names the known
ones in Kazakh, Russian and English: the built-in roles from the interface's catalogue, and those a
process declaration adds by the names it gives (:func:`declare_role`, called when declarations are
loaded). Besides the lanes there are three roles that no diagram needs: an organisation's
``administrator`` (manages its staff), the ``analyst`` (reads and deploys diagrams) and ``legal``,
the legal team (reads the document of the Rules: how each obligation is carried out and checked). A
national administrator manages the registry of organisations; that is a flag on the account, not a
role in any organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.domain.phrases import DOCUMENTS, phrase

#: The roles the product ships with, keyed by lane id (or administrative role); their names are
#: ``role_name_<role>`` in the interface's catalogue. A process declaration adds others (:func:`declare_role`).
BUILT_IN_ROLES = frozenset({"office_clerk", "head", "specialist", "complaint_registrar", "appealed_official",
                            "reviewing_official", "administrator", "analyst", "legal"})

#: Roles whose title above a signature is not their name: ``signature_title.<role>`` in the documents
#: catalogue (§9's own words for whoever reviews a complaint).
_SIGNATURE_TITLED = frozenset({"reviewing_official"})

#: The legal team: reads the document of the Rules (paragraphs, obligations, scenarios, diagram elements).
LEGAL_ROLE = "legal"

#: Roles that are not lanes of any diagram.
ADMIN_ROLES = frozenset({"administrator", "analyst", LEGAL_ROLE})

#: The names (kk, ru, en) of the roles process declarations add (``processes/<id>.process.toml``): data.
_DECLARED_NAMES: dict[str, dict[str, str]] = {}
#: Who declared each added role (a process id): its new versions may rename it, other processes may not.
_DECLARED_BY: dict[str, str] = {}


def known_roles() -> frozenset[str]:
    """Every role that has a name: the built-in ones and those process declarations added."""
    return BUILT_IN_ROLES | frozenset(_DECLARED_NAMES)


def role_name(role: str, language: str) -> str:
    """The role's name in ``language`` (kk, ru or en); a role nobody named is shown by its code."""
    if role in BUILT_IN_ROLES:
        return phrase(f"role_name_{role}", language)
    declared = _DECLARED_NAMES.get(role)
    if declared is None:
        return role
    return declared.get(language) or declared.get("ru") or role


def signature_title(role: str, language: str) -> str:
    """How ``role`` is printed above a signature in a document's ``language`` (kk or ru)."""
    if role in _SIGNATURE_TITLED:
        return phrase(f"signature_title.{role}", language, DOCUMENTS)
    return role_name(role, language)


def declare_role(role: str, names: dict[str, str], declared_by: str = "") -> None:
    """Make a role a process declaration adds known by its names (kk, ru, en); built-in roles keep theirs.

    ValueError for an administrative role, or a role another process declared under other names.
    """
    if role in ADMIN_ROLES:
        raise ValueError(f"'{role}' is an administrative role, not a lane")
    if role in BUILT_IN_ROLES:
        return
    known = _DECLARED_NAMES.get(role)
    owner = _DECLARED_BY.setdefault(role, declared_by)
    if known is not None and known != dict(names) and owner != declared_by:
        raise ValueError(f"role '{role}' is declared by {owner or 'another process'} with other names")
    _DECLARED_NAMES[role] = dict(names)


def lane_roles(declared: frozenset[str] = frozenset()) -> frozenset[str]:
    """Roles a lane may stand for: the built-in ones (not the administrative ones) and ``declared``."""
    return (BUILT_IN_ROLES - ADMIN_ROLES) | declared

#: What each API client may do. ``cases:documents`` is apart from ``cases:read``: the documents name
#: the child and the applicant (IINs, the VKK conclusion), which a system following stages need not see.
API_SCOPES = ("applications:submit", "cases:read", "cases:documents", "sms:reply", "sms:delivery",
              "proactive:trigger", "complaints:file")


@dataclass(frozen=True)
class Membership:
    """A person's place in one organisation: the roles held there and the position printed on documents."""

    organisation_id: int
    roles: frozenset[str]
    position_kk: str = ""
    position_ru: str = ""

    def position(self, language: str) -> str:
        """The position as printed above the signature (kk or ru)."""
        return self.position_kk if language == "kk" else self.position_ru


@dataclass(frozen=True)
class Actor:
    """Whoever performs a use case: a signed-in person, or a system (the worker, an API client)."""

    login: str
    full_name: str
    memberships: tuple[Membership, ...] = ()
    #: "staff" (a person), "system" (the worker, timers) or "client" (an outside system over the API).
    kind: str = "staff"
    id: int | None = None
    language: str = "ru"
    national_admin: bool = False
    _index: dict[int, Membership] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({m.organisation_id: m for m in self.memberships})

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The service itself (timers, the worker, messages between its own cases)."""
        return cls(login=name, full_name=name, kind="system")

    @classmethod
    def client(cls, name: str, organisation_id: int | None = None) -> Actor:
        """An outside system calling the API (authorised by its scopes; bound to one organisation or to none)."""
        bound = (Membership(organisation_id, frozenset()),) if organisation_id is not None else ()
        return cls(login=f"api:{name}", full_name=name, kind="client", memberships=bound)

    @property
    def is_person(self) -> bool:
        """Whether a named official acts (only people decide)."""
        return self.kind == "staff"

    @property
    def roles(self) -> frozenset[str]:
        """Every role held in any organisation."""
        return frozenset().union(*(m.roles for m in self.memberships)) if self.memberships else frozenset()

    @property
    def organisation_ids(self) -> frozenset[int]:
        """The organisations this person belongs to."""
        return frozenset(self._index)

    def membership(self, organisation_id: int | None) -> Membership | None:
        """This person's membership of one organisation."""
        return self._index.get(organisation_id) if organisation_id is not None else None

    def roles_in(self, organisation_id: int | None) -> frozenset[str]:
        """The roles held in one organisation."""
        found = self.membership(organisation_id)
        return found.roles if found else frozenset()

    def acts_in(self, organisation_id: int | None, role: str | None) -> bool:
        """Whether this person holds ``role`` in ``organisation_id``."""
        return role is not None and role in self.roles_in(organisation_id)

    def organisations_with(self, role: str) -> list[int]:
        """The organisations where this person holds ``role``, in a stable order."""
        return sorted(m.organisation_id for m in self.memberships if role in m.roles)

    def has_role(self, role: str | None) -> bool:
        """Whether this person holds ``role`` anywhere."""
        return role is not None and role in self.roles


@dataclass(frozen=True)
class ApiClientInfo:
    """An outside system authenticated by its token."""

    id: int
    name: str
    scopes: frozenset[str]
    #: A client bound to one organisation (a school's own system) sees and submits only its cases.
    organisation_id: int | None = None

    def actor(self) -> Actor:
        """The client as the actor of the use cases it calls."""
        return Actor.client(self.name, self.organisation_id)
