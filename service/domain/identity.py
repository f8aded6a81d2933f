"""The individual identification number (IIN; ЖСН in Kazakh, ИИН in Russian).

An IIN has 12 digits:

- digits 1-6: the date of birth as ``YYMMDD``;
- digit 7: the century and sex — 1/2 born in the 1800s (male/female), 3/4 in the 1900s,
  5/6 in the 2000s;
- digits 8-11: a serial number;
- digit 12: the check digit. Weight the first 11 digits 1, 2, ..., 11 and take the sum
  modulo 11. If that is 10, weight them 3, 4, ..., 11, 1, 2 instead; if it is 10 again the
  number cannot be valid.

``validate_iin`` returns problem codes rather than raising, so that a form or a package
check can report every problem in the citizen's words.
"""

from __future__ import annotations

from datetime import date

IIN_FORMAT = "iin_format"
IIN_CHECKSUM = "iin_checksum"
IIN_DATE = "iin_date"
IIN_BIRTH_DATE_MISMATCH = "iin_birth_date_mismatch"

_LENGTH = 12
_FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# Digit 7 -> (first year of the century, sex).
_CENTURY_AND_SEX: dict[int, tuple[int, str]] = {
    1: (1800, "male"),
    2: (1800, "female"),
    3: (1900, "male"),
    4: (1900, "female"),
    5: (2000, "male"),
    6: (2000, "female"),
}
_SEXES = ("male", "female")


def validate_iin(iin: str, birth_date: date | None = None) -> list[str]:
    """Problem codes of ``iin`` (an empty list means it is valid).

    - ``iin_format``: not exactly 12 ASCII digits (nothing else is checked then);
    - ``iin_checksum``: the check digit does not match, or no check digit is possible;
    - ``iin_date``: the 7th digit is not a century digit 1-6, or ``YYMMDD`` in that century
      is not a real date;
    - ``iin_birth_date_mismatch``: the date in the IIN is real but differs from ``birth_date``.
    """
    if not _is_twelve_digits(iin):
        return [IIN_FORMAT]
    problems: list[str] = []
    if check_digit(iin[:11]) != int(iin[11]):
        problems.append(IIN_CHECKSUM)
    born = iin_birth_date(iin)
    if born is None:
        problems.append(IIN_DATE)
    elif birth_date is not None and born != _plain_date(birth_date):
        problems.append(IIN_BIRTH_DATE_MISMATCH)
    return problems


def iin_birth_date(iin: str) -> date | None:
    """The date of birth written in the IIN, or None if there is no real date in it."""
    if not _is_twelve_digits(iin):
        return None
    century = _CENTURY_AND_SEX.get(int(iin[6]))
    if century is None:
        return None
    try:
        return date(century[0] + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def check_digit(first_eleven: str) -> int | None:
    """The check digit for the first 11 digits of an IIN, or None when none is possible."""
    if len(first_eleven) != 11 or not (first_eleven.isascii() and first_eleven.isdigit()):
        raise ValueError(f"expected the first 11 digits of an IIN, got {first_eleven!r}")
    digits = [int(c) for c in first_eleven]
    for weights in (_FIRST_WEIGHTS, _SECOND_WEIGHTS):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def make_iin(birth_date: date, sex: str, serial: int) -> str:
    """Build a valid IIN for ``birth_date``, ``sex`` ("male"/"female") and a 4-digit serial.

    Meant for tests and demo data. Raises ValueError when the date is outside 1800-2099,
    the sex or serial is not allowed, or no check digit exists for this serial (pick
    another serial then).
    """
    if sex not in _SEXES:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= 9999:
        raise ValueError(f"serial must be a whole number 0-9999, got {serial!r}")
    born = _plain_date(birth_date)
    century_digit = next(
        (digit for digit, (start, s) in _CENTURY_AND_SEX.items() if s == sex and start <= born.year < start + 100),
        None,
    )
    if century_digit is None:
        raise ValueError(f"an IIN can only encode dates of birth 1800-2099, got {born.isoformat()}")
    first_eleven = f"{born:%y%m%d}{century_digit}{serial:04d}"
    digit = check_digit(first_eleven)
    if digit is None:
        raise ValueError(f"serial {serial:04d} gives no valid check digit for {first_eleven}; use another serial")
    return f"{first_eleven}{digit}"


def _is_twelve_digits(value: object) -> bool:
    # isascii: str.isdigit() also accepts other scripts' digits and superscripts.
    return isinstance(value, str) and len(value) == _LENGTH and value.isascii() and value.isdigit()


def _plain_date(value: date) -> date:
    # A datetime is a date too; compare only its calendar date.
    return date(value.year, value.month, value.day)
