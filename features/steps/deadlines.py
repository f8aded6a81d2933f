"""Steps about time: the provider's working hours and calendar, and time passing so that due
deadlines and waits run out."""

from __future__ import annotations

from datetime import timedelta

from pytest_bdd import given, parsers, when

from service.application.timers import fire_due_timers
from service.bootstrap import Services

from . import wording


@given(parsers.re(r"рабочее время услугодателя с (?P<start>\d{2}:\d{2}) до (?P<end>\d{2}:\d{2})"))
def working_hours(product: Services, start: str, end: str) -> None:
    """A premise about the provider's working hours (a setting), checked against the product."""
    hours = product.calendar.hours
    assert (f"{hours.start:%H:%M}", f"{hours.end:%H:%M}") == (start, end), f"the product works {hours}"


@given(parsers.re(r"с (?P<first>\d{1,2}) по (?P<last>\d{1,2} [а-я]+ \d{4} года) — нерабочие дни(?:: .+)?"))
def days_off(product: Services, first: str, last: str) -> None:
    """A premise about the calendar (weekends, holidays, moved days off), checked against the product."""
    end = wording.calendar_day(last)
    day = end.replace(day=int(first))
    while day <= end:
        assert not product.calendar.is_working_day(day), f"{day.isoformat()} is a working day in the product"
        day += timedelta(days=1)


@given(parsers.re(r"(?P<day>\d{1,2} [а-я]+ \d{4} года) — нерабочий день(?:: .+)?"))
def day_off(product: Services, day: str) -> None:
    """A premise that one day is not a working day, checked against the product's calendar."""
    assert not product.calendar.is_working_day(wording.calendar_day(day)), f"{day} is a working day in the product"


_TIME_PASSES = r"(?:наступает|наступила|наступило|наступил) (?P<at>.+)"


@given(parsers.re(_TIME_PASSES))
@when(parsers.re(_TIME_PASSES))
def time_passes(product: Services, at: str) -> None:
    """The worker looks at the clock at ``at``: every deadline and wait due by then runs out."""
    sweep = fire_due_timers(product.write_uow, product.runtime, now=wording.moment(at))
    assert sweep.failed == {}, sweep.failed
    # Each case moves on once per look at the clock; a case taken up again and again did not move.
    repeated = {case: sweep.fired.count(case) for case in set(sweep.fired) if sweep.fired.count(case) > 1}
    assert not repeated, f"timers due by {at} were taken up but did not fire (case: times taken up): {repeated}"

