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

* DescribeAlarms: ``MaxRecords`` 1 to 100 (``ValidationError`` above 100; botocore
  refuses 0 client-side), 50 by default, one ``NextToken`` across metric, composite
  *and* log alarms (``InvalidNextToken`` for a token not issued here). Filters
  combine: ``StateValue`` AND (``AlarmNamePrefix`` or ``AlarmNames``, not both)
  AND ``ActionPrefix``. ``AlarmTypes`` defaults to ``MetricAlarm`` only; each kind
  is listed under its own key (``MetricAlarms``, ``CompositeAlarms``, ``LogAlarms``)
  only when asked for. ``ChildrenOfAlarmName`` / ``ParentsOfAlarmName`` return only
  what the model's documentation says they return, and refuse other filters.
* Every alarm has ``StateUpdatedTimestamp`` (moves on every state update) and
  ``StateTransitionedTimestamp`` (moves only when ``StateValue`` changes), both at
  millisecond precision, like every timestamp this module serves.
* Alarms are created in ``INSUFFICIENT_DATA``; updating an alarm with Put* keeps its
  state and ignores ``Tags`` (both documented). ``ActionConfiguration`` is kept. An
  alarm name is unique across the three kinds: Put* of another kind's name is a
  ``ValidationError``.
* PutLogAlarm checks the model's required members, lengths and ranges
  (``ValidationError``), the rules its documentation adds between members
  (``QueryResultsToAlarm`` ≤ ``QueryResultsToEvaluate``, ``ActionLogLineRoleArn``
  when ``ActionLogLineCount`` > 0, ``EndTimeOffset`` < ``StartTimeOffset``:
  ``ValidationError``) and the values it documents where the model does not
  (``rate()`` schedules, 1 to 100 query results, 0 to 50 log lines, the four threshold
  operators, the four ``TreatMissingData`` values: ``InvalidParameterValue``).
* A composite alarm with an ``ActionsSuppressor`` reports ``ActionsSuppressedBy``
  and ``ActionsSuppressedReason`` while its actions are suppressed, as the
  CompositeAlarm reference and the "Suppressing composite alarm actions" guide
  describe: ``Alarm`` while the suppressor is in ALARM; ``ExtensionPeriod`` for
  ``ActionsSuppressorExtensionPeriod`` seconds after the suppressor left ALARM;
  ``WaitPeriod`` for ``ActionsSuppressorWaitPeriod`` seconds after the composite
  entered ALARM, unless the suppressor has been in ALARM since. Both fields appear
  only while the composite alarm is in ALARM: the wait period is defined from the
  composite's entering ALARM, and every example AWS documents is of a composite in
  ALARM. The reason reads "Actions suppressed by <kind>", the one text AWS shows.
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

The control API: :func:`set_state` sets a state and both timestamps explicitly, so
no test depends on two clock readings falling in different milliseconds;
:func:`set_clock` stops the emulator's clock (shared with the mute rules) at a
chosen instant; :func:`suppression` is what a composite alarm's state-change event
says about its actions at a given instant.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from botocore.model import ListShape, Shape, StructureShape
from botocore.session import get_session
from moto.cloudwatch.exceptions import (
    InvalidParameterCombination,
    InvalidParameterValue,
    ResourceNotFoundException,
    ValidationError,
)
from moto.cloudwatch.models import Alarm, CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.base_backend import BackendDict
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult

from devkit.aws.model_limits import limit_problem
from devkit.aws.patch import install_handlers

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

STATE_VALUES = frozenset({"OK", "ALARM", "INSUFFICIENT_DATA"})
METRIC_ALARM, COMPOSITE_ALARM, LOG_ALARM = "MetricAlarm", "CompositeAlarm", "LogAlarm"
ALARM_TYPES = frozenset({METRIC_ALARM, COMPOSITE_ALARM, LOG_ALARM})
#: DescribeAlarms' key for each kind of alarm.
RESULT_KEYS = {METRIC_ALARM: "MetricAlarms", COMPOSITE_ALARM: "CompositeAlarms", LOG_ALARM: "LogAlarms"}
#: AWS does not document DescribeAlarms' default page size; 50 is what it answers with.
DEFAULT_MAX_RECORDS = 50
MAX_MAX_RECORDS = 100
INITIAL_REASON = "Unchecked: Initial alarm creation"

