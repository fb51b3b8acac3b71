"""CloudWatch alarms for moto, as strict as AWS documents them.

moto 5.2.5 is kinder than CloudWatch in ways that hide real bugs: DescribeAlarms
returns every alarm in one page, drops ``StateValue`` when a name prefix or names
are given, returns composite alarms without being asked, has no
``StateTransitionedTimestamp``, keeps microseconds, has no PutCompositeAlarm, and
lists the tags of a deleted alarm. :func:`install` replaces moto's handlers for
PutMetricAlarm, DescribeAlarms, SetAlarmState, DeleteAlarms and
ListTagsForResource and adds PutCompositeAlarm, following the API reference and
botocore's model:

* DescribeAlarms: ``MaxRecords`` 1 to 100 (``ValidationError`` above 100; botocore
  refuses 0 client-side), 50 by default, ``NextToken`` across metric *and*
  composite alarms (``InvalidNextToken`` for a token not issued here). Filters
  combine: ``StateValue`` AND (``AlarmNamePrefix`` or ``AlarmNames``, not both)
  AND ``ActionPrefix``. ``AlarmTypes`` defaults to ``MetricAlarm`` only; no log
  alarms exist here, so ``LogAlarm`` yields an empty ``LogAlarms``.
  ``ChildrenOfAlarmName`` / ``ParentsOfAlarmName`` return only what the model's
  documentation says they return, and refuse other filters.
* Every alarm has ``StateUpdatedTimestamp`` (moves on every state update) and
  ``StateTransitionedTimestamp`` (moves only when ``StateValue`` changes), both at
  millisecond precision, like every timestamp this module serves.
* Alarms are created in ``INSUFFICIENT_DATA``; updating an alarm with Put* keeps its
  state and ignores ``Tags`` (both documented). ``ActionConfiguration`` is kept.
* DeleteAlarms deletes an alarm's tags with it and refuses more than one composite
  alarm per call; ListTagsForResource of a missing alarm is ``ResourceNotFoundException``.

Deliberate simplifications: composite alarms are never evaluated (tests set their
state, as :mod:`refresh_api` tests drive refreshes), actions are never suppressed,
and a metric alarm's ``EvaluationState`` never changes. AWS documents that a metric
alarm's StateUpdatedTimestamp moves on StateValue *or* EvaluationState updates, and
a composite alarm's on any state update; since tests cannot change EvaluationState
through the API, SetAlarmState always moves StateUpdatedTimestamp, for both kinds,
so code that reads it as "in ALARM since" fails here as it would on AWS.

:func:`set_state` is the control API: it sets a state and both timestamps
explicitly, so no test depends on two clock readings falling in different
milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.exceptions import (
    InvalidParameterCombination,
    ResourceNotFoundException,
    ValidationError,
)
from moto.cloudwatch.models import Alarm, CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult

from devkit.aws.model_limits import limit_problem
from devkit.aws.patch import install_handlers

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

STATE_VALUES = frozenset({"OK", "ALARM", "INSUFFICIENT_DATA"})
ALARM_TYPES = frozenset({"MetricAlarm", "CompositeAlarm", "LogAlarm"})
#: AWS does not document DescribeAlarms' default page size; 50 is what it answers with.
DEFAULT_MAX_RECORDS = 50
MAX_MAX_RECORDS = 100
INITIAL_REASON = "Unchecked: Initial alarm creation"

_LOCK = threading.RLock()
#: ALARM(name), OK("name"), INSUFFICIENT_DATA(arn) in an AlarmRule.
_RULE_REFERENCE = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*\"?([^()\"]+?)\"?\s*\)")


class CloudWatchError(ServiceException):
    """An error the cloudwatch model declares (e.g. InvalidNextToken → 400)."""


# --------------------------------------------------------------------------- time


def _ms(moment: datetime) -> datetime:
    """``moment`` in UTC, truncated to CloudWatch's millisecond precision."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _now() -> datetime:
    return _ms(datetime.now(UTC))


# --------------------------------------------------------------------------- alarm state
# The extra state lives on moto's Alarm objects, so moto's reset forgets it with them.


def _is_composite(alarm: Alarm) -> bool:
    return alarm.rule is not None


def _initialise(alarm: Alarm, now: datetime) -> None:
    alarm.state_value = "INSUFFICIENT_DATA"
    alarm.state_reason = INITIAL_REASON
    alarm.state_reason_data = None
    alarm.state_updated_timestamp = now
    alarm.state_transitioned_timestamp = now  # type: ignore[attr-defined]


def _carry_state(previous: Alarm, alarm: Alarm) -> None:
    for attribute in (
        "state_value",
        "state_reason",
        "state_reason_data",
        "state_updated_timestamp",
        "state_transitioned_timestamp",
        "history",
    ):
        setattr(alarm, attribute, getattr(previous, attribute, None))


