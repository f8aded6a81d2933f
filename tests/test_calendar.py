"""The working-day calendar, checked on real Kazakh dates worked out by hand.

Dates used below (Kazakhstan's official calendar):
- 2025: 1-2 January New Year; Friday 3 January a day off moved from Sunday
  5 January, which is worked instead; 7 January Orthodox Christmas.
- 2026: 8 March (Sunday) Women's Day, observed Monday 9 March; Nauryz 21-23 March
  (Saturday to Monday) with the weekend days moved to Tuesday 24 and Wednesday
  25 March; 16 December (Wednesday) Independence Day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from service.domain.calendar import CalendarOverrides, WorkingCalendar, WorkingHours
from service.domain.errors import CalendarError
from service.domain.time import ALMATY, format_instant, parse_instant, to_local


def at(text: str) -> datetime:
    """Shorthand for an instant written in ISO 8601."""
    return parse_instant(text)


def write(tmp_path: Path, text: str) -> Path:
    """Write an overrides file and return its path."""
    path = tmp_path / "calendar-overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- instants -----------------------------------------------------------------------------


def test_parse_instant_keeps_an_almaty_instant() -> None:
    parsed = parse_instant("2026-03-20T17:00+05:00")
    assert parsed == datetime(2026, 3, 20, 17, 0, tzinfo=ALMATY)
    assert parsed.utcoffset() == timedelta(hours=5)


def test_parse_instant_converts_utc_to_almaty() -> None:
    parsed = parse_instant("2026-03-20T12:00Z")
    assert (parsed.date(), parsed.time()) == (date(2026, 3, 20), time(17, 0))
    assert parsed.tzinfo is ALMATY


@pytest.mark.parametrize("text", ["2026-03-20T17:00", "2026-03-20"])
def test_parse_instant_refuses_an_instant_without_offset(text: str) -> None:
    with pytest.raises(CalendarError, match="has no UTC offset; write it like"):
        parse_instant(text)


@pytest.mark.parametrize("text", ["", "next Friday", "2026-02-30T10:00+05:00", "17:00+05:00"])
def test_parse_instant_refuses_garbage(text: str) -> None:
    with pytest.raises(CalendarError, match="not an ISO 8601 instant"):
        parse_instant(text)


def test_to_local_and_format_instant() -> None:
    utc = datetime(2026, 3, 27, 13, 30, tzinfo=UTC)
    assert to_local(utc) == datetime(2026, 3, 27, 18, 30, tzinfo=ALMATY)
    assert to_local(utc).tzinfo is ALMATY
    assert format_instant(utc) == "2026-03-27T18:30:00+05:00"
    with pytest.raises(CalendarError, match="no UTC offset"):
        to_local(datetime(2026, 3, 27, 18, 30))


# --- working days -------------------------------------------------------------------------


@pytest.mark.parametrize("day", [21, 22, 23, 24, 25])
def test_nauryz_2026_days_are_not_working_days(day: int) -> None:
    assert not WorkingCalendar().is_working_day(date(2026, 3, day))


@pytest.mark.parametrize("day", [20, 26])
def test_days_around_nauryz_2026_are_working_days(day: int) -> None:
    assert WorkingCalendar().is_working_day(date(2026, 3, day))


def test_moved_working_sunday_and_moved_day_off_in_january_2025() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2025, 1, 5))  # Sunday, worked instead of 3 January
    assert not calendar.is_working_day(date(2025, 1, 3))  # Friday, a day off
    assert not calendar.is_working_day(date(2025, 1, 4))  # an ordinary Saturday


def test_independence_day_2026() -> None:
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2026, 12, 16))
    assert calendar.is_working_day(date(2026, 12, 17))


def test_next_working_day_is_strictly_after() -> None:
    calendar = WorkingCalendar()
    assert calendar.next_working_day(date(2026, 3, 19)) == date(2026, 3, 20)
    assert calendar.next_working_day(date(2026, 3, 20)) == date(2026, 3, 26)
    assert calendar.next_working_day(date(2025, 1, 2)) == date(2025, 1, 5)


def test_is_working_day_refuses_a_datetime() -> None:
    with pytest.raises(CalendarError, match="expected a calendar date"):
        WorkingCalendar().is_working_day(datetime(2026, 3, 20, 10, 0, tzinfo=ALMATY))


# --- registration day and deadlines ---------------------------------------------------------


def test_friday_afternoon_before_nauryz() -> None:
    # Registered Friday 20 March; 21-25 March off; day 1 = Thu 26, day 2 = Fri 27.
    deadline = WorkingCalendar().working_deadline(at("2026-03-20T17:00+05:00"), 2)
    assert deadline == at("2026-03-27T18:30+05:00")
    assert format_instant(deadline) == "2026-03-27T18:30:00+05:00"


def test_deadline_falls_on_the_moved_working_sunday() -> None:
    # Registered Tue 31 Dec 2024; 1-2 Jan holidays, 3 Jan moved off, 4 Jan Saturday,
    # so working day 1 is Sunday 5 January 2025.
    calendar = WorkingCalendar()
    received = at("2024-12-31T10:00+05:00")
    assert calendar.working_deadline(received, 1) == at("2025-01-05T18:30+05:00")
    # Day 2 is Monday 6 January.
    assert calendar.working_deadline(received, 2) == at("2025-01-06T18:30+05:00")


def test_submission_on_a_holiday_registers_on_the_moved_working_sunday() -> None:
    # Thu 2 Jan 2025 is a holiday: registered Sun 5 Jan; day 1 = Mon 6 Jan;
    # Tue 7 Jan is Orthodox Christmas; day 2 = Wed 8 Jan.
    calendar = WorkingCalendar()
    received = at("2025-01-02T10:00+05:00")
    assert calendar.registration_day(received) == date(2025, 1, 5)
    assert calendar.working_deadline(received, 2) == at("2025-01-08T18:30+05:00")


def test_deadline_across_independence_day_2026() -> None:
    # Registered Tue 15 Dec; Wed 16 Dec is a holiday; day 1 = Thu 17, day 2 = Fri 18.
    deadline = WorkingCalendar().working_deadline(at("2026-12-15T10:00+05:00"), 2)
    assert format_instant(deadline) == "2026-12-18T18:30:00+05:00"


def test_submission_after_hours_counts_from_the_next_working_day() -> None:
    # Fri 6 March 19:00 is after closing; 7 Sat, 8 Sun (Women's Day), 9 Mon (observed)
    # are off: registered Tue 10 March; day 1 = Wed 11, day 2 = Thu 12.
    calendar = WorkingCalendar()
    received = at("2026-03-06T19:00+05:00")
    assert calendar.registration_day(received) == date(2026, 3, 10)
    assert calendar.working_deadline(received, 2) == at("2026-03-12T18:30+05:00")


def test_submission_before_opening_counts_for_that_day() -> None:
    # Thu 26 March 08:00 counts for 26 March, so day 1 is Fri 27 March.
    calendar = WorkingCalendar()
    received = at("2026-03-26T08:00+05:00")
    assert calendar.registration_day(received) == date(2026, 3, 26)
    assert calendar.working_deadline(received, 1) == at("2026-03-27T18:30+05:00")


def test_closing_time_itself_is_after_hours() -> None:
    calendar = WorkingCalendar()
    assert calendar.registration_day(at("2026-03-20T18:29:59+05:00")) == date(2026, 3, 20)
    assert calendar.registration_day(at("2026-03-20T18:30+05:00")) == date(2026, 3, 26)


def test_submission_on_a_weekend_day_registers_on_the_next_working_day() -> None:
    assert WorkingCalendar().registration_day(at("2026-03-21T10:00+05:00")) == date(2026, 3, 26)


def test_instants_in_other_offsets_are_judged_in_almaty_time() -> None:
    calendar = WorkingCalendar()
    # 20:00 UTC on Thursday 19 March is 01:00 on Friday 20 March in Almaty.
    early = datetime(2026, 3, 19, 20, 0, tzinfo=UTC)
    assert calendar.registration_day(early) == date(2026, 3, 20)
    # 13:30 UTC on Friday 20 March is 18:30 in Almaty, closing time: registered
    # Thu 26 March; day 1 = Fri 27, then the weekend, day 2 = Mon 30 March.
    closing = datetime(2026, 3, 20, 13, 30, tzinfo=UTC)
    deadline = calendar.working_deadline(closing, 2)
    assert format_instant(deadline) == "2026-03-30T18:30:00+05:00"
    assert deadline.tzinfo is ALMATY


def test_working_hours_set_the_cut_off_and_the_deadline_time() -> None:
    # Closing at 17:00, Friday 20 March 17:00 is after hours: registered Thu 26
    # March; day 1 = Fri 27, day 2 = Mon 30 March, ending 17:00.
    calendar = WorkingCalendar(hours=WorkingHours.parse("09:00-17:00"))
    deadline = calendar.working_deadline(at("2026-03-20T17:00+05:00"), 2)
    assert format_instant(deadline) == "2026-03-30T17:00:00+05:00"


# --- bad input ------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    calendar = WorkingCalendar()
    naive = datetime(2026, 3, 20, 17, 0)
    aware = at("2026-03-20T17:00+05:00")
    with pytest.raises(CalendarError, match="no UTC offset"):
        calendar.registration_day(naive)
    with pytest.raises(CalendarError, match="no UTC offset"):
        calendar.working_deadline(naive, 2)
    with pytest.raises(CalendarError, match="no UTC offset"):
        calendar.working_days_left(naive, aware)
    with pytest.raises(CalendarError, match="no UTC offset"):
        calendar.working_days_left(aware, naive)


@pytest.mark.parametrize("days", [0, -1, True, "2", 2.0, None])
def test_working_day_count_must_be_a_whole_number_from_one(days: object) -> None:
    with pytest.raises(CalendarError, match="whole number >= 1"):
        WorkingCalendar().working_deadline(at("2026-03-20T17:00+05:00"), days)  # type: ignore[arg-type]


# --- working hours --------------------------------------------------------------------------


def test_working_hours_default_and_parse() -> None:
    assert WorkingHours() == WorkingHours(time(9, 0), time(18, 30))
    assert WorkingHours.parse("09:00-18:30") == WorkingHours(time(9, 0), time(18, 30))
    assert WorkingHours.parse(" 8:30 - 17:00 ") == WorkingHours(time(8, 30), time(17, 0))
    assert str(WorkingHours.parse("8:30-17:00")) == "08:30-17:00"


@pytest.mark.parametrize("text", ["", "09:00", "9-18", "09.00-18.30", "09:00-18:30-19:00"])
def test_working_hours_parse_refuses_bad_text(text: str) -> None:
    with pytest.raises(CalendarError, match="must be written like 09:00-18:30"):
        WorkingHours.parse(text)


@pytest.mark.parametrize("text", ["25:00-26:00", "09:60-18:00"])
def test_working_hours_parse_refuses_impossible_times(text: str) -> None:
    with pytest.raises(CalendarError, match="does not exist"):
        WorkingHours.parse(text)


@pytest.mark.parametrize("text", ["18:30-09:00", "09:00-09:00"])
def test_working_hours_must_start_before_they_end(text: str) -> None:
    with pytest.raises(CalendarError, match="start before they end"):
        WorkingHours.parse(text)


# --- overrides ------------------------------------------------------------------------------


def test_an_extra_day_off_moves_the_deadline() -> None:
    # Thu 26 March off too: day 1 = Fri 27, then the weekend, day 2 = Mon 30.
    overrides = CalendarOverrides(days_off={date(2026, 3, 26): "test"}, working_days={})
    calendar = WorkingCalendar(overrides=overrides)
    assert not calendar.is_working_day(date(2026, 3, 26))
    deadline = calendar.working_deadline(at("2026-03-20T17:00+05:00"), 2)
    assert deadline == at("2026-03-30T18:30+05:00")


def test_an_extra_working_day_moves_the_deadline() -> None:
    # Sat 21 March worked: day 1 = Sat 21, day 2 = Thu 26.
    overrides = CalendarOverrides(days_off={}, working_days={date(2026, 3, 21): "test"})
    calendar = WorkingCalendar(overrides=overrides)
    deadline = calendar.working_deadline(at("2026-03-20T17:00+05:00"), 2)
    assert deadline == at("2026-03-26T18:30+05:00")


def test_overrides_win_over_the_package() -> None:
    overrides = CalendarOverrides(
        days_off={date(2025, 1, 5): "test"}, working_days={date(2026, 3, 23): "test"}
    )
    calendar = WorkingCalendar(overrides=overrides)
    assert not calendar.is_working_day(date(2025, 1, 5))  # the package says working
    assert calendar.is_working_day(date(2026, 3, 23))  # the package says Nauryz


def test_overrides_are_read_only_copies() -> None:
    days_off = {date(2026, 3, 26): "test"}
    overrides = CalendarOverrides(days_off=days_off, working_days={})
    days_off[date(2026, 3, 27)] = "added later"
    assert list(overrides.days_off) == [date(2026, 3, 26)]
    with pytest.raises(TypeError):
        overrides.days_off[date(2026, 3, 27)] = "x"  # type: ignore[index]


def test_overrides_refuse_a_date_that_is_both() -> None:
    with pytest.raises(CalendarError, match="2026-03-26 is listed both"):
        CalendarOverrides(days_off={date(2026, 3, 26): "a"}, working_days={date(2026, 3, 26): "b"})


def test_load_overrides_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        # a comment
        [[day_off]]
        date = 2026-12-31
        reason = "New Year's Eve, decree"

        [[day_off]]
        date = 2026-03-26

        [[working_day]]
        date = 2026-03-21
        reason = "Saturday worked"
        """,
    )
    overrides = CalendarOverrides.load(path)
    assert dict(overrides.days_off) == {
        date(2026, 12, 31): "New Year's Eve, decree",
        date(2026, 3, 26): "(no reason given)",
    }
    assert dict(overrides.working_days) == {date(2026, 3, 21): "Saturday worked"}
    # Sat 21 worked and Thu 26 off: day 1 = Sat 21, day 2 = Fri 27.
    calendar = WorkingCalendar(overrides=overrides)
    assert calendar.working_deadline(at("2026-03-20T17:00+05:00"), 2) == at(
        "2026-03-27T18:30+05:00"
    )


