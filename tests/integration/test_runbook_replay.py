"""``scripts.ops.replay``: the failed-events queue listed, unwrapped, and replayed through the function."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from devkit.scenarios.events import alarm_event
from devkit.scenarios.harness import FUNCTION_ARN, invoke
from scripts.ops import replay
from tests.conftest import load_event
from tests.integration.conftest import World
from tests.integration.test_runbook_stack import DeployedStack, deploy_stack, strict_rules, template

__all__ = ["strict_rules", "template"]  # fixtures, used by name

#: Two hours after the messages were sent: older than the rules' maximum event age.
LATER = timedelta(hours=2)


#: Long polls of one second: the tool's own wait is longer; an empty poll costs this much real time.
WAIT = 1


def _on_failure(payload: dict[str, Any]) -> str:
    """The record Lambda sends its on-failure destination after the retries of an asynchronous invoke."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-11-30T06:00:00.000Z",
            "requestContext": {
                "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
                "functionArn": f"{FUNCTION_ARN}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "Rate exceeded", "errorType": "ClientError"},
        }
    )


def _fill(stack: DeployedStack, alarm_name: str = "web-prod-5xx") -> None:
    """What the two producers send: a Lambda on-failure record, an EventBridge DLQ message, and a stray message."""
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=_on_failure(load_event("manual-evaluate.json")))
    sqs.send_message(
        QueueUrl=stack.queue_url,
        MessageBody=json.dumps(alarm_event(alarm_name)),
        MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": "SDK_CLIENT_ERROR"},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": "Lambda throttled the invocation"},
            "RULE_ARN": {"DataType": "String", "StringValue": "arn:aws:events:us-east-1:123456789012:rule/x"},
            "TARGET_ARN": {"DataType": "String", "StringValue": stack.function_arn},
        },
    )
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody="hello")


def _visible(stack: DeployedStack) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _run(
    stack: DeployedStack, invoke: Any = None, *, now: datetime | None = None, **flags: bool
) -> tuple[int, list[str]]:
    lines: list[str] = []
    left = replay.run(
        boto3.client("sqs"),
        stack.queue_url,
        invoke=invoke,
        now=now or datetime.now(UTC),
        out=lines.append,
        wait_seconds=WAIT,
        **flags,
    )
    return left, lines


def test_listing_unwraps_both_shapes_and_changes_nothing(
    strict_rules: None, template: dict[str, Any], world: World
) -> None:
    # Given a failed-events queue holding what Lambda and EventBridge send, and a stray message
    stack = deploy_stack(template)
    _fill(stack, alarm_name="web-prod-5xx\n- forged line")

    # When the operator lists it (dry, the default)
    left, lines = _run(stack, now=datetime.now(UTC) + LATER)

    # Then each message is described by kind and event, the alarm name cannot forge a line,
    # and all three are still in the queue, visible at once
    report = "\n".join(lines)
    assert left == 3 and lines[-2].startswith("3 message(s)")
    assert "lambda-on-failure   manual evaluate of group web-prod" in report
    assert "(RetriesExhausted after 3 attempts: ClientError: Rate exceeded)" in report
    assert "eventbridge-dlq     alarm web-prod-5xx\N{REPLACEMENT CHARACTER}- forged line -> ALARM" in report
    assert "SDK_CLIENT_ERROR: Lambda throttled the invocation" in report
    assert "unknown" in report and "STALE" in report
    assert not any(line.startswith("- forged line") for line in lines)
    assert _visible(stack) == 3


def test_replay_invokes_the_function_with_each_event_and_deletes_only_what_was_accepted(
    strict_rules: None, template: dict[str, Any], world: World
) -> None:
    # Given the same queue, fresh, and a group web-prod the function can evaluate
    stack = deploy_stack(template)
    _fill(stack)
    world.fleet("web-prod")
    answers: list[dict[str, Any]] = []

    def harness_invoke(event: dict[str, Any]) -> None:
        answers.append(invoke(event))

    # When the operator replays it through the function (in-process here; Lambda on AWS)
    left, lines = _run(stack, harness_invoke)

    # Then the unwrapped evaluate and the alarm event reached the real handler, the stale-state warning
    # was shown, both messages are gone, and only the stray one is left
    assert len(answers) == 2, "\n".join(lines)
    assert any(line.startswith("warning: an alarm event is decided on the group's state now") for line in lines)
    assert sum("[replayed, deleted]" in line for line in lines) == 2
    assert left == 1 and _visible(stack) == 1
    assert lines[-1].endswith(": 2 replayed and deleted, 1 left")