#: CompositeAlarm.ActionsSuppressedBy, in the model's spelling.
SUPPRESSED_BY_ALARM, SUPPRESSED_BY_WAIT, SUPPRESSED_BY_EXTENSION = "Alarm", "WaitPeriod", "ExtensionPeriod"

#: PutLogAlarm's documentation narrows what its model allows.
LOG_ALARM_OPERATORS = frozenset(
    {"GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}
)
TREAT_MISSING_DATA = frozenset({"breaching", "notBreaching", "ignore", "missing"})
MAX_QUERY_RESULTS = 100
MAX_ACTION_LOG_LINES = 50
_RATE = re.compile(r"rate\((?P<value>[1-9]\d*) (?P<unit>minute|minutes|hour|hours|day|days)\)")

#: Attribute of moto's cloudwatch backend that holds the alarm mute rules (devkit.aws.mute_rules).
MUTE_RULES_ATTRIBUTE = "_alarm_mute_rules"

_LOCK = threading.RLock()
#: ALARM(name), OK("name"), INSUFFICIENT_DATA(arn) in an AlarmRule.
_RULE_REFERENCE = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*\"?([^()\"]+?)\"?\s*\)")


class CloudWatchError(ServiceException):
    """An error the cloudwatch model declares (e.g. InvalidNextToken → 400)."""


# --------------------------------------------------------------------------- time


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


def now() -> datetime:
    """The emulator's clock, to the millisecond: the wall clock unless :func:`set_clock` stopped it."""
    return milliseconds(_CLOCK.stopped_at or datetime.now(UTC))


# --------------------------------------------------------------------------- the model's constraints


@cache
def _input_shape(operation: str) -> StructureShape:
    shape = get_session().get_service_model("cloudwatch").operation_model(operation).input_shape
    assert isinstance(shape, StructureShape)
    return shape


def input_problem(operation: str, params: Mapping[str, Any]) -> str | None:
    """AWS's ``ValidationError`` message for the first model constraint ``params`` break, or None.

    botocore checks required members, minimums and enums before sending, but a client
    can turn that off; AWS checks them all again, and the maximums botocore never checks.
    """
    return limit_problem("cloudwatch", operation, params) or _structure_problem(_input_shape(operation), params, "")


def check_input(operation: str, params: Mapping[str, Any]) -> None:
    """Raise AWS's ``ValidationError`` if ``params`` break a constraint of the operation's model."""
    problem = input_problem(operation, params)
    if problem:
        raise ValidationError(problem)


def _structure_problem(shape: StructureShape, params: Mapping[str, Any], path: str) -> str | None:
    for name, member in shape.members.items():
        where = f"{path}{name[:1].lower()}{name[1:]}"
        value = params.get(name)
        if value is None:
            if name in shape.required_members:
                return _violation(None, where, "Member must not be null")
            continue
        problem = _value_problem(member, value, where)
        if problem:
            return problem
    return None


