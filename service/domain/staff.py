"""Who acts in the service: people with roles in organisations, and the systems around them.

Roles are the diagrams' lanes (the library tells which exist); :data:`ROLE_NAMES` only gives
the known ones their names in Kazakh, Russian and English: the built-in roles, and those a process
declaration adds (:func:`declare_role`, called when declarations are loaded). Besides the lanes there are three
roles that no diagram needs: an organisation's ``administrator`` (manages its staff), the
``analyst`` (reads and deploys diagrams) and ``legal``, the legal team (reads the document of the
Rules: how each obligation is carried out and checked). A national administrator manages the
registry of organisations; that is a flag on the account, not a role in any organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Names of the roles people know, keyed by lane id (or administrative role).
ROLE_NAMES: dict[str, dict[str, str]] = {
    "office_clerk": {"kk": "Кеңсе қызметкері", "ru": "Работник канцелярии", "en": "Office clerk"},
    "head": {"kk": "Көрсетілетін қызметті берушінің басшысы", "ru": "Руководитель услугодателя",
             "en": "Head of the provider"},
    "specialist": {"kk": "Маман", "ru": "Специалист", "en": "Specialist"},
    "complaint_registrar": {"kk": "Шағымдарды тіркеуші", "ru": "Регистратор жалоб", "en": "Complaint registrar"},
    "appealed_official": {"kk": "Шағым жасалатын лауазымды адам", "ru": "Обжалуемое должностное лицо",
                          "en": "Official whose act is appealed"},
    "reviewing_official": {"kk": "Шағымды қарайтын лауазымды адам", "ru": "Рассматривающее жалобу лицо",
                           "en": "Reviewing official"},
    "administrator": {"kk": "Ұйымның әкімшісі", "ru": "Администратор организации",
                      "en": "Organisation administrator"},
    "analyst": {"kk": "Талдаушы", "ru": "Аналитик", "en": "Analyst"},
    "legal": {"kk": "Заң қызметі", "ru": "Юридическая служба", "en": "Legal team"},
}

#: How a role is printed above a signature when the membership names no position (§9's own words for
#: whoever reviews a complaint); other roles print their name.
SIGNATURE_TITLES: dict[str, dict[str, str]] = {
    "reviewing_official": {"kk": "Шағымды қарау өкілеттігі берілген лауазымды адам",
                           "ru": "Должностное лицо, уполномоченное на рассмотрение жалобы"},
}

#: The legal team: reads the document of the Rules (paragraphs, obligations, scenarios, diagram elements).
LEGAL_ROLE = "legal"

#: Roles that are not lanes of any diagram.
ADMIN_ROLES = frozenset({"administrator", "analyst", LEGAL_ROLE})
#: The roles the product ships with; a process declaration (``processes/<id>.process.toml``) adds others.
BUILT_IN_ROLES = frozenset(ROLE_NAMES)


#: Who declared each added role (a process id): its new versions may rename it, other processes may not.
_DECLARED_BY: dict[str, str] = {}


def declare_role(role: str, names: dict[str, str], declared_by: str = "") -> None:
    """Make a role a process declaration adds known by its names (kk, ru, en); built-in roles keep theirs.

    ValueError for an administrative role, or a role another process declared under other names.
    """
    if role in ADMIN_ROLES:
        raise ValueError(f"'{role}' is an administrative role, not a lane")
    if role in BUILT_IN_ROLES:
        return
    known = ROLE_NAMES.get(role)
    owner = _DECLARED_BY.setdefault(role, declared_by)
    if known is not None and dict(known) != dict(names) and owner != declared_by:
        raise ValueError(f"role '{role}' is declared by {owner or 'another process'} with other names")
    ROLE_NAMES[role] = dict(names)


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
