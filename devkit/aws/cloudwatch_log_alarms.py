"""PutLogAlarm's rules beyond its model, and the members only log alarms have.

PutLogAlarm checks the model's required members, lengths and ranges
(``ValidationError``), the rules its documentation adds between members
(``QueryResultsToAlarm`` ≤ ``QueryResultsToEvaluate``, ``ActionLogLineRoleArn``
when ``ActionLogLineCount`` > 0, ``EndTimeOffset`` < ``StartTimeOffset``:
``ValidationError``) and the values it documents where the model does not
(``rate()`` schedules, 1 to 100 query results, 0 to 50 log lines, the four threshold
operators, the four ``TreatMissingData`` values: ``InvalidParameterValue``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from moto.cloudwatch.exceptions import InvalidParameterValue, ValidationError

#: PutLogAlarm's documentation narrows what its model allows.
LOG_ALARM_OPERATORS = frozenset(
    {"GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}
)
TREAT_MISSING_DATA = frozenset({"breaching", "notBreaching", "ignore", "missing"})
MAX_QUERY_RESULTS = 100
MAX_ACTION_LOG_LINES = 50
_RATE = re.compile(r"rate\((?P<value>[1-9]\d*) (?P<unit>minute|minutes|hour|hours|day|days)\)")


def check_log_alarm(params: Mapping[str, Any]) -> None:
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


def log_configuration(params: Mapping[str, Any], query_arn: str) -> dict[str, Any]:
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
