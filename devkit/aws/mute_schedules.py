"""Alarm mute rules' schedules, durations and time zones, parsed as the API reference describes them.

A rule's ``Rule.Schedule`` is ``at(yyyy-MM-ddThh:mm)`` (ONE_TIME) or
``cron(Minutes Hours Day-of-month Month Day-of-week)`` (RECURRING; ``*``, ``-``
and ``,`` in every field, JAN-DEC and SUN-SAT, day of week 0-6 from Sunday as in
standard cron, and a day that matches day-of-month *or* day-of-week when both are
restricted, as standard cron does; names in upper case only, as every documented
example writes them; a local time a DST change skips counts with the offset before
the change). ``Duration`` is ISO 8601 (weeks, or days,
hours, minutes and seconds) of whole minutes from PT1M to P15D. ``Timezone`` is an
IANA name, UTC when absent, and applies to the expression *and* to StartDate and
ExpireDate, as documented: their wall-clock reading (in UTC, as sent) is taken as
the time in that zone. GetAlarmMuteRule returns the dates as they were sent.

A value the model accepts but the documentation does not is ``InvalidParameterValue``
(see :mod:`devkit.aws.mute_rules` for why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from moto.cloudwatch.exceptions import InvalidParameterValue

DEFAULT_TIMEZONE = "UTC"
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=15)

_AT = re.compile(r"at\((?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})T(?P<hour>\d{2}):(?P<minute>\d{2})\)")
_CRON = re.compile(r"cron\((?P<fields>[^()]*)\)")
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W|(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?)"
)
_NUMBER = re.compile(r"\d{1,2}")
_AT_FORMAT = "at(yyyy-MM-ddThh:mm)"
_CRON_FORMAT = "cron(Minutes Hours Day-of-month Month Day-of-week)"
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: Mapping[str, int]


_CRON_FIELDS = (
    _Field("Minutes", 0, 59, {}),
    _Field("Hours", 0, 23, {}),
    _Field("Day-of-month", 1, 31, {}),
    _Field("Month", 1, 12, MONTHS),
    _Field("Day-of-week", 0, 6, WEEKDAYS),
)


@dataclass(frozen=True)
class Cron:
    """A five-field cron schedule; None for a field is ``*``."""

    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None

    def matches(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        by_month_day = self.days is None or day.day in self.days
        by_weekday = self.weekdays is None or (day.weekday() + 1) % 7 in self.weekdays
        if self.days is not None and self.weekdays is not None:
            return by_month_day or by_weekday  # standard cron: either restricted field may match
        return by_month_day and by_weekday

    def latest_start(self, moment: datetime, zone: ZoneInfo, within: timedelta) -> datetime | None:
        """The latest occurrence at or before ``moment`` and after ``moment - within`` (UTC), if any."""
        day = moment.astimezone(zone).date()
        first_day = (moment - within).astimezone(zone).date()
        while day >= first_day:
            if self.matches(day):
                starts = [
                    datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)
                    for hour in self.hours or range(24)
                    for minute in self.minutes or range(60)
                ]
                earlier = [start for start in starts if start <= moment]
                if earlier:
                    latest = max(earlier)
                    return latest if latest > moment - within else None
            day -= timedelta(days=1)
        return None


@dataclass(frozen=True)
class OneTime:
    """``at(...)``: one window starting at a wall-clock minute in the rule's time zone."""

    at: datetime  # naive, in the rule's time zone


def parse_expression(expression: str) -> Cron | OneTime:
    """The schedule of an ``at(...)`` or ``cron(...)`` expression; ``InvalidParameterValue`` otherwise."""
    at = _AT.fullmatch(expression)
    if at is not None:
        try:
            year, month, day, hour, minute = (int(at[part]) for part in ("year", "month", "day", "hour", "minute"))
            return OneTime(datetime(year, month, day, hour, minute))
        except ValueError:
            raise _invalid("Expression", expression, "it is not a valid date and time") from None
    cron = _CRON.fullmatch(expression)
    if cron is None:
        raise _invalid("Expression", expression, f"use {_AT_FORMAT} or {_CRON_FORMAT}")
    texts = cron["fields"].split(" ")
    if len(texts) != len(_CRON_FIELDS):
        raise _invalid("Expression", expression, "a cron expression has five fields separated by single spaces")
    minutes, hours, days, months, weekdays = (
        _cron_field(text, field, expression) for text, field in zip(texts, _CRON_FIELDS, strict=True)
    )
    return Cron(minutes, hours, days, months, weekdays)


def _cron_field(text: str, field: _Field, expression: str) -> frozenset[int] | None:
    if text == "*":
        return None
    values: set[int] = set()
    for item in text.split(","):
        bounds = [_cron_value(token, field, expression) for token in item.split("-")]
        if len(bounds) > 2 or bounds[0] > bounds[-1]:
            raise _invalid("Expression", expression, f"{item!r} is not a value or an ascending range of {field.name}")
        values.update(range(bounds[0], bounds[-1] + 1))
    return frozenset(values)


def _cron_value(token: str, field: _Field, expression: str) -> int:
    if token in field.names:
        return field.names[token]
    if _NUMBER.fullmatch(token) and field.low <= int(token) <= field.high:
        return int(token)
    raise _invalid("Expression", expression, f"{token!r} is not a {field.name} value ({field.low}-{field.high})")


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of whole minutes from PT1M to P15D; ``InvalidParameterValue`` otherwise."""
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        raise _invalid("Duration", text, "use an ISO 8601 duration such as PT4H or P2DT12H")
    parts = {key: int(value) for key, value in match.groupdict().items() if value is not None}
    try:
        length = timedelta(**parts)
    except OverflowError:
        raise _invalid("Duration", text, "the duration must be whole minutes from PT1M to P15D") from None
    if length % MIN_DURATION or not MIN_DURATION <= length <= MAX_DURATION:
        raise _invalid("Duration", text, "the duration must be whole minutes from PT1M to P15D")
    return length


def parse_timezone(name: str | None) -> ZoneInfo:
    """The IANA time zone ``name`` (UTC when None); ``InvalidParameterValue`` for any other name."""
    key = DEFAULT_TIMEZONE if name is None else name
    if key not in _time_zones():
        raise _invalid("Timezone", name, "use an IANA time zone such as America/New_York")
    return ZoneInfo(key)


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _invalid(parameter: str, value: object, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"The value {value} for parameter {parameter} is not valid: {why}.")
