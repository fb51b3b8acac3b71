"""Shareable Lambda console test events: roll back or evaluate a group in two clicks.

The Lambda console keeps shareable test events as examples in an EventBridge
schema named ``_<function name>-schema`` in the registry ``lambda-testevent-schemas``.
That registry belongs to the account, not to any stack: the console creates it
the first time anyone saves a shareable event. Declaring it as a CloudFormation
resource would fail in every account where it already exists (and delete it,
with every other team's events, on ``cdk destroy``). So the registry is only
*ensured*: a custom resource calls CreateRegistry and treats "already exists"
as success, and never deletes it. The schema itself is owned by the stack.

The custom resource runs on CDK's singleton provider function, which logs to a
log group this stack declares and creates first: left to itself, Lambda would
create ``/aws/lambda/<provider>`` on its first invocation, racing the log group
that the ``useCdkManagedLogGroup`` flag adds with that very name ("already exists").
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Fn, RemovalPolicy, Stack, Validations
from aws_cdk import aws_eventschemas as eventschemas
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from auto_rollback.vocabulary import INVENTORY_ACTION, ManualAction
from infra import SAMPLE_EVENTS_DIR

REGISTRY_NAME = "lambda-testevent-schemas"
#: What the console offers, kept beside the function's sample events (tests/unit
#: parses every file there). These are not the samples the function's tests roll
#: web-prod back with: a shared event is two clicks from a real rollback, so it
#: names no real group and the rollback one is a dry run until someone edits both.
EXAMPLES = {
    "rollback": "manual-console-rollback.json",
    "evaluate": "manual-console-evaluate.json",
    "inventory": "manual-console-inventory.json",
}
#: The manual actions that act on, or answer for, one group: they need its name. The
#: inventory (INVENTORY_ACTION, read-only, every opted-in group) takes none.
GROUP_ACTIONS = tuple(action.value for action in ManualAction)
#: The group name the console events carry until the operator replaces it.
PLACEHOLDER_GROUP = "REPLACE-WITH-YOUR-GROUP-NAME"
#: Organization mode: the member account the events carry until the operator replaces it. Not twelve
#: digits, so the function refuses an event sent unchanged, naming the field.
PLACEHOLDER_ACCOUNT = "REPLACE-WITH-THE-MEMBER-ACCOUNT-ID"
#: An invoke's ``account`` (the function's events.py refuses anything else).
ACCOUNT_PROPERTY = {"type": "string", "pattern": "^[0-9]{12}$"}

#: The id CDK gives the one Lambda function that serves every AwsCustomResource in a stack.
_AWS_CUSTOM_RESOURCE_PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"
_PROVIDER_LOGS_ID = "AwsCustomResourceLogs"
#: The provider's lines only say which SDK call it made and how it ended; CloudTrail
#: keeps the calls themselves. Three months covers looking back at a failed deploy.
PROVIDER_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


def aws_custom_resource_log_group(scope: Construct) -> logs.ILogGroup:
    """The stack's one log group for CDK's AwsCustomResource provider: pass it as ``log_group``.

    The provider is a singleton built with the props of the first AwsCustomResource
    of the stack, so every AwsCustomResource in the stack should be given this same
    group (tests/infra/test_dashboard.py checks that no function logs elsewhere).
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(_PROVIDER_LOGS_ID)
    if isinstance(existing, logs.LogGroup):
        return existing
    return logs.LogGroup(
        stack,
        _PROVIDER_LOGS_ID,
        retention=PROVIDER_LOG_RETENTION,
        # Its name is generated, so a later deploy never clashes with a kept one.
        removal_policy=RemovalPolicy.DESTROY,
    )


def manual_event_schema(*, hub: bool = False) -> dict[str, Any]:
    """The OpenAPI 3 document the console reads: the event's shape plus named examples.

    A hub (organization mode) requires the member account in every invoke, so its
    examples carry a placeholder for it.
    """
    account = ["account"] if hub else []
    examples = {name: json.loads((SAMPLE_EVENTS_DIR / file).read_text()) for name, file in EXAMPLES.items()}
    if hub:
        examples = {name: {**example, "account": PLACEHOLDER_ACCOUNT} for name, example in examples.items()}
    return {
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": "ManualInvoke"},
        "paths": {},
        "components": {
            "schemas": {
                "ManualInvoke": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/GroupInvoke"},
                        {"$ref": "#/components/schemas/InventoryInvoke"},
                    ]
                },
                # The function refuses fields it does not know, so the schema does too.
                "GroupInvoke": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["action", "autoScalingGroupName", *account],
                    "properties": {
                        "action": {"type": "string", "enum": list(GROUP_ACTIONS)},
                        "autoScalingGroupName": {"type": "string"},
                        "reason": {"type": "string"},
                        "dryRun": {"type": "boolean"},
                        "account": ACCOUNT_PROPERTY,
                    },
                },
                "InventoryInvoke": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["action", *account],
                    "properties": {
                        "action": {"type": "string", "enum": [INVENTORY_ACTION]},
                        # Given back by an inventory answer that did not fit; resumes there.
                        "nextToken": {"type": "string"},
                        "account": ACCOUNT_PROPERTY,
                    },
                },
            },
            "examples": {name: {"value": example} for name, example in examples.items()},
        },
    }


class ConsoleTestEvents(Construct):
    """The ``rollback``, ``evaluate`` and ``inventory`` shareable test events for the function."""

    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction, hub: bool = False) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        registry_arn = stack.format_arn(
            service="schemas",
            resource="registry",
            resource_name=REGISTRY_NAME,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        ensure_registry = cr.AwsCustomResource(
            self,
            "EnsureRegistry",
            on_create=cr.AwsSdkCall(
                service="Schemas",
                action="createRegistry",
                parameters={
                    "RegistryName": REGISTRY_NAME,
                    "Description": "Lambda console shareable test events",
                },
                physical_resource_id=cr.PhysicalResourceId.of(REGISTRY_NAME),
                # The registry usually exists already: that is the expected case.
                ignore_error_codes_matching="ConflictException",
            ),
            # No on_delete: the registry holds other functions' events too.
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["schemas:CreateRegistry"], resources=[registry_arn])]
            ),
            install_latest_aws_sdk=False,
            log_group=aws_custom_resource_log_group(self),
        )

        self.schema = eventschemas.CfnSchema(
            self,
            "Schema",
            registry_name=REGISTRY_NAME,
            schema_name=Fn.join("", ["_", function.function_name, "-schema"]),
            type="OpenApi3",
            content=json.dumps(manual_event_schema(hub=hub)),
            description="Shareable test events for the auto-rollback function (rollback, evaluate, inventory)",
        )
        self.schema.node.add_dependency(ensure_registry)

        provider = stack.node.try_find_child(_AWS_CUSTOM_RESOURCE_PROVIDER_ID)
        if provider is not None:
            Validations.of(provider).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    reason="CDK's AwsCustomResource provider only writes its own logs with this policy; "
                    "it runs once per deployment to ensure the test-event registry exists.",
                ),
            )