def test_an_invoke_that_is_refused_keeps_its_message_for_the_next_run(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given the queue, and Lambda refusing every invoke (throttled)
    stack = deploy_stack(template)
    _fill(stack)

    def refused(event: dict[str, Any]) -> None:
        raise RuntimeError("TooManyRequestsException: Rate Exceeded.")

    # When the operator replays
    left, lines = _run(stack, refused)

    # Then nothing is deleted, each message says why it was kept, and a second run finds all three
    assert left == 3
    assert sum("[NOT replayed, kept: RuntimeError" in line for line in lines) == 2
    assert _run(stack)[0] == 3


def test_a_stale_manual_rollback_and_stale_events_are_kept_unless_asked_for(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given a manual rollback that failed 2 hours ago (it names a group, not a refresh), a stale alarm
    # event, and a fresh-enough manual rollback beside them
    stack = deploy_stack(template)
    sqs = boto3.client("sqs")
    rollback = {"action": "rollback", "autoScalingGroupName": "web-prod", "reason": "bad deploy"}
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=_on_failure(rollback))
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(alarm_event("web-prod-5xx")))
    invoked: list[dict[str, Any]] = []

    # When the operator replays with the defaults, two hours later
    left, lines = _run(stack, invoked.append, now=datetime.now(UTC) + LATER)

    # Then nothing is invoked: the rollback is kept because it would act on the group's refresh now,
    # the alarm event because it is stale, each line saying so and which flag replays it
    assert invoked == [] and left == 2 and _visible(stack) == 2
    report = "\n".join(lines)
    assert "manual rollback of group web-prod" in report and "acts on whatever refresh the group runs NOW" in report
    assert "--include-manual]" in report
    assert "kept: STALE, the refresh it was about has most likely ended; add --include-stale" in report

    # When the operator opts in to stale messages only
    left, lines = _run(stack, invoked.append, now=datetime.now(UTC) + LATER, include_stale=True)

    # Then the alarm event is replayed and the manual rollback is still kept
    assert [event.get("source") for event in invoked] == ["aws.cloudwatch"] and left == 1

    # When the operator opts in to both
    left, _ = _run(stack, invoked.append, now=datetime.now(UTC) + LATER, include_stale=True, include_manual=True)

    # Then the rollback is replayed too and the queue is empty
    assert invoked[-1] == rollback and left == 0 and _visible(stack) == 0


def test_each_batch_is_long_polled_hidden_and_finished_before_the_next_is_received(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given twelve failed evaluates: more than one receive (ten at most) brings
    stack = deploy_stack(template)
    sqs: Any = boto3.client("sqs")
    for number in range(12):
        payload = {"action": "evaluate", "autoScalingGroupName": f"web-{number:02}"}
        sqs.send_message(QueueUrl=stack.queue_url, MessageBody=_on_failure(payload))
    calls: list[str] = []

    def receiving(params: dict[str, Any], **_: Any) -> None:
        calls.append(f"receive wait={params['WaitTimeSeconds']} hide={params['VisibilityTimeout']}")

    sqs.meta.events.register("before-parameter-build.sqs.ReceiveMessage", receiving)
    sqs.meta.events.register("before-parameter-build.sqs.DeleteMessage", lambda **_: calls.append("delete"))

    # When the operator replays them
    left = replay.run(
        sqs,
        stack.queue_url,
        invoke=lambda event: calls.append("invoke"),
        now=datetime.now(UTC),
        out=print,
        wait_seconds=WAIT,
    )

    # Then every receive long-polls and hides its batch for a set time, and each batch is invoked and
    # deleted before the next receive: no receipt handle waits for the whole queue to be read
    receive = f"receive wait={WAIT} hide={replay.VISIBILITY_SECONDS}"
    assert left == 0
    assert calls[:21] == [receive, *["invoke", "delete"] * 10], calls
    assert calls[21:26] == [receive, *["invoke", "delete"] * 2], calls
    assert calls[26:] and set(calls[26:]) == {receive}, calls


def test_messages_hidden_by_another_reader_are_reported_not_taken_for_an_empty_queue(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given a queue whose only message another reader has just received (hidden for a minute)
    stack = deploy_stack(template)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=_on_failure(load_event("manual-evaluate.json")))
    sqs.receive_message(QueueUrl=stack.queue_url, VisibilityTimeout=60)

    # When the operator lists the queue
    left, lines = _run(stack)

    # Then it says why it saw nothing although the queue counts one message, instead of a bare "0 messages"
    assert left == 0
    assert any(
        line.startswith(
            f"warning: {replay.EMPTY_POLLS} polls brought nothing new, yet the queue counts 0 visible "
            "and 1 in-flight message(s) (this run holds 0)"
        )
        for line in lines
    ), lines


def test_a_message_deleted_by_someone_else_meanwhile_is_reported_and_the_run_goes_on(
    strict_rules: None, template: dict[str, Any], world: World
) -> None:
    # Given a stale rollback the replay keeps, and a fresh evaluate
    stack = deploy_stack(template)
    sqs = boto3.client("sqs")
    stale = {"action": "rollback", "autoScalingGroupName": "web-prod"}
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=_on_failure(stale))
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=_on_failure(load_event("manual-evaluate.json")))

    def purged_meanwhile(event: dict[str, Any]) -> None:
        # Another operator purges the queue while the evaluate is being invoked.
        sqs.purge_queue(QueueUrl=stack.queue_url)

    # When the operator replays
    left, lines = _run(stack, purged_meanwhile)

    # Then the refused delete and the refused release are each reported, and the run finishes
    assert any("[replayed, NOT deleted: ReceiptHandleIsInvalid;" in line for line in lines), lines
    assert any(line.startswith("warning: message ") and "(ReceiptHandleIsInvalid)" in line for line in lines), lines
    assert left == 2 and lines[-1].endswith(": 0 replayed and deleted, 2 left")
