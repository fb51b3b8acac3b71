"""What the embedded CloudWatch keeps about an alarm beyond moto: its kind, state times, suppression.

A composite alarm with an ``ActionsSuppressor`` reports ``ActionsSuppressedBy``
and ``ActionsSuppressedReason`` while its actions are suppressed, as the
CompositeAlarm reference and the "Suppressing composite alarm actions" guide
describe: ``Alarm`` while the suppressor is in ALARM; ``ExtensionPeriod`` for
``ActionsSuppressorExtensionPeriod`` seconds after the suppressor left ALARM;
``WaitPeriod`` for ``ActionsSuppressorWaitPeriod`` seconds after the composite
entered ALARM, unless the suppressor has been in ALARM since. Both fields appear
only while the composite alarm is in ALARM: the wait period is defined from the
composite's entering ALARM, and every example AWS documents is of a composite in
ALARM. The reason reads "Actions suppressed by <kind>", the one text AWS shows.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from moto.cloudwatch.models import Alarm, CloudWatchBackend

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

STATE_VALUES = frozenset({"OK", "ALARM", "INSUFFICIENT_DATA"})
METRIC_ALARM, COMPOSITE_ALARM, LOG_ALARM = "MetricAlarm", "CompositeAlarm", "LogAlarm"
ALARM_TYPES = frozenset({METRIC_ALARM, COMPOSITE_ALARM, LOG_ALARM})
INITIAL_REASON = "Unchecked: Initial alarm creation"

#: CompositeAlarm.ActionsSuppressedBy, in the model's spelling.
SUPPRESSED_BY_ALARM, SUPPRESSED_BY_WAIT, SUPPRESSED_BY_EXTENSION = "Alarm", "WaitPeriod", "ExtensionPeriod"

#: Attribute of moto's cloudwatch backend that holds the alarm mute rules (devkit.aws.mute_rules).
MUTE_RULES_ATTRIBUTE = "_alarm_mute_rules"

LOCK = threading.RLock()


# --------------------------------------------------------------------------- alarm state
# The extra state lives on moto's Alarm objects, so moto's reset forgets it with them.


def alarm_kind(alarm: Alarm) -> str:
    """MetricAlarm, CompositeAlarm or LogAlarm (log alarms carry their configuration in ``log_alarm``)."""
    if getattr(alarm, "log_alarm", None) is not None:
        return LOG_ALARM
    return COMPOSITE_ALARM if alarm.rule is not None else METRIC_ALARM


def is_composite(alarm: Alarm) -> bool:
    return alarm_kind(alarm) == COMPOSITE_ALARM


def initialise(alarm: Alarm, moment: datetime) -> None:
    alarm.state_value = "INSUFFICIENT_DATA"
    alarm.state_reason = INITIAL_REASON
    alarm.state_reason_data = None  # type: ignore[assignment]
    alarm.state_updated_timestamp = moment
    alarm.state_transitioned_timestamp = moment  # type: ignore[attr-defined]
    alarm.left_alarm_at = None  # type: ignore[attr-defined]


def carry_state(previous: Alarm, alarm: Alarm) -> None:
    for attribute in (
        "state_value",
        "state_reason",
        "state_reason_data",
        "state_updated_timestamp",
        "state_transitioned_timestamp",
        "left_alarm_at",
        "history",
    ):
        setattr(alarm, attribute, getattr(previous, attribute, None))


def record_transition(alarm: Alarm, previous_value: str | None, moment: datetime) -> None:
    """Remember when the alarm left ALARM: a composite alarm's ExtensionPeriod starts then."""
    if previous_value == "ALARM" and alarm.state_value != "ALARM":
        alarm.left_alarm_at = moment  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- suppression


def _suppressor_of(backend: CloudWatchBackend, composite: Alarm) -> Alarm | None:
    reference: str | None = getattr(composite, "actions_suppressor", None)
    if not reference:
        return None
    return backend.alarms.get(reference.rsplit(":alarm:", 1)[-1])


def actions_suppressed_by(backend: CloudWatchBackend, composite: Alarm, at: datetime) -> str | None:
    """Which of the three documented reasons holds the composite alarm's actions back at ``at``.

    Judged on the alarms' current states, as DescribeAlarms reports them; the times
    only bound the two periods: the composite's StateTransitionedTimestamp starts the
    WaitPeriod, the suppressor's leaving ALARM starts the ExtensionPeriod.
    """
    entered: datetime | None = getattr(composite, "state_transitioned_timestamp", None)
    if not getattr(composite, "actions_suppressor", None) or composite.state_value != "ALARM" or entered is None:
        return None
    suppressor = _suppressor_of(backend, composite)
    if suppressor is not None and suppressor.state_value == "ALARM":
        return SUPPRESSED_BY_ALARM
    left: datetime | None = getattr(suppressor, "left_alarm_at", None) if suppressor is not None else None
    extension = timedelta(seconds=getattr(composite, "actions_suppressor_extension_period", 0) or 0)
    if left is not None and at < left + extension:
        return SUPPRESSED_BY_EXTENSION
    wait = timedelta(seconds=getattr(composite, "actions_suppressor_wait_period", 0) or 0)
    suppressor_came_since = left is not None and left >= entered  # it was in ALARM after the composite entered
    if at < entered + wait and not suppressor_came_since:
        return SUPPRESSED_BY_WAIT
    return None


def suppression_reason(kind: str) -> str:
    """AWS's example event reads "Actions suppressed by WaitPeriod"; the same pattern is used for every kind."""
    return f"Actions suppressed by {kind}"
