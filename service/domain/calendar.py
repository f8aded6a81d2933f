"""Working days and deadlines of the service, on Kazakhstan's official calendar.

How a deadline is counted
-------------------------
1. Working days are Monday to Friday, except public holidays and the days off
   that the Government moves from one date to another. A Saturday or Sunday that
   the Government declares a working day (for example Sunday 5 January 2025,
   worked in exchange for Friday 3 January) is a working day. The dates come from
   the ``holidays`` package; the operator can correct them in
   ``config/calendar-overrides.toml``, and that file wins over the package.
2. The registration day is the day an application counts as received: the day
   it arrived, if that day is a working day and it arrived before the end of
   working hours (18:30 Almaty time by default; arriving early in the morning,
   before opening, still counts for that day). Otherwise it is the next working day.
3. The registration day itself is not counted. As the Civil Code puts it, a
   period begins on the day after the event that starts it.
4. A period of N working days ends at the close of working hours on the N-th
   working day after the registration day.

Example: an application received on Friday 20 March 2026 at 17:00 with a period
of 2 working days. It is registered on 20 March. 21 to 25 March are days off
(the weekend, Nauryz and the days off moved next to it), so working day 1 is
Thursday 26 March and working day 2 is Friday 27 March: the deadline is
27 March 2026 at 18:30.

All times are Almaty time (UTC+05:00); see ``service.domain.time``.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import holidays

from service.domain.errors import CalendarError
from service.domain.time import ALMATY, to_local

_ONE_DAY = timedelta(days=1)

# Real calendars never go more than about ten days without a working day; a
# year without one can only come from a broken overrides file, and it must stop
# with an error instead of looping.
_LONGEST_RUN_OF_DAYS_OFF = 366

_HOURS_PATTERN = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})")

_SECTIONS = ("day_off", "working_day")
_ENTRY_KEYS = frozenset({"date", "reason"})
_NO_REASON = "(no reason given)"


@dataclass(frozen=True)
class WorkingHours:
    """The daily opening hours of the service, as Almaty local times of day."""

    start: time = time(9, 0)
    end: time = time(18, 30)

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            # An aware time cannot be compared with the naive local times used here.
            if not isinstance(value, time) or value.tzinfo is not None:
                raise CalendarError(
                    f"working hours {name} must be a local time of day like 09:00, got {value!r}"
                )
        if self.start >= self.end:
            raise CalendarError(f"working hours must start before they end, got {self}")

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """Read hours written like ``09:00-18:30``."""
        match = _HOURS_PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise CalendarError(f"working hours {text!r} must be written like 09:00-18:30")
        hours = [int(group) for group in match.groups()]
        try:
            start, end = time(hours[0], hours[1]), time(hours[2], hours[3])
        except ValueError:
            raise CalendarError(
                f"working hours {text!r} contain a time of day that does not exist"
            ) from None
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_WORKING_HOURS = WorkingHours()


@dataclass(frozen=True)
class CalendarOverrides:
    """Dates the operator declares days off or working days, each with its reason."""

    days_off: Mapping[date, str]
    working_days: Mapping[date, str]

    def __post_init__(self) -> None:
        # Read-only copies: the calendar caches its answers, so the dates it was
        # built with must not change underneath it.
        object.__setattr__(self, "days_off", MappingProxyType(dict(self.days_off)))
        object.__setattr__(self, "working_days", MappingProxyType(dict(self.working_days)))
        both = sorted(self.days_off.keys() & self.working_days.keys())
        if both:
            raise CalendarError(
                f"{both[0].isoformat()} is listed both as a day off and as a working day"
            )

    @classmethod
    def empty(cls) -> CalendarOverrides:
        """No overrides: the calendar is exactly the one from the holidays package."""
        return cls(days_off={}, working_days={})

    @classmethod
    def load(cls, path: Path) -> CalendarOverrides:
        """Read the overrides TOML file; a missing file means no overrides."""
        try:
            with Path(path).open("rb") as file:
                document = tomllib.load(file)
        except FileNotFoundError:
            return cls.empty()
        except tomllib.TOMLDecodeError as error:
            raise CalendarError(f"{path}: not valid TOML: {error}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CalendarError(f"{path}: cannot be read: {error}") from None
        return _overrides_from_document(document, str(path))


NO_OVERRIDES = CalendarOverrides.empty()


class WorkingCalendar:
    """Kazakhstan's working days, corrected by the operator, and deadlines counted on them."""

    def __init__(
        self,
        hours: WorkingHours = DEFAULT_WORKING_HOURS,
        overrides: CalendarOverrides = NO_OVERRIDES,
    ) -> None:
        self._hours = hours
        self._overrides = overrides
        self._public = holidays.country_holidays("KZ")
        self._answers: dict[date, bool] = {}
        # The holidays object fills in a year's dates the first time that year
        # is asked about, which is not safe to do from two threads at once.
        self._lock = threading.Lock()

    @property
    def hours(self) -> WorkingHours:
        """The daily working hours deadlines end with."""
        return self._hours

    @property
    def overrides(self) -> CalendarOverrides:
        """The operator's corrections to the public calendar."""
        return self._overrides

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day: overrides first, then Kazakhstan's calendar."""
        day = _require_date(d)
        answer = self._answers.get(day)
        if answer is None:
            with self._lock:
                answer = self._decide(day)
                self._answers[day] = answer
        return answer

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        day = _require_date(d)
        for _ in range(_LONGEST_RUN_OF_DAYS_OFF):
            day += _ONE_DAY
            if self.is_working_day(day):
                return day
        raise CalendarError(
            f"no working day in the {_LONGEST_RUN_OF_DAYS_OFF} days after {d.isoformat()}; "
            "check the calendar overrides file"
        )

    def registration_day(self, received: datetime) -> date:
        """The working day a submission received at ``received`` counts as received on."""
        local = to_local(received)
        day = local.date()
        if self.is_working_day(day) and local.time() < self._hours.end:
            return day
        return self.next_working_day(day)

    def working_deadline(self, received: datetime, days: int) -> datetime:
        """Close of working hours on the ``days``-th working day after the registration day."""
        _require_day_count(days)
        day = self.registration_day(received)
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, self._hours.end, tzinfo=ALMATY)

    def extend_deadline(self, deadline: datetime, days: int) -> datetime:
        """A deadline moved ``days`` working days later (e.g. an extended review period).

        Counts from the deadline's own date, which is already a closing time, so the
        extension adds exactly ``days`` working days — unlike :meth:`working_deadline`,
        which would treat a deadline at closing time as received after hours.
        """
        _require_day_count(days)
        day = to_local(deadline).date()
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, self._hours.end, tzinfo=ALMATY)

    def working_days_left(self, now: datetime, deadline: datetime) -> int:
        """Working days until the deadline's date: 0 on that date, negative once past.

        Only Almaty dates are compared, never times of day: on the deadline's
        own date the answer is 0 even after hours (compare the instants to know
        whether it has passed). Before that date: the number of working days
        after today up to and including the deadline's date. After it: minus the
        number of working days from the deadline's date up to but not including
        today, and at least -1; so -1 when the deadline was the last working day
        before today, including over the weekend that follows it.
        """
        today = to_local(now).date()
        due = to_local(deadline).date()
        if due >= today:
            return self._count_working_days(today + _ONE_DAY, due)
        return -max(1, self._count_working_days(due, today - _ONE_DAY))

    def _decide(self, day: date) -> bool:
        if day in self._overrides.days_off:
            return False
        if day in self._overrides.working_days:
            return True
        # is_working_day, not ``day in holidays``: membership only lists days
        # off, and would miss a weekend day moved to be a working day.
        return self._public.is_working_day(day)

    def _count_working_days(self, first: date, last: date) -> int:
        count = 0
        day = first
        while day <= last:
            if self.is_working_day(day):
                count += 1
            day += _ONE_DAY
        return count


