"""Deadlines in working days or calendar days.

Working days skip public holidays and count make-up workdays, from the chinese-calendar package.
For years it has no data for yet (the State Council publishes each year's holidays in
November/December), it falls back to Monday–Friday and logs a warning: update the package then.
"""

import logging
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from django.conf import settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_no_data(day.year)
        return day.weekday() < 5


@lru_cache(maxsize=64)
def _warn_no_data(year: int) -> None:
    log.warning("chinese-calendar has no holiday data for %s; counting Mon–Fri as workdays", year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the start day itself is not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return day


def add_calendar_days(start: date, days: int) -> date:
    return start + timedelta(days=days)


def due(rule: str, start: date) -> date:
    """Apply a configured rule: settings.TIPLINE_DEADLINES[rule] = (count, 'working'|'calendar')."""
    count, kind = settings.TIPLINE_DEADLINES[rule]
    if kind == "working":
        return add_working_days(start, count)
    return add_calendar_days(start, count)


def subtract_working_days(end: date, days: int) -> date:
    """The date `days` working days before `end` (the end day itself is not counted): the
    inverse of add_working_days for a working `end`."""
    day = end
    remaining = days
    while remaining > 0:
        day -= timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return day
