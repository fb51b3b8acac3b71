"""The event dispatcher: EventBridge's rules, as deployed from the template, in front of the function.

moto matches the rules' patterns while answering PutEvents and delivers to each
rule's queue (:mod:`devkit.template.deploy`); the dispatcher hands back what each
rule delivered, as Lambda's EventBridge trigger would invoke the function with it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3

from devkit.aws.aws_server import ACCOUNT_ID
from devkit.template.deploy import DeployedRule

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef


class EventRefusedError(Exception):
    """PutEvents refused the event (EventBridge's own validation)."""


@dataclass(frozen=True)
class Delivery:
    rule: str
    event: dict[str, Any]


class EventBus:
    """The default bus with the stack's rules: put an event, get what each rule delivered."""

    def __init__(self, rules: Sequence[DeployedRule]) -> None:
        self.rules = rules
        self.events = boto3.client("events")
        self.sqs = boto3.client("sqs")

    def put(self, event: dict[str, Any]) -> list[Delivery]:
        """PutEvents with the event's fields; moto matches the rules while answering."""
        entry: PutEventsRequestEntryTypeDef = {
            "Source": event.get("source", ""),
            "DetailType": event.get("detail-type", ""),
            "Detail": json.dumps(event.get("detail")),
            "Resources": event.get("resources", []),
        }
        if isinstance(event.get("time"), str):
            entry["Time"] = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        response = self.events.put_events(Entries=[entry])
        if response["FailedEntryCount"]:
            failure = response["Entries"][0]
            raise EventRefusedError(
                f"EventBridge refused the event: {failure.get('ErrorCode')}: {failure.get('ErrorMessage')}"
            )
        return [Delivery(rule.name, body) for rule in self.rules for body in self._drain(rule.queue_url)]

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        delivered = []
        while messages := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                # moto's default target input drops "account" and adds "ingestion-time";
                # EventBridge hands Lambda the event with the bus's account and without it.
                body.pop("ingestion-time", None)
                body.setdefault("account", ACCOUNT_ID)
                delivered.append(body)
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return delivered
