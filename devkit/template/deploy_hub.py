"""Deploy the hub template (organization mode) in the emulator's hub account, as the template says.

The hub bus with the template's policy, its rules targeting the function (and the
failed-events queue), the topics and the table; the spokes are deployed by
:func:`devkit.scenarios.organization.deploy_spoke`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3

from auto_rollback.vocabulary import CHAT_TOPIC_DISPLAY_NAME, HUB_BUS_NAME, OUTCOMES_TOPIC_DISPLAY_NAME
from devkit.aws.aws_server import REGION
from devkit.scenarios import organization as org
from devkit.scenarios.harness import FUNCTION_ARN, Deployment
from devkit.scenarios.organization import HUB
from devkit.template.deploy import create_table, function_environment, queue_arn
from devkit.template.resources import StackTemplate, TemplateError

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import TargetTypeDef


@dataclass(frozen=True)
class Hub:
    bus_arn: str
    rules: tuple[str, ...]
    environment: dict[str, str]
    deployment: Deployment
    timeout_seconds: float


def deploy_hub(hub: Mapping[str, Any]) -> Hub:
    """The hub stack's bus (with its policy), rules, topics and table, in the hub account."""
    template = StackTemplate(hub["Resources"], "hub")
    bus_id, _ = template.single("AWS::Events::EventBus")
    bus_arn = f"arn:aws:events:{REGION}:{HUB}:event-bus/{HUB_BUS_NAME}"
    _, policy = template.single("AWS::Events::EventBusPolicy")
    statement = {**policy["Statement"], "Resource": bus_arn}  # the template's Fn::GetAtt of the bus
    org.create_hub_bus({"Version": "2012-10-17", "Statement": [statement]})
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topics = {}
    for display_name, name in ((OUTCOMES_TOPIC_DISPLAY_NAME, "outcomes"), (CHAT_TOPIC_DISPLAY_NAME, "chat")):
        logical_id, _ = template.topic(display_name)
        topics[logical_id] = sns.create_topic(Name=f"auto-rollback-{name}", Attributes={"DisplayName": display_name})
    outcomes_id, _ = template.topic(OUTCOMES_TOPIC_DISPLAY_NAME)
    inbox_url = sqs.create_queue(QueueName="operator-inbox")["QueueUrl"]
    sns.subscribe(TopicArn=topics[outcomes_id]["TopicArn"], Protocol="sqs", Endpoint=queue_arn(inbox_url))
    table_id, table_name = create_table(template)
    failed_events = queue_arn(sqs.create_queue(QueueName="auto-rollback-failed-events")["QueueUrl"])
    events = boto3.client("events")
    rules = []
    for logical_id, props in template.of_type("AWS::Events::Rule").items():
        if props.get("EventBusName") != {"Ref": bus_id}:
            raise TemplateError(f"hub rule {logical_id} is not on the hub bus")
        events.put_rule(Name=logical_id, EventBusName=HUB_BUS_NAME, EventPattern=json.dumps(props["EventPattern"]))
        # The template's target, its Fn::GetAtt resolved: the function, and the failed-events queue.
        [found] = props["Targets"]
        target = cast("TargetTypeDef", {**found, "Arn": FUNCTION_ARN, "DeadLetterConfig": {"Arn": failed_events}})
        events.put_targets(Rule=logical_id, EventBusName=HUB_BUS_NAME, Targets=[target])
        rules.append(logical_id)
    refs = {logical_id: topic["TopicArn"] for logical_id, topic in topics.items()} | {table_id: table_name}
    function = template.function()
    environment = function_environment(function, refs)
    deployment = Deployment(topics[outcomes_id]["TopicArn"], inbox_url, table_name, {})
    return Hub(bus_arn, tuple(rules), environment, deployment, float(function.get("Timeout", 60)))
