"""Chat delivery through the embedded AWS: a second topic carries only the custom notification.

The chat topic is read, as Amazon Q Developer would receive it, through an SQS queue
subscribed to it; the outcome topic through the deployment's own queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from auto_rollback.chat import SEVERITY_MARKERS
from auto_rollback.vocabulary import CHAT_FAILURE_METRIC, Severity
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import start_refresh
from devkit.scenarios.harness import invoke
from tests.integration.conftest import World

LINK = {"auto-rollback:group": "web-prod"}
SCHEMA = Draft202012Validator(json.loads((Path(__file__).parents[1] / "chat-notification.schema.json").read_text()))


@dataclass(frozen=True)
class ChatTopic:
    arn: str
    queue_url: str

    def received(self) -> list[dict[str, Any]]:
        """Every SNS envelope delivered to the queue since the last call."""
        sqs = boto3.client("sqs")
        envelopes = []
        while batch := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                envelopes.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return envelopes


def chat_topic(name: str = "auto-rollback-chat") -> ChatTopic:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    arn = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-reader")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return ChatTopic(arn, queue_url)


def test_a_rollback_reaches_the_chat_topic_as_a_custom_notification(configure: Callable[..., World]) -> None:
    # Given a deployment with a chat topic, and a refresh whose alarm fires
    chat = chat_topic()
    world = configure(CHAT_TOPIC_ARN=chat.arn, AWS_LAMBDA_FUNCTION_NAME="AutoRollback-Function-1")
    start_refresh(world.autoscaling, world.fleet("web-prod"))

    # When the alarm event is handled
    outcome = invoke(alarm_event("web-prod-5xx", tags=LINK))

    # Then the chat topic received one plain message: the custom notification, nothing else
    assert outcome["outcome"] == "ROLLBACK_STARTED"
    [envelope] = chat.received()
    message = json.loads(envelope["Message"])
    assert list(SCHEMA.iter_errors(message)) == []
    assert message["content"]["title"].startswith(f"{SEVERITY_MARKERS[Severity.HIGH]} HIGH · ROLLBACK_STARTED")
    assert "--function-name AutoRollback-Function-1 " in message["content"]["nextSteps"][-1]
    assert "Subject" not in envelope or envelope["Subject"] in (None, "")
    # And the outcome topic still carries the JSON body for machines, as before, exactly once
    [published] = world.published()
    assert published.body["schemaVersion"] == "1.0"
    assert published.body["outcome"] == "ROLLBACK_STARTED"
    assert published.subject == "[auto-rollback] ROLLBACK_STARTED web-prod - alarm web-prod-5xx"


def test_a_refused_chat_copy_neither_fails_the_invocation_nor_doubles_the_record(
    configure: Callable[..., World], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a chat topic that no longer exists (SNS answers NotFound)
    chat = chat_topic()
    world = configure(CHAT_TOPIC_ARN=chat.arn)
    boto3.client("sns").delete_topic(TopicArn=chat.arn)
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    event = alarm_event("web-prod-5xx", tags=LINK)

    # When the alarm is handled, and the same event is delivered again
    first = invoke(event)
    again = invoke(event)

    # Then the rollback is reported and published once on the outcome topic, the record
    assert first["outcome"] == "ROLLBACK_STARTED"
    assert again["outcome"] == "DEDUPLICATED"
    assert len(world.rollback_calls()) == 1
    assert [message.body["outcome"] for message in world.published()] == ["ROLLBACK_STARTED"]
    # And the refused chat copy is logged whole, with SNS's answer, ready to publish by hand
    [failure] = [record for record in caplog.records if "chat copy" in record.getMessage()]
    assert failure.levelname == "ERROR"
    assert failure.exc_info is not None
    assert "NotFound" in str(failure.exc_info[1])
    assert json.loads(failure.__dict__["chatMessage"])["source"] == "custom"
    # And it is counted in the metric the stack alarms on (infra/monitoring.py), under the service dimension
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    emitted = {
        (metric["Name"], tuple(dimensions))
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        for dimensions in directive["Dimensions"]
    }
    assert (CHAT_FAILURE_METRIC, ("service",)) in emitted


def test_without_a_chat_topic_nothing_is_sent_to_chat(configure: Callable[..., World]) -> None:
    # Given a chat topic that exists but is not configured
    chat = chat_topic()
    world = configure()
    start_refresh(world.autoscaling, world.fleet("web-prod"))

    # When a rollback is published
    invoke(alarm_event("web-prod-5xx", tags=LINK))

    # Then only the outcome topic has it
    assert len(world.published()) == 1
    assert chat.received() == []
