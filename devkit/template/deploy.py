"""Deploy what the embedded AWS can run of the synthesized template, exactly as the template says.

The outcome and chat topics (each read through an SQS subscription: the operators'
inbox, and what Amazon Q Developer would receive), the idempotency table, and the
EventBridge rules with their exact patterns. moto cannot run a Lambda target, so
each rule targets a queue, which :class:`devkit.template.dispatch.EventBus` drains
into the function's invocations: an event reaches the function only if a
synthesized pattern matched it. The function's environment is the template's,
its Refs pointing at what was created.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from auto_rollback.vocabulary import CHAT_TOPIC_DISPLAY_NAME, OUTCOMES_TOPIC_DISPLAY_NAME
from devkit.scenarios.harness import Deployment
from devkit.template.resources import StackTemplate, TemplateError, logical_name


@dataclass(frozen=True)
class DeployedRule:
    """A rule of the template on the emulator's default bus; its target is a queue."""

    logical_id: str
    pattern: dict[str, Any]
    queue_url: str

    @property
    def name(self) -> str:
        return logical_name(self.logical_id)


@dataclass(frozen=True)
class DeployedStack:
    """What :func:`deploy_stack` created, and the function's configuration from the template."""

    deployment: Deployment
    rules: tuple[DeployedRule, ...]
    environment: dict[str, str]
    timeout_seconds: float
    chat_topic_arn: str
    chat_inbox_url: str


def deploy_stack(template: StackTemplate) -> DeployedStack:
    """Create the template's topics, table and rules on the emulator; the function's environment."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_id, _ = template.topic(OUTCOMES_TOPIC_DISPLAY_NAME)
    topic_arn = sns.create_topic(
        Name="auto-rollback-outcomes", Attributes={"DisplayName": OUTCOMES_TOPIC_DISPLAY_NAME}
    )["TopicArn"]
    inbox_url = sqs.create_queue(QueueName="operator-inbox")["QueueUrl"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn(inbox_url))
    # The chat topic's subscriber on AWS is Amazon Q Developer; here a queue reads
    # exactly what it would receive.
    chat_id, _ = template.topic(CHAT_TOPIC_DISPLAY_NAME)
    chat_arn = sns.create_topic(Name="auto-rollback-chat", Attributes={"DisplayName": CHAT_TOPIC_DISPLAY_NAME})[
        "TopicArn"
    ]
    chat_inbox_url = sqs.create_queue(QueueName="chat-inbox")["QueueUrl"]
    sns.subscribe(
        TopicArn=chat_arn,
        Protocol="sqs",
        Endpoint=queue_arn(chat_inbox_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    table_id, table_name = create_table(template)
    rules = tuple(create_rule(logical_id, props) for logical_id, props in template.of_type("AWS::Events::Rule").items())
    function = template.function()
    environment = function_environment(function, {topic_id: topic_arn, chat_id: chat_arn, table_id: table_name})
    deployment = Deployment(topic_arn=topic_arn, queue_url=inbox_url, table_name=table_name, settings={})
    return DeployedStack(deployment, rules, environment, float(function.get("Timeout", 60)), chat_arn, chat_inbox_url)


def queue_arn(queue_url: str) -> str:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn


def create_table(template: StackTemplate) -> tuple[str, str]:
    """The template's idempotency table, with its keys, billing and TTL; its logical id and name."""
    dynamodb = boto3.client("dynamodb")
    logical_id, props = template.single("AWS::DynamoDB::Table")
    name = "auto-rollback-idempotency"
    wanted = ("KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput")
    dynamodb.create_table(TableName=name, **{key: props[key] for key in wanted if key in props})
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": ttl["Enabled"], "AttributeName": ttl["AttributeName"]}
        )
    return logical_id, name


def create_rule(logical_id: str, props: dict[str, Any]) -> DeployedRule:
    events, sqs = boto3.client("events"), boto3.client("sqs")
    pattern = props["EventPattern"]
    queue_url = sqs.create_queue(QueueName=f"{logical_id}-deliveries")["QueueUrl"]
    events.put_rule(Name=logical_id, EventPattern=json.dumps(pattern), State=props.get("State", "ENABLED"))
    events.put_targets(Rule=logical_id, Targets=[{"Id": "function", "Arn": queue_arn(queue_url)}])
    return DeployedRule(logical_id, pattern, queue_url)


def function_environment(function: dict[str, Any], refs: Mapping[str, str]) -> dict[str, str]:
    """The function's variables as the stack sets them, with Refs pointing at what was created."""
    environment = {}
    for name, raw in function.get("Environment", {}).get("Variables", {}).items():
        value = refs.get(raw["Ref"]) if isinstance(raw, dict) and set(raw) == {"Ref"} else raw
        if not isinstance(value, str):
            raise TemplateError(f"cannot resolve {name}={json.dumps(raw)} of the function's environment")
        environment[name] = value
    return environment