def _require_date(d: date) -> date:
    # A datetime is also a date; accepting one would silently ignore its zone.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise CalendarError(f"expected a calendar date, got {d!r}")
    return d


def _require_day_count(days: int) -> None:
    # bool is an int in Python, but True working days is a bug, not a count.
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise CalendarError(f"a number of working days must be a whole number >= 1, got {days!r}")


def _overrides_from_document(document: dict[str, Any], source: str) -> CalendarOverrides:
    for name in document:
        if name not in _SECTIONS:
            raise CalendarError(
                f"{source}: unknown section {name!r}; only [[day_off]] and [[working_day]] "
                "are allowed"
            )
    days_off = _read_section(document, "day_off", source)
    working_days = _read_section(document, "working_day", source)
    for day, (number, _) in days_off.items():
        if day in working_days:
            other = working_days[day][0]
            raise CalendarError(
                f"{source}: {day.isoformat()} is both day_off #{number} "
                f"and working_day #{other}; keep only one"
            )
    return CalendarOverrides(
        days_off={day: reason for day, (_, reason) in days_off.items()},
        working_days={day: reason for day, (_, reason) in working_days.items()},
    )


def _read_section(
    document: dict[str, Any], section: str, source: str
) -> dict[date, tuple[int, str]]:
    """The section's entries as date -> (entry number, reason)."""
    entries = document.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CalendarError(f"{source}: {section} must be written as [[{section}]] tables")
    found: dict[date, tuple[int, str]] = {}
    for number, entry in enumerate(entries, start=1):
        label = f"{source}: {section} #{number}"
        day, reason = _read_entry(entry, label)
        if day in found:
            raise CalendarError(
                f"{label} repeats {day.isoformat()} from {section} #{found[day][0]}"
            )
        found[day] = (number, reason)
    return found


def _read_entry(entry: dict[str, Any], label: str) -> tuple[date, str]:
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise CalendarError(f"{label} has unknown key {unknown[0]!r}; expected date and reason")
    if "date" not in entry:
        raise CalendarError(f"{label} has no date")
    day = entry["date"]
    # TOML reads 2026-12-31 as a date, 2026-12-31T00:00 as a datetime and
    # "2026-12-31" as a string; only the first one is a whole day.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise CalendarError(
            f"{label}: date must be written like 2026-12-31 (no quotes, no time), got {day!r}"
        )
    reason = entry.get("reason", _NO_REASON)
    if not isinstance(reason, str):
        raise CalendarError(f'{label}: reason must be text in quotes, like "Government decree"')
    return day, reason