def _restore_tags(backend: CloudWatchBackend, arn: str, tags: dict[str, str]) -> None:
    backend.tagger.delete_all_tags_for_resource(arn)
    if tags:
        backend.tagger.tag_resource(arn, [{"Key": key, "Value": value} for key, value in tags.items()])


def _put(response: CloudWatchResponse, create: Callable[[CloudWatchBackend, dict[str, Any]], Alarm]) -> ActionResult:
    """Create or update an alarm the way AWS does: updates keep state and ignore Tags."""
    params: dict[str, Any] = dict(response.params)
    backend = response.cloudwatch_backend
    with _LOCK:
        previous = backend.alarms.get(params["AlarmName"])
        previous_tags = backend.tagger.get_tag_dict_for_resource(previous.alarm_arn) if previous else {}
        alarm = create(backend, params)
        now = _now()
        alarm.configuration_updated_timestamp = now
        alarm.action_configuration = params.get("ActionConfiguration")  # type: ignore[attr-defined]
        if previous is None:
            _initialise(alarm, now)
        else:
            _carry_state(previous, alarm)
            _restore_tags(backend, alarm.alarm_arn, previous_tags)
    return EmptyResult()


_moto_put_metric_alarm = CloudWatchResponse.put_metric_alarm
_moto_set_alarm_state = CloudWatchResponse.set_alarm_state
_moto_list_tags_for_resource = CloudWatchResponse.list_tags_for_resource


def put_metric_alarm(self: CloudWatchResponse) -> ActionResult:
    def create(backend: CloudWatchBackend, params: dict[str, Any]) -> Alarm:
        existing = backend.alarms.get(params["AlarmName"])
        if existing is not None and _is_composite(existing):
            raise ValidationError(f"An alarm named {params['AlarmName']} already exists as a composite alarm.")
        _moto_put_metric_alarm(self)
        return backend.alarms[params["AlarmName"]]

    return _put(self, create)


def put_composite_alarm(self: CloudWatchResponse) -> ActionResult:
    def create(backend: CloudWatchBackend, params: dict[str, Any]) -> Alarm:
        name = params["AlarmName"]
        existing = backend.alarms.get(name)
        if existing is not None and not _is_composite(existing):
            raise ValidationError(f"An alarm named {name} already exists as a metric alarm.")
        suppressor = params.get("ActionsSuppressor")
        if suppressor and (
            params.get("ActionsSuppressorWaitPeriod") is None or params.get("ActionsSuppressorExtensionPeriod") is None
        ):
            raise ValidationError(
                "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required "
                "when ActionsSuppressor is specified."
            )
        alarm = backend.put_metric_alarm(
            name=name,
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
            actions_enabled=params.get("ActionsEnabled"),  # type: ignore[arg-type]
            rule=params["AlarmRule"],
            tags=list(params.get("Tags") or []),
        )
        alarm.actions_suppressor = suppressor  # type: ignore[attr-defined]
        alarm.actions_suppressor_wait_period = params.get("ActionsSuppressorWaitPeriod")  # type: ignore[attr-defined]
        alarm.actions_suppressor_extension_period = params.get("ActionsSuppressorExtensionPeriod")  # type: ignore[attr-defined]
        return alarm

    return _put(self, create)


def set_alarm_state(self: CloudWatchResponse) -> ActionResult:
    name = self._get_param("AlarmName")
    with _LOCK:
        before = self.cloudwatch_backend.alarms.get(name)
        previous_value = before.state_value if before is not None else None
        _moto_set_alarm_state(self)  # moto validates StateValue, StateReasonData and the name
        alarm = self.cloudwatch_backend.alarms[name]
        now = _now()
        alarm.state_updated_timestamp = now
        if alarm.state_value != previous_value:
            alarm.state_transitioned_timestamp = now  # type: ignore[attr-defined]
    return EmptyResult()


def delete_alarms(self: CloudWatchResponse) -> ActionResult:
    names: list[str] = list(self._get_param("AlarmNames", []))
    backend = self.cloudwatch_backend
    with _LOCK:
        composites = {name for name in names if name in backend.alarms and _is_composite(backend.alarms[name])}
        if len(composites) > 1:
            raise ValidationError("You can delete no more than one composite alarm in one DeleteAlarms call.")
        # Names that match no alarm are skipped, as documented.
        for name in names:
            alarm = backend.alarms.pop(name, None)
            if alarm is not None:
                backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
    return EmptyResult()


