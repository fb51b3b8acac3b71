"""The synthesized rule patterns, run against the sample events by moto's EventBridge.

moto's ``test_event_pattern`` API is a stub, but ``put_events`` does real pattern
matching, so each rule is installed with the pattern from the template, pointed
at an SQS queue, and the sample events are published: what reaches the queue is
exactly what would reach the function.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from auto_rollback.vocabulary import TARGET_TRACKING_ALARM_PREFIX
from devkit.aws.aws_server import AwsEmulator
from infra import SAMPLE_EVENTS_DIR
from tests.conftest import load_event

SAMPLES = sorted(path.name for path in SAMPLE_EVENTS_DIR.glob("*.json") if not path.name.startswith("manual-"))
REFRESH_SAMPLES = {name for name in SAMPLES if name.startswith("refresh-")}
ALARM_SAMPLES_IN_ALARM = {
    name for name in SAMPLES if name.startswith("alarm-") and load_event(name)["detail"]["state"]["value"] == "ALARM"
}
INSUFFICIENT_DATA_SAMPLES = {
    name
    for name in SAMPLES
    if name.startswith("alarm-") and load_event(name)["detail"]["state"]["value"] == "INSUFFICIENT_DATA"
}


def _patterns(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each rule's event pattern, keyed by the source it listens to."""
    rules = [resource for resource in template["Resources"].values() if resource["Type"] == "AWS::Events::Rule"]
    return {rule["Properties"]["EventPattern"]["source"][0]: rule["Properties"]["EventPattern"] for rule in rules}


def _delivered(pattern: dict[str, Any], samples: list[str]) -> set[str]:
    """The sample files whose events a rule with ``pattern`` delivers (through moto)."""
    return _delivered_events(pattern, {name: load_event(name) for name in samples})


def _delivered_events(pattern: dict[str, Any], named_events: dict[str, dict[str, Any]]) -> set[str]:
    """The names of the events a rule with ``pattern`` delivers (through moto)."""
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="matched")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="under-test", EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule="under-test", Targets=[{"Id": "queue", "Arn": queue_arn}])

    by_identity: dict[tuple[str, str], str] = {}
    for name, event in named_events.items():
        identity = (event["detail-type"], json.dumps(event["detail"], sort_keys=True))
        by_identity[identity] = name
        response = events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                }
            ]
        )
        assert response["FailedEntryCount"] == 0

    delivered: set[str] = set()
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            body = json.loads(message["Body"])
            delivered.add(by_identity[(body["detail-type"], json.dumps(body["detail"], sort_keys=True))])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return delivered


def test_samples_cover_every_case() -> None:
    # Given the sample events directory
    # When they are grouped
    # Then there are refresh, alarm (each state) and unrelated samples to test the patterns with
    assert len(REFRESH_SAMPLES) == 9
    assert ALARM_SAMPLES_IN_ALARM
    assert INSUFFICIENT_DATA_SAMPLES
    assert "alarm-ok.json" in SAMPLES
    assert {name for name in SAMPLES if name.startswith("unrelated-")}


def test_refresh_rule_delivers_every_refresh_event_and_nothing_else(
    aws: AwsEmulator, template_json: dict[str, Any]
) -> None:
    # Given the instance-refresh rule's pattern from the synthesized template
    pattern = _patterns(template_json)["aws.autoscaling"]

    # When every sample event is published
    delivered = _delivered(pattern, SAMPLES)

    # Then exactly the nine instance-refresh events arrive (not the instance launch, not alarms)
    assert delivered == REFRESH_SAMPLES