def test_missing_overrides_file_means_no_overrides(tmp_path: Path) -> None:
    overrides = CalendarOverrides.load(tmp_path / "absent.toml")
    assert overrides == CalendarOverrides.empty()
    assert len(overrides.days_off) == 0
    assert len(overrides.working_days) == 0


def test_shipped_overrides_file_changes_nothing() -> None:
    shipped = Path(__file__).resolve().parent.parent / "config" / "calendar-overrides.toml"
    assert shipped.is_file()
    assert CalendarOverrides.load(shipped) == CalendarOverrides.empty()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[day_off]\ndate = 2026-12-31\n", "not valid TOML"),
        (
            "[[day_off]]\ndate = 2026-12-31\n[[day_off]]\nreason = 'x'\n",
            "day_off #2 has no date",
        ),
        ('[[working_day]]\ndate = "2026-01-03"\n', "working_day #1: date must be written like"),
        ("[[day_off]]\ndate = 2026-12-31T00:00:00\n", "day_off #1: date must be written like"),
        ("[[day_off]]\ndate = 2026-12-31\nreason = 5\n", "day_off #1: reason must be text"),
        ("[[day_off]]\ndata = 2026-12-31\n", "day_off #1 has unknown key 'data'"),
        ("[[days_off]]\ndate = 2026-12-31\n", "unknown section 'days_off'"),
        ("day_off = 2026-12-31\n", r"day_off must be written as \[\[day_off\]\] tables"),
        (
            "[[day_off]]\ndate = 2026-12-31\n[[day_off]]\ndate = 2026-12-31\n",
            "day_off #2 repeats 2026-12-31 from day_off #1",
        ),
        (
            "[[day_off]]\ndate = 2026-12-31\n[[working_day]]\ndate = 2026-12-31\n",
            "2026-12-31 is both day_off #1 and working_day #1",
        ),
    ],
)
def test_bad_overrides_file_names_the_file_and_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CalendarError, match=message) as raised:
        CalendarOverrides.load(path)
    assert str(raised.value).startswith(f"{path}: ")