def list_tags_for_resource(self: CloudWatchResponse) -> ActionResult:
    _check_limits("ListTagsForResource", dict(self.params))
    arn: str = self._get_param("ResourceARN")
    if ":alarm:" in arn and not any(alarm.alarm_arn == arn for alarm in self.cloudwatch_backend.alarms.values()):
        raise ResourceNotFoundException(f"Alarm {arn.rsplit(':alarm:', 1)[-1]} does not exist.")
    return _moto_list_tags_for_resource(self)


# --------------------------------------------------------------------------- DescribeAlarms


def _check_limits(operation: str, params: dict[str, Any]) -> None:
    """The model's maximums (botocore sends a request that breaks them; AWS refuses it)."""
    problem = limit_problem("cloudwatch", operation, params)
    if problem:
        raise ValidationError(problem)


def _max_records(value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_RECORDS
    records = int(value)
    if not 1 <= records <= MAX_MAX_RECORDS:
        bound = "less than or equal to 100" if records > MAX_MAX_RECORDS else "greater than or equal to 1"
        raise ValidationError(
            f"1 validation error detected: Value '{records}' at 'maxRecords' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )
    return records


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return str(json.loads(base64.urlsafe_b64decode(token.encode()))["after"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError):
        raise CloudWatchError("InvalidNextToken", "The service returned an invalid token.") from None


def rule_references(rule: str) -> list[str]:
    """Names of the alarms an AlarmRule refers to (by name or ARN, quoted or not)."""
    return [reference.strip().rsplit(":alarm:", 1)[-1] for reference in _RULE_REFERENCE.findall(rule)]


def _selected(backend: CloudWatchBackend, params: dict[str, Any]) -> tuple[list[Alarm], set[str], str]:
    """The alarms a request selects, the alarm types to list, and the detail level."""
    alarms = list(backend.alarms.values())
    children_of = params.get("ChildrenOfAlarmName")
    parents_of = params.get("ParentsOfAlarmName")
    if children_of or parents_of:
        if (children_of and parents_of) or set(params) - {
            "ChildrenOfAlarmName",
            "ParentsOfAlarmName",
            "MaxRecords",
            "NextToken",
        }:
            raise ValidationError(
                "If you specify ChildrenOfAlarmName or ParentsOfAlarmName, you cannot specify any other "
                "parameters in the request except for MaxRecords and NextToken."
            )
        if children_of:
            parent = backend.alarms.get(children_of)
            names = set(rule_references(parent.rule)) if parent is not None and _is_composite(parent) else set()
            return [alarm for alarm in alarms if alarm.name in names], {"MetricAlarm", "CompositeAlarm"}, "children"
        parents = [
            alarm for alarm in alarms if _is_composite(alarm) and parents_of in rule_references(alarm.rule or "")
        ]
        return parents, {"CompositeAlarm"}, "parents"

    names = params.get("AlarmNames")
    prefix = params.get("AlarmNamePrefix")
    if names and prefix:
        raise InvalidParameterCombination("AlarmNamePrefix and AlarmNames cannot be specified together.")
    types = set(params.get("AlarmTypes") or ["MetricAlarm"])
    unknown = types - ALARM_TYPES
    if unknown:
        raise ValidationError(
            f"1 validation error detected: Value '{sorted(unknown)}' at 'alarmTypes' failed to satisfy constraint: "
            f"Member must satisfy enum value set: {sorted(ALARM_TYPES)}"
        )
    state = params.get("StateValue")
    action_prefix = params.get("ActionPrefix")
    selected = [
        alarm
        for alarm in alarms
        if (not names or alarm.name in names)
        and (not prefix or alarm.name.startswith(prefix))
        and (not state or alarm.state_value == state)
        and (not action_prefix or any(action.startswith(action_prefix) for action in _actions(alarm)))
    ]
    return selected, types, "full"


def _actions(alarm: Alarm) -> Iterable[str]:
    return [*alarm.alarm_actions, *alarm.ok_actions, *alarm.insufficient_data_actions]


def describe_alarms(self: CloudWatchResponse) -> ActionResult:
    params = {key: value for key, value in dict(self.params).items() if value not in (None, [], "")}
    _check_limits("DescribeAlarms", params)
    max_records = _max_records(params.get("MaxRecords"))
    with _LOCK:
        alarms, types, detail = _selected(self.cloudwatch_backend, params)
        listed = sorted(
            (alarm for alarm in alarms if ("CompositeAlarm" if _is_composite(alarm) else "MetricAlarm") in types),
            key=lambda alarm: alarm.name,
        )
        if params.get("NextToken"):
            after = _decode_token(params["NextToken"])
            listed = [alarm for alarm in listed if alarm.name > after]
        page = listed[:max_records]
        result: dict[str, Any] = {}
        if "MetricAlarm" in types:
            result["MetricAlarms"] = [_wire(alarm, detail) for alarm in page if not _is_composite(alarm)]
        if "CompositeAlarm" in types:
            result["CompositeAlarms"] = [_wire(alarm, detail) for alarm in page if _is_composite(alarm)]
        if "LogAlarm" in types:
            result["LogAlarms"] = []
        if len(listed) > max_records:
            result["NextToken"] = _encode_token(page[-1].name)
    return ActionResult(result)


def _wire(alarm: Alarm, detail: str) -> dict[str, Any]:
    if detail == "parents":
        return {"AlarmName": alarm.name, "AlarmArn": alarm.alarm_arn}
    if detail == "children":
        return {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.alarm_arn,
            "StateValue": alarm.state_value,
            "StateUpdatedTimestamp": alarm.state_updated_timestamp,
        }
    return _composite_wire(alarm) if _is_composite(alarm) else _metric_wire(alarm)


def _common(alarm: Alarm) -> dict[str, Any]:
    return {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "AlarmDescription": alarm.description,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp,
        "ActionsEnabled": alarm.actions_enabled,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "StateValue": alarm.state_value,
        "StateReason": alarm.state_reason,
        "StateReasonData": alarm.state_reason_data,
        "StateUpdatedTimestamp": alarm.state_updated_timestamp,
        "StateTransitionedTimestamp": getattr(alarm, "state_transitioned_timestamp", None),
        "ActionConfiguration": getattr(alarm, "action_configuration", None),
    }


def _metric_wire(alarm: Alarm) -> dict[str, Any]:
    wire = {
        **_common(alarm),
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "Statistic": alarm.statistic,
        "ExtendedStatistic": alarm.extended_statistic,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
        "Period": alarm.period,
        "Unit": alarm.unit,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison_operator,
        "TreatMissingData": alarm.treat_missing_data,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "Metrics": [_query_wire(query) for query in alarm.metric_data_queries] or None,
        "ThresholdMetricId": alarm.threshold_metric_id,
    }
    return _without_none(wire)


def _composite_wire(alarm: Alarm) -> dict[str, Any]:
    wire = {
        **_common(alarm),
        "AlarmRule": alarm.rule,
        "ActionsSuppressor": getattr(alarm, "actions_suppressor", None),
        "ActionsSuppressorWaitPeriod": getattr(alarm, "actions_suppressor_wait_period", None),
        "ActionsSuppressorExtensionPeriod": getattr(alarm, "actions_suppressor_extension_period", None),
    }
    return _without_none(wire)


def _query_wire(query: Any) -> dict[str, Any]:
    stat = query.metric_stat
    metric_stat = None
    if stat is not None:
        metric_stat = _without_none(
            {
                "Metric": _without_none(
                    {
                        "Namespace": stat.metric.namespace,
                        "MetricName": stat.metric.metric_name,
                        "Dimensions": [{"Name": d.name, "Value": d.value} for d in stat.metric.dimensions],
                    }
                ),
                "Period": stat.period,
                "Stat": stat.stat,
                "Unit": stat.unit,
            }
        )
    return _without_none(
        {
            "Id": query.id,
            "MetricStat": metric_stat,
            "Expression": query.expression,
            "Label": query.label,
            "ReturnData": query.return_data,
            "Period": query.period,
        }
    )


def _without_none(wire: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in wire.items() if value is not None}


# --------------------------------------------------------------------------- install


_HANDLERS: dict[str, Callable[[CloudWatchResponse], ActionResult]] = {
    "put_metric_alarm": put_metric_alarm,
    "put_composite_alarm": put_composite_alarm,
    "describe_alarms": describe_alarms,
    "set_alarm_state": set_alarm_state,
    "delete_alarms": delete_alarms,
    "list_tags_for_resource": list_tags_for_resource,
}


def install() -> None:
    """Serve the alarm actions above with AWS's behaviour (idempotent)."""
    install_handlers(CloudWatchResponse, "_strict_alarm_emulation", _HANDLERS)


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
    """
    if value not in STATE_VALUES:
        raise ValueError(f"{value!r} is not an alarm state; expected one of {sorted(STATE_VALUES)}")
    transitioned = _ms(transitioned_at)
    updated = _ms(updated_at) if updated_at is not None else transitioned
    if updated < transitioned:
        raise ValueError("updated_at must not precede transitioned_at")
    with _LOCK:
        alarm = cloudwatch_backends[account_id][region].alarms.get(name)
        if alarm is None:
            raise LookupError(f"no alarm named {name!r}")
        alarm.state_value = value
        alarm.state_reason = reason
        alarm.state_reason_data = reason_data
        alarm.state_transitioned_timestamp = transitioned  # type: ignore[attr-defined]
        alarm.state_updated_timestamp = updated
