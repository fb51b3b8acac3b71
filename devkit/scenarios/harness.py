"""Run the function in-process against the emulator, as Lambda would run it.

``Deployment`` creates what the CDK stack would create and the emulator can run
(the outcome topic read through an SQS subscription, the idempotency table) and
points the function's configuration at it. ``invoke`` calls the real handler
with a Lambda-like context. Tests, ``make demo`` and ``make bench`` share this,
so the demo shows exactly what the tests prove.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import boto3

from devkit.aws.aws_server import ACCOUNT_ID, REGION, patched_environ

FUNCTION_NAME = "auto-rollback"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{FUNCTION_NAME}"


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the function reads; time runs like Lambda's."""

    timeout_seconds: float = 60.0
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    invoked_function_arn: str = FUNCTION_ARN
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


@dataclass(frozen=True)
class Published:
    """One SNS notification as a subscriber received it."""

    subject: str
    body: dict[str, Any]
    attributes: dict[str, str]


@dataclass(frozen=True)
class Deployment:
    """The stack's resources that the emulator can run, and the function's environment."""

    topic_arn: str
    queue_url: str
    table_name: str
    settings: Mapping[str, str]

    @classmethod
    def create(cls, *, name: str = "auto-rollback", **settings: str) -> Deployment:
        sns = boto3.client("sns")
        sqs = boto3.client("sqs")
        dynamodb = boto3.client("dynamodb")
        topic_arn = sns.create_topic(Name=f"{name}-outcomes")["TopicArn"]
        queue_url = sqs.create_queue(QueueName=f"{name}-outcomes-reader")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        table_name = f"{name}-idempotency"
        dynamodb.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
        )
        return cls(topic_arn, queue_url, table_name, dict(settings))

    @property
    def environment(self) -> dict[str, str]:
        """The function's environment variables, as the stack sets them."""
        return {
            "NOTIFICATION_TOPIC_ARN": self.topic_arn,
            "IDEMPOTENCY_TABLE_NAME": self.table_name,
            "POWERTOOLS_SERVICE_NAME": "auto-rollback",
            "POWERTOOLS_METRICS_NAMESPACE": "AutoRollback",
            **self.settings,
        }

    def published(self, *, wait_seconds: float = 0.0) -> list[Published]:
        """Drain the subscriber queue: every notification published since the last call."""
        sqs = boto3.client("sqs")
        messages: list[Published] = []
        deadline = time.monotonic() + wait_seconds
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            for message in batch:
                envelope = json.loads(message["Body"])
                messages.append(
                    Published(
                        subject=envelope.get("Subject", ""),
                        body=json.loads(envelope["Message"]),
                        attributes={k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                    )
                )
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            if not batch and time.monotonic() >= deadline:
                return messages


@contextmanager
def configured(environment: Mapping[str, str]) -> Iterator[None]:
    """Give the function this environment, as a fresh Lambda container would get it."""
    from auto_rollback.aws import aws_session
    from auto_rollback.handler import get_service

    with patched_environ(environment):
        get_service.cache_clear()
        aws_session.cache_clear()  # a new container builds its own session (credentials, endpoint)
        try:
            yield
        finally:
            get_service.cache_clear()
            aws_session.cache_clear()


def invoke(event: Any, *, timeout_seconds: float = 60.0) -> dict[str, Any]:
    """Call the real handler once, with a fresh Lambda-like context."""
    from auto_rollback.handler import lambda_handler

    result: dict[str, Any] = lambda_handler(event, LambdaContext(timeout_seconds=timeout_seconds))
    return result


def _invoke_all(
    environment: Mapping[str, str], events: Sequence[Any], record: bool, timeout_seconds: float, quiet: bool
) -> list[dict[str, Any]]:
    """Worker body: one process is one Lambda container serving events in turn.

    With ``record``, each answer also has ``calls``: the tally of the AWS calls that
    invocation made, which only the process making them can see. ``quiet`` swallows
    what the function prints: Powertools prints its ColdStart metric even with
    metrics disabled.
    """
    from devkit.scenarios.calls import CallRecorder, tally

    os.environ.update(environment)
    recorder = CallRecorder()
    if record:
        recorder.install()
    outcomes = []
    for event in events:
        with recorder.recording() as calls, redirect_stdout(io.StringIO()) if quiet else nullcontext():
            try:
                outcome = invoke(event, timeout_seconds=timeout_seconds)
            except Exception as error:  # the storm counts errors instead of stopping at the first
                outcome = {"outcome": "ERROR", "error": f"{type(error).__name__}: {error}"}
        outcomes.append({**outcome, "calls": tally(calls)} if record else outcome)
    return outcomes


def invoke_concurrently(
    environment: Mapping[str, str],
    events: Sequence[Any],
    *,
    processes: int,
    record_calls: bool = False,
    timeout_seconds: float = 60.0,
    quiet: bool = False,
) -> list[dict[str, Any]]:
    """Deliver events from ``processes`` separate processes at once (separate Lambda containers).

    The answers come process by process: process 0's share (``events[0::processes]``) first.
    """
    shares = [list(events[index::processes]) for index in range(processes)]
    env = {**environment, **{key: os.environ[key] for key in _AWS_VARIABLES if key in os.environ}}
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_invoke_all, env, share, record_calls, timeout_seconds, quiet) for share in shares]
        return [outcome for future in futures for outcome in future.result()]


_AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)
