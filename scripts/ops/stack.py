"""What every operator tool needs: the deployed stack's outputs, its AWS clients, its options.

Each tool reads the names it works on from the CloudFormation stack's outputs
(infra/stack.py), never from a guess, so ``--stack``/``--region`` is all an operator
types. Clients are injectable: the tests pass clients of the embedded AWS.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from auto_rollback.vocabulary import HUB_BUS_NAME

#: The stack name ``cdk deploy`` gives a deployment (infra/app.py).
DEFAULT_STACK = "AutoRollback"
#: The outputs that make a stack an auto-rollback deployment (infra/stack.py).
REQUIRED_OUTPUTS = ("FunctionName", "OutcomesTopicArn", "FailedEventsQueueUrl")


class OpsError(Exception):
    """Something an operator must fix before the tool can do its job; the message says what."""


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    outputs: Mapping[str, str]

    @property
    def function_name(self) -> str:
        return self.outputs["FunctionName"]

    @property
    def topic_arn(self) -> str:
        return self.outputs["OutcomesTopicArn"]

    @property
    def queue_url(self) -> str:
        return self.outputs["FailedEventsQueueUrl"]


def read_outputs(cloudformation: Any, stack: str) -> StackOutputs:
    """The stack's outputs; OpsError naming the stack or the missing output otherwise."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        raise OpsError(
            f"stack {stack!r} not found in region {cloudformation.meta.region_name}: "
            f"{error.response['Error'].get('Message', error)} (pass --stack and --region)"
        ) from error
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise OpsError(f"stack {stack!r} has no output {', '.join(missing)}: is it an auto-rollback stack?")
    return StackOutputs(stack, outputs)


def auto_rollback_stacks(cloudformation: Any) -> list[str]:
    """Names of every live stack of the region that carries auto-rollback's outputs."""
    names = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            keys = {item["OutputKey"] for item in stack.get("Outputs", [])}
            if set(REQUIRED_OUTPUTS) <= keys:
                names.append(stack["StackName"])
    return names


def function_rules(events: Any, function_arn: str) -> list[dict[str, Any]]:
    """Every rule that targets the function, as DescribeRule answers (its ``EventBusName`` included).

    Per account the rules are on the default bus; a hub's are on its own bus
    (``auto-rollback-hub``), which ListRuleNamesByTarget searches only when named.
    """
    rules: list[dict[str, Any]] = []
    for bus in ("default", HUB_BUS_NAME):
        try:
            names = _rule_names(events, function_arn, bus)
        except ClientError as error:
            if bus != "default" and error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                continue  # no hub bus: a per-account deployment
            raise
        rules += [events.describe_rule(Name=name, EventBusName=bus) for name in sorted(names)]
    return rules


def _rule_names(events: Any, function_arn: str, bus: str) -> list[str]:
    names: list[str] = []
    token: str | None = None
    while True:
        request: dict[str, Any] = {"TargetArn": function_arn, "EventBusName": bus, "Limit": 100}
        if token:
            request["NextToken"] = token
        page = events.list_rule_names_by_target(**request)
        names.extend(page.get("RuleNames", []))
        token = page.get("NextToken")
        if not token:
            return names


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"CloudFormation stack name (default {DEFAULT_STACK})")
    parser.add_argument("--region", default=None, help="AWS region of the stack (default: your profile's)")


def session(region: str | None) -> boto3.Session:
    return boto3.Session(region_name=region)


def shown(value: Any, limit: int = 120) -> str:
    """A value from an event or AWS, safe to print: no control characters, bounded length.

    Names in events come from whoever created the alarm or sent the invoke; a newline
    or an escape sequence in one must not forge a line of this tool's report.
    """
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else "\N{REPLACEMENT CHARACTER}" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"
