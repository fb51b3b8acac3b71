"""Check a deployed stack from its outputs, and evaluate one group through the function.

Each check prints ``ok``, ``WARN`` or ``FAIL`` and what it saw; the exit code is 1
when any check failed. The evaluate invoke is read-only: the function explains what
it would decide for the group, and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from auto_rollback.vocabulary import HANDLER, HUB_BUS_NAME
from scripts.ops.stack import (
    OpsError,
    StackOutputs,
    add_stack_options,
    auto_rollback_stacks,
    function_rules,
    read_outputs,
    session,
    shown,
)

#: The SubscriptionArn ListSubscriptionsByTopic gives a subscription its endpoint has not confirmed.
PENDING = "PendingConfirmation"
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


class Report:
    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.failed = 0

    def check(self, passed: bool, what: str, detail: str, *, warn_only: bool = False) -> None:
        status = "ok  " if passed else ("WARN" if warn_only else "FAIL")
        self.failed += 0 if passed or warn_only else 1
        self.out(f"{status}  {what}: {detail}")


def run(
    aws: Callable[..., Any],
    outputs: StackOutputs,
    *,
    group: str | None,
    invoke: Invoke | None,
    out: Callable[[str], None],
    account: str | None = None,
) -> int:
    """Every check against the stack; the number that failed."""
    report = Report(out)
    lambda_client = aws("lambda")
    config = lambda_client.get_function_configuration(FunctionName=outputs.function_name)
    variables = config.get("Environment", {}).get("Variables", {})
    report.check(
        config.get("Handler") == HANDLER and config.get("State", "Active") == "Active",
        "function",
        f"{shown(config['FunctionName'])} {config.get('Runtime')} {config.get('State', 'Active')}, "
        f"DRY_RUN={shown(variables.get('DRY_RUN', '?'))}",
    )
    report.check(
        variables.get("NOTIFICATION_TOPIC_ARN") == outputs.topic_arn,
        "function publishes to the stack's topic",
        shown(variables.get("NOTIFICATION_TOPIC_ARN", "not set")),
    )
    concurrency = lambda_client.get_function_concurrency(FunctionName=outputs.function_name)
    reserved = concurrency.get("ReservedConcurrentExecutions")
    report.check(reserved != 0, "reserved concurrency", "account pool" if reserved is None else str(reserved))

    rules = function_rules(aws("events"), config["FunctionArn"])
    sources = {json.loads(rule.get("EventPattern", "{}")).get("source", ["?"])[0] for rule in rules}
    report.check(
        {"aws.cloudwatch", "aws.autoscaling"} <= sources,
        "rules targeting the function",
        ", ".join(f"{shown(rule['Name'])} ({rule['State']})" for rule in rules) or "none",
    )
    disabled = [rule["Name"] for rule in rules if rule["State"] != "ENABLED"]
    enabled = "all" if not disabled else f"disabled: {shown(', '.join(disabled))}"
    report.check(bool(rules) and not disabled, "rules enabled", enabled if rules else "no rule found")
    hub = "MEMBER_ROLE_NAME" in variables
    if hub:
        # The spokes are not this stack's resources: their state is the StackSet's (docs/DEPLOY.md, section 11).
        report.check(
            any(rule.get("EventBusName") == HUB_BUS_NAME for rule in rules),
            "organization mode",
            f"rules on the hub bus {HUB_BUS_NAME}, member role {shown(variables['MEMBER_ROLE_NAME'])}; spokes: "
            "aws cloudformation list-stack-instances --stack-set-name <StackSetName output>",
        )

    _subscribers(report, aws("sns"), outputs, variables)

    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=outputs.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    waiting = sum(int(value) for value in attributes.values())
    report.check(
        waiting == 0,
        "failed-events queue",
        f"{waiting} message(s)" + ("" if waiting == 0 else ": list them with python -m scripts.ops.replay"),
    )

    stacks = auto_rollback_stacks(aws("cloudformation"))
    report.check(
        len(stacks) == 1,
        "auto-rollback stacks in the region",
        ", ".join(shown(name) for name in stacks)
        + ("" if len(stacks) == 1 else ": each one rolls back and notifies; delete all but one"),
    )

    if group is not None and invoke is not None:
        if hub and account is None:
            report.check(False, f"evaluate {shown(group)}", "organization mode: give --account, the group's account")
            return report.failed
        request = {"action": "evaluate", "autoScalingGroupName": group}
        answer = invoke(request if account is None else {**request, "account": account})
        report.check(
            "outcome" in answer,
            f"evaluate {shown(group)}",
            f"{shown(answer.get('outcome', '?'))} ({shown(answer.get('reason', answer.get('summary', '')))})",
        )
    return report.failed


def _subscribers(report: Report, sns: Any, outputs: StackOutputs, variables: dict[str, str]) -> None:
    """Who is told of an outcome: confirmed subscriptions of the outcomes and chat topics.

    Nobody subscribed is a warning, not a failure: the default deploy has no email,
    and a team on Slack or Teams subscribes only the chat topic. Outcomes are logged
    either way.
    """
    topics = {"outcomes": outputs.topic_arn}
    chat_arn = outputs.outputs.get("ChatTopicArn")
    if chat_arn is None:
        report.check(
            True,
            "chat topic",
            "no ChatTopicArn output (a stack deployed before chat; fine): only the outcomes topic is checked",
        )
    else:
        topics["chat"] = chat_arn
        report.check(
            variables.get("CHAT_TOPIC_ARN") == chat_arn,
            "function publishes chat copies to the stack's chat topic",
            shown(variables.get("CHAT_TOPIC_ARN", "not set")),
        )
    confirmed = 0
    for label, arn in topics.items():
        subscriptions: list[dict[str, Any]] = []
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
            subscriptions.extend(page["Subscriptions"])
        # AWS lists an unconfirmed subscription with "PendingConfirmation" in place of its ARN.
        live = [item for item in subscriptions if item["SubscriptionArn"].startswith("arn:")]
        pending = [item for item in subscriptions if item["SubscriptionArn"] == PENDING]
        confirmed += len(live)
        report.check(
            True,
            f"{label} topic subscriptions",
            f"{len(live)} confirmed"
            + (f" ({', '.join(sorted({shown(item['Protocol']) for item in live}))})" if live else "")
            + f", {len(pending)} pending confirmation",
        )
        for item in pending:
            report.check(
                False,
                f"{label} topic subscription pending confirmation",
                f"{shown(item['Protocol'])} {shown(item['Endpoint'], 80)} receives nothing until its owner "
                "follows the link of AWS's confirmation message (valid two days; subscribe again after that)",
                warn_only=True,
            )
    report.check(
        confirmed > 0,
        "anyone told of outcomes",
        f"{confirmed} confirmed subscriber(s)"
        if confirmed
        else "no confirmed subscriber on the outcomes or chat topic: outcomes are still logged, but nobody is "
        "told; set notificationEmails and confirm them, or a chat channel (docs/DEPLOY.md, section 6)",
        warn_only=True,
    )


def lambda_invoke(lambda_client: Any, function_name: str) -> Invoke:
    """A synchronous invoke; OpsError if the function failed."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        answer = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event))
        payload: dict[str, Any] = json.loads(answer["Payload"].read() or b"{}")
        if answer.get("FunctionError"):
            raise OpsError(f"the function failed: {shown(payload.get('errorMessage', payload))}")
        return payload

    return invoke


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.ops.smoke", description=__doc__.split("\n")[0])
    add_stack_options(parser)
    parser.add_argument("--group", help="an Auto Scaling group to evaluate through the function (read-only)")
    parser.add_argument("--account", help="organization mode: the member account of --group (12 digits)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    aws = session(args.region)
    try:
        outputs = read_outputs(aws.client("cloudformation"), args.stack)
        invoke = lambda_invoke(aws.client("lambda"), outputs.function_name) if args.group else None
        failed = run(aws.client, outputs, group=args.group, invoke=invoke, out=print, account=args.account)
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