def _value_problem(shape: Shape, value: Any, path: str) -> str | None:  # noqa: PLR0911 - one return per check
    low = shape.metadata.get("min")
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return _structure_problem(shape, value, f"{path}.")
    if isinstance(shape, ListShape) and isinstance(value, list):
        if low is not None and len(value) < low:
            return _violation(value, path, f"Member must have length greater than or equal to {low}")
        for item in value:
            problem = _value_problem(shape.member, item, f"{path}.member")
            if problem:
                return problem
        return None
    if isinstance(value, str):
        if low is not None and len(value) < low:
            return _violation(value, path, f"Member must have length greater than or equal to {low}")
        enum: list[str] = getattr(shape, "enum", [])
        if enum and value not in enum:
            return _violation(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        high = shape.metadata.get("max")
        if low is not None and value < low:
            return _violation(value, path, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            return _violation(value, path, f"Member must have value less than or equal to {high}")
    return None


def _violation(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"1 validation error detected: Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _check_limits(operation: str, params: dict[str, Any]) -> None:
    """The model's maximums (botocore sends a request that breaks them; AWS refuses it)."""
    problem = limit_problem("cloudwatch", operation, params)
    if problem:
        raise ValidationError(problem)


# --------------------------------------------------------------------------- alarm state
# The extra state lives on moto's Alarm objects, so moto's reset forgets it with them.


def alarm_kind(alarm: Alarm) -> str:
    """MetricAlarm, CompositeAlarm or LogAlarm (log alarms carry their configuration in ``log_alarm``)."""
    if getattr(alarm, "log_alarm", None) is not None:
        return LOG_ALARM
    return COMPOSITE_ALARM if alarm.rule is not None else METRIC_ALARM


def _is_composite(alarm: Alarm) -> bool:
    return alarm_kind(alarm) == COMPOSITE_ALARM


_ARTICLES = {METRIC_ALARM: "a metric alarm", COMPOSITE_ALARM: "a composite alarm", LOG_ALARM: "a log alarm"}


def _refuse_other_kind(backend: CloudWatchBackend, name: str, kind: str) -> None:
    existing = backend.alarms.get(name)
    if existing is not None and alarm_kind(existing) != kind:
        raise ValidationError(f"An alarm named {name} already exists as {_ARTICLES[alarm_kind(existing)]}.")


def _initialise(alarm: Alarm, moment: datetime) -> None:
    alarm.state_value = "INSUFFICIENT_DATA"
    alarm.state_reason = INITIAL_REASON
    alarm.state_reason_data = None  # type: ignore[assignment]
    alarm.state_updated_timestamp = moment
    alarm.state_transitioned_timestamp = moment  # type: ignore[attr-defined]
    alarm.left_alarm_at = None  # type: ignore[attr-defined]


def _carry_state(previous: Alarm, alarm: Alarm) -> None:
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


def _record_transition(alarm: Alarm, previous_value: str | None, moment: datetime) -> None:
    """Remember when the alarm left ALARM: a composite alarm's ExtensionPeriod starts then."""
    if previous_value == "ALARM" and alarm.state_value != "ALARM":
        alarm.left_alarm_at = moment  # type: ignore[attr-defined]


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
    with _LOCK:
        _refuse_other_kind(backend, params["AlarmName"], kind)
        previous = backend.alarms.get(params["AlarmName"])
        previous_tags = backend.tagger.get_tag_dict_for_resource(previous.alarm_arn) if previous else {}
        alarm = create(backend, params)
        moment = now()
        alarm.configuration_updated_timestamp = moment
        alarm.action_configuration = params.get("ActionConfiguration")  # type: ignore[attr-defined]
        if previous is None:
            _initialise(alarm, moment)
        else:
            _carry_state(previous, alarm)
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
    _check_log_alarm(params)

    def create(backend: CloudWatchBackend, params: dict[str, Any]) -> Alarm:
        previous = backend.alarms.get(params["AlarmName"])
        query_arn = (
            previous.log_alarm["ScheduledQueryConfiguration"]["QueryARN"]  # type: ignore[attr-defined]
            if previous is not None
            else f"arn:aws:logs:{backend.region_name}:{backend.account_id}:scheduled-query:{uuid.uuid4()}"
        )
        alarm = _bare_alarm(backend, params, None)
        alarm.log_alarm = _log_configuration(params, query_arn)  # type: ignore[attr-defined]
        return alarm

    return _put(self, LOG_ALARM, create)


def _check_log_alarm(params: Mapping[str, Any]) -> None:
    """What PutLogAlarm's documentation requires beyond its model."""
    query = params["ScheduledQueryConfiguration"]
    schedule = query["ScheduleConfiguration"]
    expression = schedule["ScheduleExpression"]
    rate = _RATE.fullmatch(expression)
    if rate is None or (rate["value"] == "1") != (not rate["unit"].endswith("s")):
        raise InvalidParameterValue(
            f"The value {expression} for parameter ScheduleExpression is not supported: use rate(N minutes|hours|days)."
        )
    if params["QueryResultsToEvaluate"] > MAX_QUERY_RESULTS:
        raise InvalidParameterValue(
            f"The value {params['QueryResultsToEvaluate']} for parameter QueryResultsToEvaluate is not supported: "
            f"the valid range is 1 through {MAX_QUERY_RESULTS}."
        )
    line_count = params.get("ActionLogLineCount")
    if line_count is not None and not 0 <= line_count <= MAX_ACTION_LOG_LINES:
        raise InvalidParameterValue(
            f"The value {line_count} for parameter ActionLogLineCount is not supported: "
            f"the valid range is 0 through {MAX_ACTION_LOG_LINES}."
        )
    if params["ComparisonOperator"] not in LOG_ALARM_OPERATORS:
        raise InvalidParameterValue(
            f"The value {params['ComparisonOperator']} for parameter ComparisonOperator is not supported "
            "for log alarms."
        )
    treat = params.get("TreatMissingData")
    if treat is not None and treat not in TREAT_MISSING_DATA:
        raise InvalidParameterValue(f"The value {treat} for parameter TreatMissingData is not supported.")
    if params["QueryResultsToAlarm"] > params["QueryResultsToEvaluate"]:
        raise ValidationError("QueryResultsToAlarm must be less than or equal to QueryResultsToEvaluate.")
    if line_count and not params.get("ActionLogLineRoleArn"):
        raise ValidationError("ActionLogLineRoleArn is required when ActionLogLineCount is greater than 0.")
    end = schedule.get("EndTimeOffset")
    if end is not None and end >= schedule["StartTimeOffset"]:
        raise ValidationError("EndTimeOffset must be less than StartTimeOffset.")


def _log_configuration(params: Mapping[str, Any], query_arn: str) -> dict[str, Any]:
    """The LogAlarm members only log alarms have, as DescribeAlarms returns them."""
    query = dict(params["ScheduledQueryConfiguration"])
    query.pop("Tags", None)  # they tag the scheduled query, and LogAlarm's shape has no place for them
    query["QueryARN"] = query_arn
    return {
        "ScheduledQueryConfiguration": query,
        "QueryResultsToEvaluate": params["QueryResultsToEvaluate"],
        "QueryResultsToAlarm": params["QueryResultsToAlarm"],
        "Threshold": params["Threshold"],
        "ComparisonOperator": params["ComparisonOperator"],
        "TreatMissingData": params.get("TreatMissingData", "missing"),
        "ActionLogLineCount": params.get("ActionLogLineCount", 0),
        "ActionLogLineRoleArn": params.get("ActionLogLineRoleArn"),
        "WarmUpConfiguration": params.get("WarmUpConfiguration"),
    }


def set_alarm_state(self: CloudWatchResponse) -> ActionResult:
    name = self._get_param("AlarmName")
    with _LOCK:
        before = self.cloudwatch_backend.alarms.get(name)
        previous_value = before.state_value if before is not None else None
        _moto_set_alarm_state(self)  # moto validates StateValue, StateReasonData and the name
        alarm = self.cloudwatch_backend.alarms[name]
        moment = now()
        alarm.state_updated_timestamp = moment
        if alarm.state_value != previous_value:
            alarm.state_transitioned_timestamp = moment  # type: ignore[attr-defined]
        _record_transition(alarm, previous_value, moment)
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
    backend = self.cloudwatch_backend
    if ":alarm:" in arn and not any(alarm.alarm_arn == arn for alarm in backend.alarms.values()):
        raise ResourceNotFoundException(f"Alarm {arn.rsplit(':alarm:', 1)[-1]} does not exist.")
    if ":alarm-mute-rule:" in arn:
        name = arn.rsplit(":alarm-mute-rule:", 1)[-1]
        rule = getattr(backend, MUTE_RULES_ATTRIBUTE, {}).get(name)
        if rule is None or rule.arn != arn:
            raise ResourceNotFoundException(f"Alarm mute rule {name} does not exist.")
    return _moto_list_tags_for_resource(self)


# --------------------------------------------------------------------------- suppression


def _suppressor_of(backend: CloudWatchBackend, composite: Alarm) -> Alarm | None:
    reference: str | None = getattr(composite, "actions_suppressor", None)
    if not reference:
        return None
    return backend.alarms.get(reference.rsplit(":alarm:", 1)[-1])


def _suppressed_by(backend: CloudWatchBackend, composite: Alarm, at: datetime) -> str | None:
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


def _suppression_reason(kind: str) -> str:
    """AWS's example event reads "Actions suppressed by WaitPeriod"; the same pattern is used for every kind."""
    return f"Actions suppressed by {kind}"


# --------------------------------------------------------------------------- DescribeAlarms


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


def encode_token(after: str, scope: str) -> str:
    """A NextToken for the page after the item named ``after`` of the listing ``scope`` (an operation name)."""
    return base64.urlsafe_b64encode(json.dumps({"after": after, "scope": scope}).encode()).decode()


def decode_token(token: str, scope: str) -> str:
    """The name after which the page ``token`` stands for starts; ``InvalidNextToken`` if not issued by ``scope``."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        if decoded["scope"] == scope:
            return str(decoded["after"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError):
        pass
    raise CloudWatchError("InvalidNextToken", "The service returned an invalid token.")


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
            composite = parent is not None and _is_composite(parent)
            children = set(rule_references(parent.rule or "")) if parent is not None and composite else set()
            return [alarm for alarm in alarms if alarm.name in children], {METRIC_ALARM, COMPOSITE_ALARM}, "children"
        parents = [
            alarm for alarm in alarms if _is_composite(alarm) and parents_of in rule_references(alarm.rule or "")
        ]
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
    _check_limits("DescribeAlarms", params)
    max_records = _max_records(params.get("MaxRecords"))
    backend = self.cloudwatch_backend
    with _LOCK:
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
    suppressed_by = _suppressed_by(backend, alarm, moment)
    wire = {
        **_common(alarm),
        "AlarmRule": alarm.rule,
        "ActionsSuppressedBy": suppressed_by,
        "ActionsSuppressedReason": _suppression_reason(suppressed_by) if suppressed_by else None,
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


def set_clock(moment: datetime | None) -> None:
    """Stop the emulator's clock at ``moment`` (to the millisecond); None (or moto's reset) restarts it.

    Every time this module and :mod:`devkit.aws.mute_rules` stamp or compare against
    reads this clock: StateUpdatedTimestamp, mute rule statuses, composite alarms'
    suppression. A test of a status that changes with time sets each instant it needs.
    """
    _CLOCK.stopped_at = None if moment is None else milliseconds(moment)


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
    with _LOCK:
        alarm = cloudwatch_backends[account_id][region].alarms.get(name)
        if alarm is None:
            raise LookupError(f"no alarm named {name!r}")
        previous_value = alarm.state_value
        alarm.state_value = value
        alarm.state_reason = reason
        alarm.state_reason_data = reason_data  # type: ignore[assignment]
        alarm.state_transitioned_timestamp = transitioned  # type: ignore[attr-defined]
        alarm.state_updated_timestamp = updated
        _record_transition(alarm, previous_value, transitioned)


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
    with _LOCK:
        backend = cloudwatch_backends[account_id][region]
        alarm = backend.alarms.get(alarm_name)
        if alarm is None:
            raise LookupError(f"no alarm named {alarm_name!r}")
        if not _is_composite(alarm):
            return None
        kind = _suppressed_by(backend, alarm, moment)
    return None if kind is None else (kind, _suppression_reason(kind))