# --- working days left ----------------------------------------------------------------------

# Deadline: Friday 27 March 2026, 18:30 (the Nauryz example above).
DEADLINE = "2026-03-27T18:30+05:00"


@pytest.mark.parametrize(
    ("now", "left"),
    [
        ("2026-03-20T10:00+05:00", 2),  # Thu 26 and Fri 27 remain (21-25 are off)
        ("2026-03-22T10:00+05:00", 2),  # Sunday in Nauryz: still 26 and 27
        ("2026-03-26T09:00+05:00", 1),  # only Fri 27 remains
        ("2026-03-27T10:00+05:00", 0),  # due today
        ("2026-03-27T19:00+05:00", 0),  # still the deadline's date: dates only
        ("2026-03-28T10:00+05:00", -1),  # Saturday: Friday's deadline was the last working day
        ("2026-03-30T10:00+05:00", -1),  # Monday: the deadline was the previous working day
        ("2026-03-31T10:00+05:00", -2),  # Tuesday: Fri 27 and Mon 30 have gone by
    ],
)
def test_working_days_left(now: str, left: int) -> None:
    assert WorkingCalendar().working_days_left(at(now), at(DEADLINE)) == left


def test_working_days_left_compares_almaty_dates() -> None:
    # 19:30 UTC on Thursday 26 March is already 00:30 on Friday 27 March in Almaty.
    now = datetime(2026, 3, 26, 19, 30, tzinfo=UTC)
    deadline = datetime(2026, 3, 27, 13, 30, tzinfo=UTC)
    assert WorkingCalendar().working_days_left(now, deadline) == 0


def test_extending_a_deadline_adds_exactly_that_many_working_days() -> None:
    """An extension counts from the deadline's own date: Fri 27 Mar 2026 18:30 + 2 → Tue 31 Mar 18:30."""
    calendar = WorkingCalendar()
    deadline = datetime(2026, 3, 27, 18, 30, tzinfo=ALMATY)
    assert calendar.extend_deadline(deadline, 2) == datetime(2026, 3, 31, 18, 30, tzinfo=ALMATY)
    # across Independence Day: Tue 15 Dec 2026 + 1 → Thu 17 Dec (16 December is off)
    assert calendar.extend_deadline(datetime(2026, 12, 15, 18, 30, tzinfo=ALMATY), 1) == datetime(
        2026, 12, 17, 18, 30, tzinfo=ALMATY
    )
    with pytest.raises(CalendarError):
        calendar.extend_deadline(deadline, 0)
