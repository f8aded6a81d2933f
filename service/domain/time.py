"""Instants in the service's one time zone: parsing, converting and printing them.

Every instant the service stores or shows is timezone-aware. A naive datetime
(one without a UTC offset) is refused everywhere, because guessing its zone is
how deadlines silently drift by hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from service.domain.errors import CalendarError

# Kazakhstan has used a single zone, UTC+05:00, since 1 March 2024 (Almaty and
# Astana moved from UTC+06:00). A fixed offset is used instead of
# zoneinfo("Asia/Almaty") because the tz database installed on a server may
# predate that change and would then put every deadline an hour off. The name is
# the offset itself, as the tz database prints it for Asia/Almaty today.
ALMATY: tzinfo = timezone(timedelta(hours=5), "+05:00")

_EXAMPLE = "2026-03-20T17:00+05:00"


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant with a UTC offset and return it in Almaty time."""
    if not isinstance(text, str):
        raise CalendarError(f"{text!r} is not text; write an instant like {_EXAMPLE}")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CalendarError(
            f"{text!r} is not an ISO 8601 instant; write it like {_EXAMPLE}"
        ) from None
    if not _is_aware(parsed):
        raise CalendarError(f"{text!r} has no UTC offset; write it like {_EXAMPLE}")
    return parsed.astimezone(ALMATY)


def to_local(dt: datetime) -> datetime:
    """Return the same instant in Almaty time; a naive datetime is refused."""
    if not isinstance(dt, datetime):
        raise CalendarError(f"{dt!r} is not a date and time")
    if not _is_aware(dt):
        raise CalendarError(
            f"{dt.isoformat()} has no UTC offset; the calendar only works with "
            f"timezone-aware instants such as {_EXAMPLE}"
        )
    return dt.astimezone(ALMATY)


def format_instant(dt: datetime) -> str:
    """Print an instant as ISO 8601 in Almaty time, to the second, with its offset."""
    return to_local(dt).isoformat(timespec="seconds")


def _is_aware(dt: datetime) -> bool:
    # The definition from the datetime docs: a tzinfo that returns no offset
    # makes the datetime just as naive as having no tzinfo at all.
    return dt.tzinfo is not None and dt.utcoffset() is not None
