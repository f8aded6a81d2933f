"""The provider's details printed on issued documents, read from an operator-edited TOML file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        problem = _bin_problem(self.bin)
        if problem:
            raise ValueError(f"bin {problem}")

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
        problem = _bin_problem(values["bin"])
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


def _bin_problem(value: str) -> str | None:
    """Why ``value`` is not a valid BIN (12 digits, check digit as for the IIN), or None."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return "must be 12 digits"
    digits = [int(c) for c in value]
    check = sum(d * w for d, w in zip(digits[:11], range(1, 12), strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits[:11], (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True)) % 11
        if check == 10:
            return "is not a valid BIN (its check digit cannot be computed)"
    if check != digits[11]:
        return f"has a wrong check digit (expected {check} at the end): check the number"
    return None