def test_alarm_rule_delivers_only_transitions_to_alarm_by_default(
    aws: AwsEmulator, template_json: dict[str, Any]
) -> None:
    # Given the alarm rule's pattern with insufficientDataAction = ignore
    pattern = _patterns(template_json)["aws.cloudwatch"]

    # When every sample event is published
    delivered = _delivered(pattern, SAMPLES)

    # Then only the alarms that went to ALARM arrive: not OK, not INSUFFICIENT_DATA,
    # not configuration changes, not Auto Scaling events
    assert delivered == ALARM_SAMPLES_IN_ALARM
    assert "alarm-composite.json" in delivered
    assert "alarm-metric-math.json" in delivered
    # Log alarms, muted and suppressed alarms arrive: the function decides what a hold means (README).
    assert {"alarm-log.json", "alarm-metric-muted.json", "alarm-composite-suppressed.json"} <= delivered
    # Metrics Insights contributor events never do: the alarm's own state change is the signal.
    assert "unrelated-alarm-contributor-state-change.json" not in delivered


def test_alarm_rule_adds_insufficient_data_when_configured(
    aws: AwsEmulator, rollback_on_insufficient_data_json: dict[str, Any]
) -> None:
    # Given the alarm rule's pattern with insufficientDataAction = rollback
    pattern = _patterns(rollback_on_insufficient_data_json)["aws.cloudwatch"]

    # When every sample event is published
    delivered = _delivered(pattern, SAMPLES)

    # Then INSUFFICIENT_DATA transitions arrive too, and OK still does not
    assert delivered == ALARM_SAMPLES_IN_ALARM | INSUFFICIENT_DATA_SAMPLES
    assert "alarm-ok.json" not in delivered


def _alarm_named(name: str) -> dict[str, Any]:
    """The sample metric alarm's transition to ALARM, for an alarm called ``name``."""
    event = load_event("alarm-metric.json")
    event["detail"]["alarmName"] = name
    event["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]
    return event


def test_alarm_rule_pattern_drops_alarm_names_with_the_target_tracking_prefix(template_json: dict[str, Any]) -> None:
    # Given the synthesized template
    # When the alarm rule's pattern is read
    pattern = _patterns(template_json)["aws.cloudwatch"]

    # Then it keeps every alarm name except those starting with the function's target-tracking prefix
    assert TARGET_TRACKING_ALARM_PREFIX == "TargetTracking-"
    assert pattern["detail"]["alarmName"] == [{"anything-but": {"prefix": TARGET_TRACKING_ALARM_PREFIX}}]


@pytest.mark.parametrize("template_name", ["template_json", "rollback_on_insufficient_data_json"])
def test_alarm_rule_never_delivers_target_tracking_alarms(
    aws: AwsEmulator, template_name: str, request: pytest.FixtureRequest
) -> None:
    # Given the alarm rule's pattern (with and without INSUFFICIENT_DATA), installed on the embedded EventBridge
    pattern = _patterns(request.getfixturevalue(template_name))["aws.cloudwatch"]
    alarms = {
        # EC2 Auto Scaling's and Application Auto Scaling's target-tracking alarms
        "scale-out": _alarm_named("TargetTracking-web-prod-AlarmHigh-fc0e4183-23ac-497e-9992-691c9980c38e"),
        "scale-in": _alarm_named("TargetTracking-table/orders-AlarmLow-8f2e1c3a-5b4d-4e6f-9a7b-0c1d2e3f4a5b"),
        "ordinary": _alarm_named("web-prod-5xx"),
        # Not the AWS spelling: prefix matching is case-sensitive, so it is not dropped
        "lower-case": _alarm_named("targettracking-x"),
        # The prefix later in the name is not a prefix
        "contains": _alarm_named("web-prod TargetTracking-AlarmHigh"),
    }

    # When each alarm's transition to ALARM is published
    delivered = _delivered_events(pattern, alarms)

    # Then the target-tracking alarms never reach the function, and the others all do
    assert delivered == {"ordinary", "lower-case", "contains"}


def test_a_pattern_that_matches_nothing_delivers_nothing(aws: AwsEmulator) -> None:
    # Given a pattern no sample matches (guards against moto accepting everything)
    pattern = {"source": ["aws.cloudwatch"], "detail": {"state": {"value": ["NOT_A_STATE"]}}}

    # When every sample event is published
    delivered = _delivered(pattern, SAMPLES)

    # Then nothing arrives
    assert delivered == set()
