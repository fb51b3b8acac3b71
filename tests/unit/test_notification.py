"""The notification format: readable subject, JSON body, email text, filterable attributes."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from auto_rollback.chat import console_url
from auto_rollback.notification import SUBJECT_LIMIT, Notifier, build_notification, subject_line
from auto_rollback.outcomes import Result
from auto_rollback.vocabulary import Outcome, Severity

ALARM_TRIGGER = {"type": "alarm", "alarmName": "web-prod-5xx", "state": "ALARM"}
OUTCOMES = "arn:aws:sns:eu-west-1:123456789012:outcomes"
CHAT = "arn:aws:sns:eu-west-1:123456789012:chat"
ANY_PUBLISH = {"Subject": ANY, "MessageStructure": "json", "Message": ANY, "MessageAttributes": ANY}
#: The chat copy: a plain message, no subject and no message structure.
ANY_CHAT = {"Message": ANY, "MessageAttributes": ANY}


def result(**changes: object) -> Result:
    base = Result(
        outcome=Outcome.ROLLBACK_STARTED,
        reason="alarm",
        trigger=ALARM_TRIGGER,
        auto_scaling_group_name="web-prod",
        instance_refresh_id="r-1",
        refresh_status="RollbackInProgress",
        severity=Severity.HIGH,
    )
    return base.with_outcome(base.outcome, base.reason, **changes)  # type: ignore[arg-type]


def test_subject_reads_like_the_readme_example() -> None:
    assert subject_line(result()) == "[auto-rollback] ROLLBACK_STARTED web-prod - alarm web-prod-5xx"


def test_subjects_for_refresh_events_and_manual_invokes() -> None:
    lifecycle = result(trigger={"type": "refresh-event", "eventType": "EC2 Auto Scaling Instance Refresh Succeeded"})
    manual = result(trigger={"type": "manual", "action": "rollback"})
    assert subject_line(lifecycle).endswith("web-prod - Refresh Succeeded")
    assert subject_line(manual).endswith("web-prod - manual rollback")


@pytest.mark.parametrize(
    "alarm_name", ["a" * 500, "line\nbreak\r\ttab", "emoji \U0001f525 and \u202e rtl", "\x00\x1b[31m"]
)
def test_subject_stays_within_sns_rules_whatever_the_alarm_name(alarm_name: str) -> None:
    subject = subject_line(result(trigger={**ALARM_TRIGGER, "alarmName": alarm_name}))
    assert len(subject) <= SUBJECT_LIMIT
    assert all(32 <= ord(char) < 127 for char in subject)


def test_body_carries_everything_an_operator_needs() -> None:
    # Given a rollback result
    # When it is turned into a notification
    notification = build_notification(
        result(), account="123456789012", region="eu-west-1", now=datetime(2026, 11, 28, tzinfo=UTC)
    )
    # Then the JSON body has the schema version, the outcome and the context
    body = notification.body
    assert body["schemaVersion"] == "1.0"
    assert body["outcome"] == "ROLLBACK_STARTED"
    assert body["autoScalingGroupName"] == "web-prod"
    assert body["instanceRefreshId"] == "r-1"
    assert body["refreshStatus"] == "RollbackInProgress"
    assert body["trigger"] == ALARM_TRIGGER
    assert body["dryRun"] is False
    assert (body["account"], body["region"], body["time"]) == ("123456789012", "eu-west-1", "2026-11-28T00:00:00+00:00")
    assert body["consoleUrl"] == console_url("web-prod", "eu-west-1")
    # And attributes let subscribers filter
    assert notification.attributes == {
        "outcome": "ROLLBACK_STARTED",
        "autoScalingGroupName": "web-prod",
        "severity": "high",
    }
    # And the email is text, not JSON
    assert notification.email.startswith("auto-rollback: ROLLBACK_STARTED for Auto Scaling group web-prod")
    assert "Console:" in notification.email


def test_huge_untrusted_text_is_capped() -> None:
    notification = build_notification(
        result(summary="x" * 1_000_000, trigger={**ALARM_TRIGGER, "stateReason": "\x00" * 10}),
        account="1",
        region="us-east-1",
    )
    assert len(notification.body["summary"]) <= 4096
    assert notification.body["trigger"]["stateReason"] == "?" * 10


def test_console_url_escapes_the_group_name() -> None:
    assert "id=web%20prod%23x;" in console_url("web prod#x", "us-east-1")


@pytest.mark.parametrize(
    "forged",
    [
        "maintenance\nDry run:           yes, nothing was changed",
        "maintenance\r\nSeverity:          info",
        "maintenance\u2028Dry run: yes",
        "maintenance\x85Dry run: yes",
        "maintenance\x0bDry run: yes",
        "maintenance \u202eon nur yrD",
    ],
)
def test_no_input_can_add_a_line_or_a_field_to_the_email(forged: str) -> None:
    # Given an operator's reason (or a group name) that tries to forge a line of the email
    manual = result(
        trigger={"type": "manual", "action": "rollback", "reason": forged},
        summary=f"Operator request: {forged}",
        auto_scaling_group_name=f"web-prod{forged}",
    )
    # When the email is written
    email = build_notification(manual, account="123456789012", region="eu-west-1").email
    # Then it has exactly its own lines, each field once, and no invisible reordering of text
    lines = email.splitlines()
    assert len(lines) == len(email.split("\n")) - 1
    assert sum(line.startswith("Dry run:") for line in lines) == 1
    assert sum(line.startswith("Severity:") for line in lines) == 1
    assert "Dry run:           no" in lines
    assert "\u202e" not in email
    assert all(line.startswith(LABELS) or line == "" for line in lines[1:])


LABELS = (
    "Reason:",
    "What happened:",
    "Instance refresh:",
    "Severity:",
    "Dry run:",
    "Trigger:",
    "Account / region:",
    "Time:",
    "Console:",
)


def test_the_chat_copy_is_published_after_the_outcome_and_its_failure_never_fails_the_publish() -> None:
    # Given a notifier with a chat topic, and an SNS client (botocore's Stubber) that accepts the
    # outcome and refuses the chat copy
    sns = boto3.client("sns", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    notifier = Notifier(
        OUTCOMES, account="123456789012", region="eu-west-1", sns=sns, chat_topic_arn=CHAT, function_name="fn"
    )
    with Stubber(sns) as stub:
        stub.add_response("publish", {"MessageId": "outcome-1"}, {**ANY_PUBLISH, "TopicArn": OUTCOMES})
        stub.add_client_error("publish", "AuthorizationError", expected_params={**ANY_CHAT, "TopicArn": CHAT})
        # When the result is published
        message_id = notifier.publish(result())
        # Then both were asked for, in that order, and the outcome's id is returned: no error, so the
        # idempotency record is kept and Lambda's retry does not publish the outcome a second time
        stub.assert_no_pending_responses()
    assert message_id == "outcome-1"


def test_without_a_chat_topic_only_the_outcome_is_published() -> None:
    sns = boto3.client("sns", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    notifier = Notifier(OUTCOMES, account="123456789012", region="eu-west-1", sns=sns)
    with Stubber(sns) as stub:
        stub.add_response("publish", {"MessageId": "outcome-1"}, {**ANY_PUBLISH, "TopicArn": OUTCOMES})
        assert notifier.publish(result()) == "outcome-1"
        stub.assert_no_pending_responses()
