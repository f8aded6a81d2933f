"""Who works in the service: staff roles (the diagrams' lanes) and the people who hold them."""

from __future__ import annotations

from dataclasses import dataclass

#: Staff roles, keyed by the lane id they act in, with their names in Kazakh, Russian and English.
ROLES: dict[str, dict[str, str]] = {
    "office_clerk": {"kk": "Кеңсе қызметкері", "ru": "Работник канцелярии", "en": "Office clerk"},
    "head": {"kk": "Көрсетілетін қызметті берушінің басшысы", "ru": "Руководитель услугодателя",
             "en": "Head of the provider"},
    "specialist": {"kk": "Маман", "ru": "Специалист", "en": "Specialist"},
    "complaint_registrar": {"kk": "Шағымдарды тіркеуші", "ru": "Регистратор жалоб", "en": "Complaint registrar"},
    "appealed_official": {"kk": "Шағым жасалатын лауазымды адам", "ru": "Обжалуемое должностное лицо",
                          "en": "Official whose act is appealed"},
    "reviewing_official": {"kk": "Шағымды қарайтын лауазымды адам", "ru": "Рассматривающее жалобу лицо",
                           "en": "Reviewing official"},
    "analyst": {"kk": "Талдаушы / әкімші", "ru": "Аналитик / администратор", "en": "Analyst / administrator"},
}

#: What each API client may do.
API_SCOPES = ("applications:submit", "cases:read", "sms:reply", "proactive:trigger", "complaints:file")


@dataclass(frozen=True)
class StaffMember:
    """A signed-in member of staff."""

    id: int
    login: str
    full_name: str
    roles: frozenset[str]
    language: str

    def has_role(self, role: str | None) -> bool:
        """Whether this person acts in the lane ``role``."""
        return role is not None and role in self.roles


@dataclass(frozen=True)
class ApiClientInfo:
    """An outside system authenticated by its token."""

    id: int
    name: str
    scopes: frozenset[str]
