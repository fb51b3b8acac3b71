"""The saved Logs Insights queries against the JSON lines the function really prints.

Logs Insights cannot run offline, but what it matches can be checked: it discovers
the fields of a JSON log line by their dotted paths (``result.outcome``), and the
saved queries only use ``fields`` and equality ``filter``s on string literals. So
each query is parsed, and its fields and literals are looked up in the lines the
real handler printed for a rollback, a decision on another group, a rejected event
and a failed group, on the embedded AWS.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from auto_rollback.events import InvalidEventError
from auto_rollback.observability import logger
from auto_rollback.vocabulary import INVALID_EVENT, outcome_metric_name
from devkit.aws import refresh_api
from devkit.scenarios.events import alarm_event, manual_event
from devkit.scenarios.fleet import start_refresh
from devkit.scenarios.harness import invoke
from infra.console_events import PLACEHOLDER_GROUP
from infra.dashboard import QUERIES
from tests.integration.conftest import World

_EQUALS = re.compile(r'(?P<field>[\w.@]+) = "(?P<value>[^"]*)"')


@dataclass(frozen=True)
class Query:
    """What a saved query asks of a log line: fields to show, equalities that must all hold."""

    fields: tuple[str, ...]
    filters: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> Query:
        """Only the commands the saved queries use; anything else fails the test, by name."""
        fields: tuple[str, ...] = ()
        filters: list[tuple[str, str]] = []
        for command in text.split("\n| "):
            verb, _, rest = command.partition(" ")
            if verb == "fields":
                fields = tuple(name.strip() for name in rest.split(","))
            elif verb == "filter":
                for condition in rest.split(" and "):
                    match = _EQUALS.fullmatch(condition)
                    assert match, f"cannot check this filter offline: {condition!r}"
                    filters.append((match["field"], match["value"]))
            else:
                assert command in {"sort @timestamp desc"} or re.fullmatch(r"limit \d+", command), command
        return cls(fields, tuple(filters))

    def matches(self, line: dict[str, Any]) -> bool:
        return all(_path(line, field) == value for field, value in self.filters)


def _path(line: dict[str, Any], dotted: str) -> Any:
    """The value Logs Insights shows for a discovered JSON field, or None when the line has none."""
    value: Any = line
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class PrintedLines:
    """Every JSON line the function's logger prints, as Lambda would send it to CloudWatch Logs."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def printed() -> Iterator[PrintedLines]:
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = PrintedLines()
    previous = handler.setStream(captured.stream)
    try:
        yield captured
    finally:
        handler.setStream(previous)


@pytest.fixture
def history(world: World, printed: PrintedLines) -> list[dict[str, Any]]:
    """What an operator's log group holds after a rollback, a decision, a rejected event and a failure."""
    # A rollback of web-prod by its alarm
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    assert invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))["outcome"] == (
        "ROLLBACK_STARTED"
    )
    # A decision on another group: an evaluate with nothing firing
    start_refresh(world.autoscaling, world.fleet("api-prod"))
    assert invoke(manual_event("evaluate", "api-prod"))["outcome"] == "SKIPPED"
    # A rejected event
    with pytest.raises(InvalidEventError):
        invoke({"action": "rollbak", "autoScalingGroupName": "web-prod"})
    # An alarm linked to two groups, one of which AWS refuses to roll back
    start_refresh(world.autoscaling, world.fleet("shop-prod", tags={"auto-rollback:alarm-prefix": "svc-"}))
    start_refresh(world.autoscaling, world.fleet("cart-prod", tags={"auto-rollback:alarm-prefix": "svc-"}))
    refresh_api.inject_fault(refresh_api.ROLLBACK, "ValidationError", times=1)
    with pytest.raises(Exception, match="ValidationError"):
        invoke(alarm_event("svc-5xx"))
    return printed.lines()


def _for_group(group: str) -> Query:
    """The group query as the operator runs it: the placeholder replaced by the group's name."""
    text = QUERIES["DecisionsForGroup"].text
    assert text.count(PLACEHOLDER_GROUP) == 1
    return Query.parse(text.replace(PLACEHOLDER_GROUP, group))


@pytest.mark.parametrize("query_id", sorted(QUERIES))
def test_each_saved_query_finds_lines_the_function_prints_and_shows_their_fields(
    query_id: str, history: list[dict[str, Any]]
) -> None:
    # Given the saved query (the group one with the group filled in)
    query = _for_group("web-prod") if query_id == "DecisionsForGroup" else Query.parse(QUERIES[query_id].text)
    # When it is run over the function's real log lines
    found = [line for line in history if query.matches(line)]
    # Then it finds some, and every field it shows is in the lines it found
    assert found, f"{query_id} matches none of the function's lines"
    missing = [
        field
        for field in query.fields
        if not field.startswith("@") and all(_path(line, field) is None for line in found)
    ]
    assert missing == []


