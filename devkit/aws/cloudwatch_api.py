"""CloudWatch alarms for moto, as strict as AWS documents them.

moto 5.2.5 is kinder than CloudWatch in ways that hide real bugs: DescribeAlarms
returns every alarm in one page, drops ``StateValue`` when a name prefix or names
are given, returns composite alarms without being asked, has no
``StateTransitionedTimestamp``, keeps microseconds, has no PutCompositeAlarm and
no log alarms, never says that a composite alarm's actions are suppressed, and
lists the tags of a deleted alarm. :func:`install` replaces moto's handlers for
PutMetricAlarm, DescribeAlarms, SetAlarmState, DeleteAlarms and
ListTagsForResource and adds PutCompositeAlarm and PutLogAlarm, following the API
reference and botocore's model:

* DescribeAlarms: pages, filters and kinds as :mod:`devkit.aws.cloudwatch_describe` documents.
* Every alarm has ``StateUpdatedTimestamp`` (moves on every state update) and
  ``StateTransitionedTimestamp`` (moves only when ``StateValue`` changes), both at
  millisecond precision, like every timestamp this module serves.
* Alarms are created in ``INSUFFICIENT_DATA``; updating an alarm with Put* keeps its
  state and ignores ``Tags`` (both documented). ``ActionConfiguration`` is kept. An
  alarm name is unique across the three kinds: Put* of another kind's name is a
  ``ValidationError``.
* PutLogAlarm: the model's constraints and the documented rules :mod:`devkit.aws.cloudwatch_log_alarms` lists.
* A composite alarm with an ``ActionsSuppressor`` reports ``ActionsSuppressedBy`` and
  ``ActionsSuppressedReason`` while its actions are suppressed
  (:mod:`devkit.aws.cloudwatch_alarms` says when).
* DeleteAlarms deletes an alarm's tags with it and refuses more than one composite
  alarm per call; ListTagsForResource of a missing alarm (or alarm mute rule, see
  :mod:`devkit.aws.mute_rules`) is ``ResourceNotFoundException``.

Deliberate simplifications: composite and log alarms are never evaluated (tests set
their state, as :mod:`refresh_api` tests drive refreshes), and a metric alarm's
``EvaluationState`` never changes. AWS documents that a metric alarm's
StateUpdatedTimestamp moves on StateValue *or* EvaluationState updates, and a
composite alarm's on any state update; since tests cannot change EvaluationState
through the API, SetAlarmState always moves StateUpdatedTimestamp, for every kind,
so code that reads it as "in ALARM since" fails here as it would on AWS.

The parts: :mod:`~devkit.aws.cloudwatch_alarms` (kinds, state, suppression),
:mod:`~devkit.aws.cloudwatch_describe`, :mod:`~devkit.aws.cloudwatch_log_alarms`,
:mod:`~devkit.aws.cloudwatch_protocol` (model constraints, errors, page tokens) and
:mod:`~devkit.aws.cloudwatch_clock`; this module serves the other actions and installs them.

The control API: :func:`set_state` sets a state and both timestamps explicitly, so
no test depends on two clock readings falling in different milliseconds;
:func:`set_clock` stops the emulator's clock (shared with the mute rules) at a
chosen instant; :func:`suppression` is what a composite alarm's state-change event
says about its actions at a given instant.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.cloudwatch.exceptions import ResourceNotFoundException, ValidationError
from moto.cloudwatch.models import Alarm, CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.base_backend import BackendDict
from moto.core.responses import ActionResult, EmptyResult

from devkit.aws.cloudwatch_alarms import (
    COMPOSITE_ALARM,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    LOCK,
    LOG_ALARM,
    METRIC_ALARM,
    MUTE_RULES_ATTRIBUTE,
    STATE_VALUES,
    actions_suppressed_by,
    alarm_kind,
    carry_state,
    initialise,
    is_composite,
    record_transition,
    suppression_reason,
)
from devkit.aws.cloudwatch_clock import milliseconds, now, set_clock
from devkit.aws.cloudwatch_describe import describe_alarms
from devkit.aws.cloudwatch_log_alarms import check_log_alarm, log_configuration
from devkit.aws.cloudwatch_protocol import check_input, check_limits
from devkit.aws.patch import install_handlers

#: The control API and install (the handlers are reached through moto, never imported).
__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "install",
    "milliseconds",
    "now",
    "set_clock",
    "set_state",
    "suppression",
]


# --------------------------------------------------------------------------- put, set, delete, tags


_ARTICLES = {METRIC_ALARM: "a metric alarm", COMPOSITE_ALARM: "a composite alarm", LOG_ALARM: "a log alarm"}


def _refuse_other_kind(backend: CloudWatchBackend, name: str, kind: str) -> None:
    existing = backend.alarms.get(name)
    if existing is not None and alarm_kind(existing) != kind:
        raise ValidationError(f"An alarm named {name} already exists as {_ARTICLES[alarm_kind(existing)]}.")


def _restore_tags(backend: CloudWatchBackend, arn: str, tags: dict[str, str]) -> None:
    backend.tagger.delete_all_tags_for_resource(arn)
    if tags:
        backend.tagger.tag_resource(arn, [{"Key": key, "Value": value} for key, value in tags.items()])


def _put(
    response: CloudWatchResponse, kind: str, create: Callable[[CloudWatchBackend, dict[str, Any]], Alarm]
) -> ActionResult:
    """Create or update an alarm the way AWS does: updates keep state and ignore Tags."""
    params: dict[str, Any] = dict(response.params)
    backend = response.cloudwatch_backend
    with LOCK:
        _refuse_other_kind(backend, params["AlarmName"], kind)
        previous = backend.alarms.get(params["AlarmName"])
        previous_tags = backend.tagger.get_tag_dict_for_resource(previous.alarm_arn) if previous else {}
        alarm = create(backend, params)
        moment = now()
        alarm.configuration_updated_timestamp = moment
        alarm.action_configuration = params.get("ActionConfiguration")  # type: ignore[attr-defined]
        if previous is None:
            initialise(alarm, moment)
        else:
            carry_state(previous, alarm)
            _restore_tags(backend, alarm.alarm_arn, previous_tags)
    return EmptyResult()


_moto_put_metric_alarm = CloudWatchResponse.put_metric_alarm
_moto_set_alarm_state = CloudWatchResponse.set_alarm_state
_moto_list_tags_for_resource = CloudWatchResponse.list_tags_for_resource


def put_metric_alarm(self: CloudWatchResponse) -> ActionResult:
    def create(backend: CloudWatchBackend, params: dict[str, Any]) -> Alarm:
        _moto_put_metric_alarm(self)
        return backend.alarms[params["AlarmName"]]

    return _put(self, METRIC_ALARM, create)


def _bare_alarm(backend: CloudWatchBackend, params: dict[str, Any], rule: str | None) -> Alarm:
    """A moto Alarm with the members every kind shares (composite and log alarms have no metric)."""
    return backend.put_metric_alarm(
        name=params["AlarmName"],
        namespace=None,  # type: ignore[arg-type]
        metric_name=None,  # type: ignore[arg-type]
        comparison_operator=None,  # type: ignore[arg-type]
        evaluation_periods=None,  # type: ignore[arg-type]
        period=None,  # type: ignore[arg-type]
        threshold=None,  # type: ignore[arg-type]
        statistic=None,  # type: ignore[arg-type]
        description=params.get("AlarmDescription"),  # type: ignore[arg-type]
        dimensions=[],
        alarm_actions=list(params.get("AlarmActions") or []),
        ok_actions=list(params.get("OKActions") or []),
        insufficient_data_actions=list(params.get("InsufficientDataActions") or []),
        actions_enabled=params.get("ActionsEnabled", True),
        rule=rule,
        tags=list(params.get("Tags") or []),
    )


def put_composite_alarm(self: CloudWatchResponse) -> ActionResult:
    def create(backend: CloudWatchBackend, params: dict[str, Any]) -> Alarm:
        suppressor = params.get("ActionsSuppressor")
        if suppressor and (
            params.get("ActionsSuppressorWaitPeriod") is None or params.get("ActionsSuppressorExtensionPeriod") is None
        ):
            raise ValidationError(
                "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required "
                "when ActionsSuppressor is specified."
            )
        alarm = _bare_alarm(backend, params, params["AlarmRule"])
        alarm.actions_suppressor = suppressor  # type: ignore[attr-defined]
        alarm.actions_suppressor_wait_period = params.get("ActionsSuppressorWaitPeriod")  # type: ignore[attr-defined]
        alarm.actions_suppressor_extension_period = params.get("ActionsSuppressorExtensionPeriod")  # type: ignore[attr-defined]
        return alarm

    return _put(self, COMPOSITE_ALARM, create)


def put_log_alarm(self: CloudWatchResponse) -> ActionResult:
    params: dict[str, Any] = dict(self.params)
    check_input("PutLogAlarm", params)
    check_log_alarm(params)

    def create(backend: CloudWatchBackend, params: dict[str, Any]) -> Alarm:
        previous = backend.alarms.get(params["AlarmName"])
        query_arn = (
            previous.log_alarm["ScheduledQueryConfiguration"]["QueryARN"]  # type: ignore[attr-defined]
            if previous is not None
            else f"arn:aws:logs:{backend.region_name}:{backend.account_id}:scheduled-query:{uuid.uuid4()}"
        )
        alarm = _bare_alarm(backend, params, None)
        alarm.log_alarm = log_configuration(params, query_arn)  # type: ignore[attr-defined]
        return alarm

    return _put(self, LOG_ALARM, create)


def set_alarm_state(self: CloudWatchResponse) -> ActionResult:
    name = self._get_param("AlarmName")
    with LOCK:
        before = self.cloudwatch_backend.alarms.get(name)
        previous_value = before.state_value if before is not None else None
        _moto_set_alarm_state(self)  # moto validates StateValue, StateReasonData and the name
        alarm = self.cloudwatch_backend.alarms[name]
        moment = now()
        alarm.state_updated_timestamp = moment
        if alarm.state_value != previous_value:
            alarm.state_transitioned_timestamp = moment  # type: ignore[attr-defined]
        record_transition(alarm, previous_value, moment)
    return EmptyResult()


def delete_alarms(self: CloudWatchResponse) -> ActionResult:
    names: list[str] = list(self._get_param("AlarmNames", []))
    backend = self.cloudwatch_backend
    with LOCK:
        composites = {name for name in names if name in backend.alarms and is_composite(backend.alarms[name])}
        if len(composites) > 1:
            raise ValidationError("You can delete no more than one composite alarm in one DeleteAlarms call.")
        # Names that match no alarm are skipped, as documented.
        for name in names:
            alarm = backend.alarms.pop(name, None)
            if alarm is not None:
                backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
    return EmptyResult()


def list_tags_for_resource(self: CloudWatchResponse) -> ActionResult:
    check_limits("ListTagsForResource", dict(self.params))
    arn: str = self._get_param("ResourceARN")
    backend = self.cloudwatch_backend
    if ":alarm:" in arn and not any(alarm.alarm_arn == arn for alarm in backend.alarms.values()):
        raise ResourceNotFoundException(f"Alarm {arn.rsplit(':alarm:', 1)[-1]} does not exist.")
    if ":alarm-mute-rule:" in arn:
        name = arn.rsplit(":alarm-mute-rule:", 1)[-1]
        rule = getattr(backend, MUTE_RULES_ATTRIBUTE, {}).get(name)
        if rule is None or rule.arn != arn:
            raise ResourceNotFoundException(f"Alarm mute rule {name} does not exist.")
    return _moto_list_tags_for_resource(self)


# --------------------------------------------------------------------------- install


_HANDLERS: dict[str, Callable[[CloudWatchResponse], ActionResult]] = {
    "put_metric_alarm": put_metric_alarm,
    "put_composite_alarm": put_composite_alarm,
    "put_log_alarm": put_log_alarm,
    "describe_alarms": describe_alarms,
    "set_alarm_state": set_alarm_state,
    "delete_alarms": delete_alarms,
    "list_tags_for_resource": list_tags_for_resource,
}


def install() -> None:
    """Serve the alarm actions above with AWS's behaviour (idempotent); moto's reset also frees the clock."""
    if install_handlers(CloudWatchResponse, "_strict_alarm_emulation", _HANDLERS):
        _hook_moto_reset()


def _hook_moto_reset() -> None:
    # /moto-api/reset and mock_aws both go through BackendDict.reset; the clock is process-wide, so it goes here.
    previous_reset = BackendDict.reset

    def reset_with_clock(cls: type[BackendDict[Any]]) -> None:
        previous_reset()
        set_clock(None)

    BackendDict.reset = classmethod(reset_with_clock)  # type: ignore[method-assign, assignment]


# --------------------------------------------------------------------------- control API


def set_state(
    name: str,
    value: str,
    *,
    transitioned_at: datetime,
    updated_at: datetime | None = None,
    reason: str = "Set by the test scenario",
    reason_data: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> None:
    """Put alarm ``name`` in ``value`` since ``transitioned_at``, last updated at ``updated_at``.

    ``updated_at`` defaults to ``transitioned_at`` and may not precede it. Both are
    truncated to milliseconds, as CloudWatch reports them. Scenarios such as "in
    ALARM since before the refresh, updated after it" need no sleeping and no luck.
    An alarm taken out of ALARM left it at ``transitioned_at`` (a suppressor's
    ExtensionPeriod starts then).
    """
    if value not in STATE_VALUES:
        raise ValueError(f"{value!r} is not an alarm state; expected one of {sorted(STATE_VALUES)}")
    transitioned = milliseconds(transitioned_at)
    updated = milliseconds(updated_at) if updated_at is not None else transitioned
    if updated < transitioned:
        raise ValueError("updated_at must not precede transitioned_at")
    with LOCK:
        alarm = cloudwatch_backends[account_id][region].alarms.get(name)
        if alarm is None:
            raise LookupError(f"no alarm named {name!r}")
        previous_value = alarm.state_value
        alarm.state_value = value
        alarm.state_reason = reason
        alarm.state_reason_data = reason_data  # type: ignore[assignment]
        alarm.state_transitioned_timestamp = transitioned  # type: ignore[attr-defined]
        alarm.state_updated_timestamp = updated
        record_transition(alarm, previous_value, transitioned)


def suppression(
    alarm_name: str,
    at: datetime,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> tuple[str, str] | None:
    """``(actionsSuppressedBy, actionsSuppressedReason)`` of composite alarm ``alarm_name`` at ``at``, or None.

    What its "Alarm State Change" event's ``detail.state`` carries, and what
    DescribeAlarms reports at that instant, from the states and times the alarms
    have now. None when the alarm's actions are not suppressed (including any alarm
    that is not a composite alarm with an ActionsSuppressor, or is not in ALARM).
    """
    moment = milliseconds(at)
    with LOCK:
        backend = cloudwatch_backends[account_id][region]
        alarm = backend.alarms.get(alarm_name)
        if alarm is None:
            raise LookupError(f"no alarm named {alarm_name!r}")
        if not is_composite(alarm):
            return None
        kind = actions_suppressed_by(backend, alarm, moment)
    return None if kind is None else (kind, suppression_reason(kind))
