"""Parsing: every documented event shape is accepted, and bad input names its field."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from auto_rollback.events import (
    AlarmTrigger,
    InvalidEventError,
    InventoryCursor,
    InventoryTrigger,
    ManualTrigger,
    RefreshTrigger,
    parse_event,
)
from auto_rollback.vocabulary import ManualAction, RefreshEventType
from infra import SAMPLE_EVENTS_DIR
from tests.conftest import load_event

MUTE_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:patch-tuesday"
MUTE_END = "2026-11-28T12:00:00.000+0000"


def test_a_muted_alarm_event_names_its_rule_and_window() -> None:
    # Given AWS's documented muteDetail on an alarm event
    event = copy.deepcopy(load_event("alarm-metric.json"))
    event["detail"]["muteDetail"] = {
        "mutedByArn": MUTE_ARN,
        "muteWindowStart": "2026-11-28T10:00:00.000+0000",
        "muteWindowEnd": MUTE_END,
    }

    # When it is parsed
    trigger = parse_event(event)

    # Then the mute is kept with its rule and window
    assert isinstance(trigger, AlarmTrigger) and trigger.mute is not None
    assert trigger.mute.rule_name == "patch-tuesday"
    assert trigger.mute.window_start == datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert trigger.mute.window_end == datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert trigger.mute.describe()["windowEnd"] == "2026-11-28T12:00:00+00:00"


def test_a_suppressed_composite_alarm_event_keeps_the_kind_and_reason() -> None:
    event = copy.deepcopy(load_event("alarm-composite.json"))
    event["detail"]["state"]["actionsSuppressedBy"] = "WaitPeriod"
    event["detail"]["state"]["actionsSuppressedReason"] = "Actions suppressed by WaitPeriod"
    trigger = parse_event(event)
    assert isinstance(trigger, AlarmTrigger)
    assert (trigger.actions_suppressed_by, trigger.actions_suppressed_reason) == (
        "WaitPeriod",
        "Actions suppressed by WaitPeriod",
    )


def test_the_documented_muted_suppressed_and_log_alarm_samples_parse() -> None:
    # AWS's own examples (alarm-metric-muted, alarm-composite-suppressed) and a log alarm's event (alarm-log:
    # AWS publishes none; built from the common shape, see tests/devkit/test_cloudwatch_emulation.py)
    muted = parse_event(load_event("alarm-metric-muted.json"))
    suppressed = parse_event(load_event("alarm-composite-suppressed.json"))
    log = parse_event(load_event("alarm-log.json"))
    assert isinstance(muted, AlarmTrigger) and muted.mute is not None and muted.mute.rule_name == "testMute"
    assert isinstance(suppressed, AlarmTrigger) and suppressed.is_composite
    assert suppressed.actions_suppressed_by == "WaitPeriod"
    assert isinstance(log, AlarmTrigger) and not log.is_composite and log.mute is None


@pytest.mark.parametrize(
    ("mute_detail", "rule_name", "problem"),
    [
        ("muted", "(unreadable)", "detail.muteDetail: expected an object"),
        ({"muteWindowEnd": MUTE_END}, "(unreadable)", "detail.muteDetail.mutedByArn: is required"),
        ({"mutedByArn": MUTE_ARN, "muteWindowEnd": "tonight"}, "patch-tuesday", "detail.muteDetail.muteWindowEnd"),
        ({"mutedByArn": MUTE_ARN, "muteWindowEnd": 1}, "patch-tuesday", "detail.muteDetail.muteWindowEnd"),
    ],
)
def test_a_mute_detail_that_drifts_from_the_documented_shape_still_mutes(
    mute_detail: Any, rule_name: str, problem: str
) -> None:
    # Given an alarm event whose muteDetail is not as AWS documents it
    event = _mutated("alarm-metric.json", ["detail", "muteDetail"], mute_detail)
    # When it is parsed
    trigger = parse_event(event)
    # Then the event is kept, and the alarm counts as muted with no end, the problem named
    assert isinstance(trigger, AlarmTrigger) and trigger.mute is not None
    assert trigger.mute.rule_name == rule_name
    assert trigger.mute.problem is not None and trigger.mute.problem.startswith(problem)
    assert trigger.mute.window_end is None and trigger.mute.mutes_at(datetime.now(UTC))


def test_an_odd_suppression_value_still_suppresses() -> None:
    trigger = parse_event(_mutated("alarm-composite.json", ["detail", "state", "actionsSuppressedBy"], 1))
    assert isinstance(trigger, AlarmTrigger) and trigger.actions_suppressed_by == "(unreadable)"


def test_an_alarm_event_without_holds_has_none() -> None:
    trigger = parse_event(load_event("alarm-composite.json"))
    assert isinstance(trigger, AlarmTrigger)
    assert trigger.mute is None and trigger.actions_suppressed_by is None


def test_metric_alarm_event_uses_the_state_timestamp_not_the_event_time() -> None:
    trigger = parse_event(load_event("alarm-metric.json"))
    assert isinstance(trigger, AlarmTrigger)
    assert trigger.alarm_name == "web-prod-5xx"
    assert trigger.state == "ALARM"
    assert trigger.state_changed_at == datetime(2026, 11, 28, 10, 5, 0, 989000, tzinfo=UTC)
    assert trigger.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-prod-5xx"
    assert trigger.alarm_tags is None
    assert not trigger.is_composite


def test_propagated_alarm_tags_are_kept() -> None:
    trigger = parse_event(load_event("alarm-metric-with-tags.json"))
    assert isinstance(trigger, AlarmTrigger)
    assert trigger.alarm_tags == {"auto-rollback:group": "web-prod", "team": "web"}


def test_composite_and_metric_math_alarms_parse() -> None:
    composite = parse_event(load_event("alarm-composite.json"))
    math = parse_event(load_event("alarm-metric-math.json"))
    assert isinstance(composite, AlarmTrigger) and composite.is_composite
    assert isinstance(math, AlarmTrigger) and math.alarm_name == "web-prod error rate"


@pytest.mark.parametrize("event_type", list(RefreshEventType))
def test_every_refresh_detail_type_parses(event_type: RefreshEventType) -> None:
    slug = event_type.value.lower().replace(" ", "-")
    trigger = parse_event(load_event(f"refresh-{slug}.json"))
    assert isinstance(trigger, RefreshTrigger)
    assert trigger.event_type is event_type
    assert trigger.auto_scaling_group_name == "web-prod"
    expected_percentage = 50 if event_type is RefreshEventType.CHECKPOINT_REACHED else None
    assert trigger.checkpoint_percentage == expected_percentage


def test_manual_events_parse() -> None:
    rollback = parse_event(load_event("manual-rollback.json"))
    evaluate = parse_event(load_event("manual-evaluate.json"))
    assert rollback == ManualTrigger(
        ManualAction.ROLLBACK, "web-prod", "Error rate doubled after the 10:00 AMI roll-out", dry_run=False
    )
    assert isinstance(evaluate, ManualTrigger) and evaluate.action is ManualAction.EVALUATE


def test_every_sample_event_except_unrelated_ones_parses() -> None:
    for path in sorted(SAMPLE_EVENTS_DIR.glob("*.json")):
        if path.name.startswith("unrelated-"):
            with pytest.raises(InvalidEventError):
                parse_event(load_event(path.name))
        else:
            parse_event(load_event(path.name))


def _mutated(name: str, path: list[str], value: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    target = event
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return event


_DELETE = object()


@pytest.mark.parametrize(
    ("name", "path", "value", "field"),
    [
        ("alarm-metric.json", ["detail", "state", "value"], "BROKEN", "detail.state.value"),
        ("alarm-metric.json", ["detail", "state", "value"], 1, "detail.state.value"),
        ("alarm-metric.json", ["detail", "state", "timestamp"], _DELETE, "detail.state.timestamp"),
        ("alarm-metric.json", ["detail", "state", "timestamp"], "yesterday", "detail.state.timestamp"),
        ("alarm-metric.json", ["detail", "state", "timestamp"], "2026-11-28T10:05:00", "detail.state.timestamp"),
        ("alarm-metric.json", ["detail", "alarmName"], _DELETE, "detail.alarmName"),
        ("alarm-metric.json", ["detail", "alarmName"], "a\nb", "detail.alarmName"),
        ("alarm-metric.json", ["detail", "alarmName"], "x" * 256, "detail.alarmName"),
        ("alarm-metric.json", ["detail", "alarmTags"], ["a"], "detail.alarmTags"),
        ("alarm-metric.json", ["detail"], "nope", "detail"),
        ("alarm-metric.json", ["resources"], "arn", "resources"),
        ("alarm-metric.json", ["source"], _DELETE, "source"),
        ("alarm-metric.json", ["detail-type"], "CloudWatch Alarm Configuration Change", "detail-type"),
        ("refresh-started.json", ["detail-type"], "EC2 Auto Scaling Instance Refresh Exploded", "detail-type"),
        ("refresh-started.json", ["detail", "AutoScalingGroupName"], _DELETE, "detail.AutoScalingGroupName"),
        ("refresh-started.json", ["detail", "InstanceRefreshId"], 7, "detail.InstanceRefreshId"),
        ("refresh-checkpoint-reached.json", ["detail", "CheckpointPercentage"], "150", "detail.CheckpointPercentage"),
        ("refresh-checkpoint-reached.json", ["detail", "CheckpointPercentage"], 50, "detail.CheckpointPercentage"),
        ("manual-rollback.json", ["action"], "nuke", "action"),
        ("manual-rollback.json", ["dryRun"], "false", "dryRun"),
        ("manual-rollback.json", ["dry_run"], True, "dry_run"),
        ("manual-rollback.json", ["autoScalingGroupName"], _DELETE, "autoScalingGroupName"),
        ("manual-rollback.json", ["autoScalingGroupName"], "", "autoScalingGroupName"),
        ("manual-rollback.json", ["reason"], {"a": 1}, "reason"),
        ("manual-rollback.json", ["autoScalingGroupName"], "web\x00prod", "autoScalingGroupName"),
        ("manual-rollback.json", ["account"], "12345", "account"),
        ("manual-rollback.json", ["account"], 123456789012, "account"),
        ("manual-inventory.json", ["account"], "1234567890123", "account"),
        ("manual-rollback.json", ["autoScalingGroupName"], "web\ufffeprod", "autoScalingGroupName"),
        ("refresh-started.json", ["detail", "AutoScalingGroupName"], "web\x1bprod", "detail.AutoScalingGroupName"),
        ("refresh-started.json", ["detail", "AutoScalingGroupName"], "web\nprod", "detail.AutoScalingGroupName"),
        ("alarm-metric.json", ["detail", "alarmName"], "a\tb", "detail.alarmName"),
        ("alarm-metric.json", ["detail", "alarmName"], "a\x7fb", "detail.alarmName"),
        ("alarm-metric.json", ["detail", "alarmName"], "a\ud800b", "detail.alarmName"),
    ],
)
def test_bad_input_is_refused_naming_the_field(name: str, path: list[str], value: Any, field: str) -> None:
    with pytest.raises(InvalidEventError) as refused:
        parse_event(_mutated(name, path, value))
    assert refused.value.field == field
    assert field in str(refused.value)


@pytest.mark.parametrize("event", [None, [], "ALARM", 42])
def test_non_objects_are_refused(event: Any) -> None:
    with pytest.raises(InvalidEventError, match="event: expected a JSON object"):
        parse_event(event)


def test_error_messages_do_not_echo_hostile_text() -> None:
    hostile = "\u202e" + "x" * 5000 + "\n\x00"
    with pytest.raises(InvalidEventError) as refused:
        parse_event(_mutated("manual-rollback.json", ["action"], hostile))
    message = str(refused.value)
    assert len(message) < 200
    assert "\n" not in message and "\x00" not in message


@pytest.mark.parametrize(
    "name",
    [
        "Café 5xx",
        "Größe-Fehler",
        "日本語のアラーム",
        "web\u00a0prod 5xx",  # no-break space
        "web\u200dprod",  # zero-width joiner: a format character, not a control character
        "latency 🚀 p99",
        "x" * 255,
    ],
)
def test_alarm_names_cloudwatch_accepts_are_accepted(name: str) -> None:
    # CloudWatch refuses only ASCII control characters in alarm names (PutMetricAlarm)
    trigger = parse_event(_mutated("alarm-metric.json", ["detail", "alarmName"], name))
    assert isinstance(trigger, AlarmTrigger) and trigger.alarm_name == name


@pytest.mark.parametrize("name", ["Café-web", "web\u00a0prod", "グループ"])
def test_group_names_within_the_auto_scaling_models_pattern_are_accepted(name: str) -> None:
    # botocore's autoscaling model: XmlStringMaxLen255, the XML character range, less line breaks and tabs
    trigger = parse_event(_mutated("refresh-started.json", ["detail", "AutoScalingGroupName"], name))
    assert isinstance(trigger, RefreshTrigger) and trigger.auto_scaling_group_name == name


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + "x" * 1000,  # over ListTagsForResource's 1024
        "arn:aws:sns:us-east-1:123456789012:alarm:web-prod-5xx",  # not CloudWatch's
    ],
)
def test_an_alarm_arn_cloudwatch_would_refuse_is_replaced_by_the_one_its_name_gives(resource: str) -> None:
    trigger = parse_event(_mutated("alarm-metric.json", ["resources"], [resource]))
    assert isinstance(trigger, AlarmTrigger)
    assert trigger.alarm_arn == f"arn:aws:cloudwatch:{trigger.region}:{trigger.account}:alarm:{trigger.alarm_name}"


def test_inventory_events_parse_with_and_without_a_token() -> None:
    # Given the sample inventory events, and one carrying a token an answer gave
    cursor = InventoryCursor(page_token="opaque AWS token", after="web-prod")
    # When they are parsed
    sample = parse_event(load_event("manual-inventory.json"))
    console = parse_event(load_event("manual-console-inventory.json"))
    resumed = parse_event({"action": "inventory", "nextToken": cursor.encode()})
    # Then the first two start from the beginning and the third resumes where the answer left off
    assert sample == console == InventoryTrigger(InventoryCursor())
    assert resumed == InventoryTrigger(cursor)


@pytest.mark.parametrize(
    "cursor",
    [InventoryCursor(), InventoryCursor("t", None), InventoryCursor(None, "web prod"), InventoryCursor("t=+/", "é")],
)
def test_an_inventory_token_decodes_to_the_cursor_it_encodes(cursor: InventoryCursor) -> None:
    # Given a cursor
    # When it is encoded into a nextToken and read back
    # Then it is the same cursor, and the token is URL-safe text
    token = cursor.encode()
    assert InventoryCursor.decode(token) == cursor
    assert token.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize(
    "token",
    [
        "e30",  # {}
        "eyJ2IjogMiwgInBhZ2UiOiBudWxsLCAiYWZ0ZXIiOiBudWxsfQ",  # version 2
        "eyJ2IjogMSwgInBhZ2UiOiA1LCAiYWZ0ZXIiOiBudWxsfQ",  # page is a number
        "eyJ2IjogMSwgInBhZ2UiOiBudWxsLCAiYWZ0ZXIiOiAiYVxuYiJ9",  # group name with a line break
        "%%%",
    ],
)
def test_a_token_no_inventory_answer_gave_is_refused_as_next_token(token: str) -> None:
    # Given a nextToken that is not one an inventory answer gives
    # When it is parsed
    with pytest.raises(InvalidEventError) as error:
        parse_event({"action": "inventory", "nextToken": token})
    # Then the refusal names nextToken and says how to start over
    assert error.value.field == "nextToken"
    assert "start over" in error.value.problem


def test_an_unknown_action_lists_inventory_among_the_actions() -> None:
    with pytest.raises(InvalidEventError) as error:
        parse_event({"action": "inventorie"})
    assert error.value.field == "action"
    assert "rollback | evaluate | inventory" in error.value.problem