def test_the_group_query_finds_that_groups_decisions_only(history: list[dict[str, Any]]) -> None:
    # Given decisions logged for web-prod and for api-prod
    decided = {_path(line, "result.autoScalingGroupName") for line in history if line["message"] == "Decision"}
    assert {"web-prod", "api-prod"} <= decided
    # When the operator fills in web-prod
    found = [line for line in history if _for_group("web-prod").matches(line)]
    # Then every web-prod decision is found, and nothing of another group
    assert [line["result"]["outcome"] for line in found] == ["ROLLBACK_STARTED"]
    # ... and the query as saved, placeholder left in, finds nothing rather than everything
    assert not any(Query.parse(QUERIES["DecisionsForGroup"].text).matches(line) for line in history)


def test_the_rollback_query_finds_the_rollbacks_and_nothing_else(world: World, history: list[dict[str, Any]]) -> None:
    # Given a history with a rollback of an invocation that succeeded (web-prod), one done beside a group
    # AWS refused (the invocation failed), and other decisions
    rolled_back = sorted(call.group_name for call in world.rollback_calls() if call.ok)
    assert len(rolled_back) == 2 and "web-prod" in rolled_back
    # When the "Rollbacks started" query is run
    query = Query.parse(QUERIES["RollbacksStarted"].text)
    found = [line for line in history if query.matches(line)]
    # Then it finds both rollbacks, with their refreshes, and no other decision
    assert sorted(line["result"]["autoScalingGroupName"] for line in found) == rolled_back
    assert {line["result"]["outcome"] for line in found} == {"ROLLBACK_STARTED"}
    assert all(line["result"]["instanceRefreshId"] for line in found)


def test_every_rollback_is_in_the_history_even_beside_a_failed_group(
    world: World, history: list[dict[str, Any]], printed: PrintedLines
) -> None:
    # Given the alarm whose first group failed is retried once AWS recovers
    refresh_api.clear_faults()
    invoke(alarm_event("svc-5xx"))
    rolled_back = sorted(call.group_name for call in world.rollback_calls() if call.ok)
    assert rolled_back == ["cart-prod", "shop-prod", "web-prod"]
    # When the "Rollbacks started" query is run over everything logged
    query = Query.parse(QUERIES["RollbacksStarted"].text)
    found = [line for line in printed.lines() if query.matches(line)]
    # Then each rollback AWS accepted is there once
    assert sorted(line["result"]["autoScalingGroupName"] for line in found) == rolled_back


def test_rejected_events_query_shows_what_was_wrong(history: list[dict[str, Any]]) -> None:
    # Given the rejected event (an unknown action)
    # When the "Rejected events" query is run
    query = Query.parse(QUERIES["RejectedEvents"].text)
    [found] = [line for line in history if query.matches(line)]
    # Then the line names the field and the problem, as the function raised them
    assert found["field"] == "action"
    assert "'rollbak'" in found["problem"]


def test_errors_query_finds_the_rejected_event_and_the_failed_group(
    world: World, history: list[dict[str, Any]]
) -> None:
    # Given a rejected event and an alarm whose first group AWS refused to roll back
    [refused] = [call.group_name for call in world.rollback_calls() if not call.ok]
    # When the "Errors" query is run
    query = Query.parse(QUERIES["Errors"].text)
    found = [line for line in history if query.matches(line)]
    # Then both are there: the failure with its group and the exception's name, and its FAILED decision
    assert [line["message"] for line in found] == [
        "Rejected event",
        "Could not handle one of the alarm's groups",
        "Decision",
    ]
    assert (found[1]["group"], found[1]["exception_name"]) == (refused, "ActionFailedError")
    assert (found[2]["result"]["autoScalingGroupName"], found[2]["result"]["outcome"]) == (refused, "FAILED")


def test_the_rejected_event_metric_is_the_one_the_dashboard_graphs(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the handler rejecting an event
    capsys.readouterr()
    with pytest.raises(InvalidEventError):
        invoke({"action": "rollback"})
    # When the EMF blobs it printed are read
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    emitted = {
        (metric["Name"], tuple(dimensions))
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        for dimensions in directive["Dimensions"]
    }
    # Then the rejected-event metric is the one the dashboard graphs, under the service dimension
    assert (outcome_metric_name(INVALID_EVENT), ("service",)) in emitted


def test_a_failed_rollback_is_counted_in_the_failures_metric_the_dashboard_graphs(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a refreshing group whose rollback AWS refuses
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    refresh_api.inject_fault(refresh_api.ROLLBACK, "ValidationError", times=1)
    capsys.readouterr()
    # When its alarm fires and the invocation fails
    with pytest.raises(Exception, match="ValidationError"):
        invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    emitted = {
        metric["Name"]
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    # Then the FAILED outcome and the Failures metric were emitted all the same
    assert {outcome_metric_name("FAILED"), "Failures"} <= emitted
