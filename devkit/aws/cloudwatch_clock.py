"""The embedded CloudWatch's clock: one for alarms and mute rules, to the millisecond.

CloudWatch keeps every time to the millisecond, so the emulator does too; tests stop
the clock (:func:`set_clock`) at the instants they need rather than sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class _Clock:
    #: The instant the emulator reads instead of the wall clock (set_clock), or None.
    stopped_at: datetime | None = None


_CLOCK = _Clock()


def milliseconds(moment: datetime) -> datetime:
    """``moment`` (timezone-aware) in UTC, truncated to the millisecond, as CloudWatch keeps every time."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def cloudwatch_time(moment: datetime) -> str:
    """The alarm event's timestamp format: 2026-11-28T10:05:00.989+0000."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def now() -> datetime:
    """The emulator's clock, to the millisecond: the wall clock unless :func:`set_clock` stopped it."""
    return milliseconds(_CLOCK.stopped_at or datetime.now(UTC))


def set_clock(moment: datetime | None) -> None:
    """Stop the emulator's clock at ``moment`` (to the millisecond); None (or moto's reset) restarts it.

    Every time the alarms (:mod:`devkit.aws.cloudwatch_api`) and :mod:`devkit.aws.mute_rules`
    stamp or compare against reads this clock: StateUpdatedTimestamp, mute rule statuses,
    composite alarms' suppression. A test of a status that changes with time sets each instant it needs.
    """
    _CLOCK.stopped_at = None if moment is None else milliseconds(moment)
