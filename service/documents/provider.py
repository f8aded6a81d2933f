"""The issuing organisation's details as printed on documents (the letterhead and the head's signature).

Made from the registry's :class:`~service.domain.organisations.Organisation`; :meth:`ProviderInfo.load`
still reads the single-school TOML file of earlier versions, which the organisations migration imports.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.domain.organisations import Organisation, bin_problem

_REQUIRED = ("name_kk", "name_ru", "address_kk", "address_ru", "bin", "head_name", "phone")
_OPTIONAL = ("head_position_kk", "head_position_ru", "email", "locality_kk", "locality_ru")


class ProviderFileError(ValueError):
    """The provider file is missing or wrong; the message names the file and the key."""


@dataclass(frozen=True)
class ProviderInfo:
    """The school that provides the service, as printed on its documents."""

    name_kk: str
    name_ru: str
    address_kk: str
    address_ru: str
    bin: str
    head_name: str
    phone: str
    head_position_kk: str = "Директор"
    head_position_ru: str = "Директор"
    email: str = ""
    locality_kk: str = ""
    locality_ru: str = ""

    def __post_init__(self) -> None:
        problem = bin_problem(self.bin)
        if problem:
            raise ValueError(f"bin {problem}")

    @classmethod
    def from_organisation(cls, organisation: Organisation) -> ProviderInfo:
        """The letterhead of an organisation from the registry."""
        return cls(
            name_kk=organisation.name_kk, name_ru=organisation.name_ru, address_kk=organisation.address_kk,
            address_ru=organisation.address_ru, bin=organisation.bin, head_name=organisation.head_name,
            phone=organisation.phone, head_position_kk=organisation.head_position_kk,
            head_position_ru=organisation.head_position_ru, email=organisation.email,
            locality_kk=organisation.locality_kk, locality_ru=organisation.locality_ru,
        )

    @classmethod
    def load(cls, path: Path | str) -> ProviderInfo:
        """Read ``[provider]`` from ``path``; any mistake raises ProviderFileError naming the key."""
        path = Path(path)
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ProviderFileError(
                f"{path}: the provider file does not exist; copy config/provider.toml there and fill in "
                "your school's details, or point HOMESCHOOL_PROVIDER_FILE at it"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ProviderFileError(f"{path}: not valid TOML ({exc})") from None
        return cls.from_mapping(data.get("provider"), source=str(path))

    @classmethod
    def from_mapping(cls, section: Any, source: str = "provider settings") -> ProviderInfo:
        """Build from the ``[provider]`` table (already parsed)."""
        if not isinstance(section, dict):
            raise ProviderFileError(f"{source}: there is no [provider] table")
        unknown = sorted(set(section) - set(_REQUIRED) - set(_OPTIONAL))
        if unknown:
            raise ProviderFileError(f"{source}: [provider] has unknown key(s) {', '.join(unknown)}")
        values: dict[str, str] = {}
        for key in (*_REQUIRED, *_OPTIONAL):
            if key not in section:
                if key in _REQUIRED:
                    raise ProviderFileError(f"{source}: [provider] {key} is missing")
                continue
            value = section[key]
            if not isinstance(value, str):
                raise ProviderFileError(f"{source}: [provider] {key} must be text in double quotes")
            value = value.strip()
            if key in _REQUIRED and not value:
                raise ProviderFileError(f"{source}: [provider] {key} is empty")
            values[key] = value
        problem = bin_problem(values["bin"])
        if problem:
            raise ProviderFileError(f"{source}: [provider] bin {problem}")
        return cls(**values)

    def name(self, language: str) -> str:
        """The school's name in ``language`` (kk or ru)."""
        return self.name_kk if language == "kk" else self.name_ru

    def address(self, language: str) -> str:
        """The school's address in ``language`` (kk or ru)."""
        return self.address_kk if language == "kk" else self.address_ru

    def head_position(self, language: str) -> str:
        """The head's position as printed above the signature."""
        return self.head_position_kk if language == "kk" else self.head_position_ru

    def locality(self, language: str) -> str:
        """The place printed on orders (may be empty)."""
        return self.locality_kk if language == "kk" else self.locality_ru
