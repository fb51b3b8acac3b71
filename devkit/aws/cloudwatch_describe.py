"""DescribeAlarms as CloudWatch answers it.

moto returns every alarm in one page, drops ``StateValue`` when a name prefix or names
are given and returns composite alarms without being asked. Here ``MaxRecords`` is 1 to
100 (``ValidationError`` above 100; botocore refuses 0 client-side), 50 by default, one
``NextToken`` across metric, composite *and* log alarms (``InvalidNextToken`` for a token
not issued here). Filters combine: ``StateValue`` AND (``AlarmNamePrefix`` or
``AlarmNames``, not both) AND ``ActionPrefix``. ``AlarmTypes`` defaults to ``MetricAlarm``
only; each kind is listed under its own key (``MetricAlarms``, ``CompositeAlarms``,
``LogAlarms``) only when asked for. ``ChildrenOfAlarmName`` / ``ParentsOfAlarmName``
return only what the model's documentation says they return, and refuse other filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from moto.cloudwatch.exceptions import InvalidParameterCombination, ValidationError
from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

from devkit.aws.cloudwatch_alarms import (
    ALARM_TYPES,
    COMPOSITE_ALARM,
    LOCK,
    LOG_ALARM,
    METRIC_ALARM,
    actions_suppressed_by,
    alarm_kind,
    is_composite,
    suppression_reason,
)
from devkit.aws.cloudwatch_clock import now
from devkit.aws.cloudwatch_protocol import check_limits, decode_token, encode_token

#: DescribeAlarms' key for each kind of alarm.
RESULT_KEYS = {METRIC_ALARM: "MetricAlarms", COMPOSITE_ALARM: "CompositeAlarms", LOG_ALARM: "LogAlarms"}
#: AWS does not document DescribeAlarms' default page size; 50 is what it answers with.
DEFAULT_MAX_RECORDS = 50
MAX_MAX_RECORDS = 100
#: ALARM(name), OK("name"), INSUFFICIENT_DATA(arn) in an AlarmRule.
_RULE_REFERENCE = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*\"?([^()\"]+?)\"?\s*\)")


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
            composite = parent is not None and is_composite(parent)
            children = set(rule_references(parent.rule or "")) if parent is not None and composite else set()
            return [alarm for alarm in alarms if alarm.name in children], {METRIC_ALARM, COMPOSITE_ALARM}, "children"
        parents = [alarm for alarm in alarms if is_composite(alarm) and parents_of in rule_references(alarm.rule or "")]
        return parents, {COMPOSITE_ALARM}, "parents"

    names = params.get("AlarmNames")
    prefix = params.get("AlarmNamePrefix")
    if names and prefix:
        raise InvalidParameterCombination("AlarmNamePrefix and AlarmNames cannot be specified together.")
    types = set(params.get("AlarmTypes") or [METRIC_ALARM])
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
    check_limits("DescribeAlarms", params)
    max_records = _max_records(params.get("MaxRecords"))
    backend = self.cloudwatch_backend
    with LOCK:
        alarms, types, detail = _selected(backend, params)
        listed = sorted((alarm for alarm in alarms if alarm_kind(alarm) in types), key=lambda alarm: alarm.name)
        if params.get("NextToken"):
            after = decode_token(params["NextToken"], "DescribeAlarms")
            listed = [alarm for alarm in listed if alarm.name > after]
        page = listed[:max_records]
        moment = now()
        result: dict[str, Any] = {
            RESULT_KEYS[kind]: [_wire(backend, alarm, detail, moment) for alarm in page if alarm_kind(alarm) == kind]
            for kind in sorted(types)
        }
        if len(listed) > max_records:
            result["NextToken"] = encode_token(page[-1].name, "DescribeAlarms")
    return ActionResult(result)


def _wire(backend: CloudWatchBackend, alarm: Alarm, detail: str, moment: datetime) -> dict[str, Any]:
    if detail == "parents":
        return {"AlarmName": alarm.name, "AlarmArn": alarm.alarm_arn}
    if detail == "children":
        return {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.alarm_arn,
            "StateValue": alarm.state_value,
            "StateUpdatedTimestamp": alarm.state_updated_timestamp,
        }
    kind = alarm_kind(alarm)
    if kind == COMPOSITE_ALARM:
        return _composite_wire(backend, alarm, moment)
    return _log_wire(alarm) if kind == LOG_ALARM else _metric_wire(alarm)


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


def _composite_wire(backend: CloudWatchBackend, alarm: Alarm, moment: datetime) -> dict[str, Any]:
    suppressed_by = actions_suppressed_by(backend, alarm, moment)
    wire = {
        **_common(alarm),
        "AlarmRule": alarm.rule,
        "ActionsSuppressedBy": suppressed_by,
        "ActionsSuppressedReason": suppression_reason(suppressed_by) if suppressed_by else None,
        "ActionsSuppressor": getattr(alarm, "actions_suppressor", None),
        "ActionsSuppressorWaitPeriod": getattr(alarm, "actions_suppressor_wait_period", None),
        "ActionsSuppressorExtensionPeriod": getattr(alarm, "actions_suppressor_extension_period", None),
    }
    return _without_none(wire)


def _log_wire(alarm: Alarm) -> dict[str, Any]:
    return _without_none({**_common(alarm), **alarm.log_alarm})  # type: ignore[attr-defined]


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
