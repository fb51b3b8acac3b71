"""Pause every automatic rollback at once, without redeploying; resume; show which it is.

Pausing disables the EventBridge rules that target the function (found with
``ListRuleNamesByTarget``, so whatever the stack named them). A disabled rule
matches no event: alarm and instance-refresh events are not delivered at all
during the pause (nothing queues up, nothing lands in the failed-events queue,
nothing is acted on late after resuming). Manual invokes (``evaluate``,
``rollback``) still work. Events the function had already accepted before the
pause finish, including Lambda's own retries of them.

Why not reserved concurrency 0: every invoke is then throttled, the manual ones
too; asynchronous events are retried for up to the maximum event age and then
fill the failed-events queue (and its alarm, and the Throttles alarm), and
replaying them later would decide on stale events.

An alarm that entered ALARM during the pause sends no further event: after
``resume`` an active refresh it watches stays unprotected (but for checkpoints and
bake time). So ``resume`` asks the function's fleet inventory (``{"action":
"inventory"}``, read-only) which groups have a refresh that can be rolled back and
a linked alarm in ALARM, and ``evaluate`` (read-only too) for each; it prints the
answers and the ``rollback`` invoke to paste, and rolls nothing back itself. When
the invokes fail it prints the commands to run by hand.

A later ``cdk deploy`` sets a rule's State back to ENABLED only when it updates
that rule; run ``status`` after every deploy during a pause.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.ops.smoke import Invoke, lambda_invoke
from scripts.ops.stack import OpsError, add_stack_options, function_rules, read_outputs, session, shown

ACTIVE = "active"
PAUSED = "paused"
PARTLY = "partly paused"
#: Inventory invokes after a resume (20 groups each): 1,000 groups, then the rest is left to the operator.
MAX_INVENTORY_PAGES = 50


def rules_of(events: Any, function_arn: str) -> list[dict[str, Any]]:
    rules = function_rules(events, function_arn)
    if not rules:
        raise OpsError(f"no EventBridge rule targets {function_arn}: wrong --stack or --region?")
    return rules


def state_of(rules: Sequence[dict[str, Any]]) -> str:
    states = {rule["State"] for rule in rules}
    if states == {"ENABLED"}:
        return ACTIVE
    if "ENABLED" not in states:
        return PAUSED
    return PARTLY


def invoke_command(lambda_client: Any, function_name: str, event: dict[str, Any]) -> str:
    """The AWS CLI command an operator pastes to invoke the function with ``event``."""
    payload = json.dumps(event, separators=(",", ":"))
    return (
        f"aws lambda invoke --region {shlex.quote(lambda_client.meta.region_name)} "
        f"--function-name {shlex.quote(function_name)} --cli-binary-format raw-in-base64-out "
        f"--payload {shlex.quote(payload)} /dev/stdout"
    )


def alarmed_refreshes(invoke: Invoke) -> tuple[list[str], bool]:
    """(groups whose refresh can be rolled back now and that have a linked alarm in ALARM, whether all were read)."""
    found: list[str] = []
    event: dict[str, Any] = {"action": "inventory"}
    for _ in range(MAX_INVENTORY_PAGES):
        answer = invoke(event)
        if "groups" not in answer:
            raise OpsError(f"the inventory answered no groups: {shown(json.dumps(answer), 300)}")
        for group in answer["groups"]:
            in_alarm = (group.get("alarms") or {}).get("states", {}).get("ALARM", 0)
            if group.get("canRollBack") and in_alarm:
                found.append(str(group["group"]))
        if answer.get("complete") or "nextToken" not in answer:
            return found, True
        event = {"action": "inventory", "nextToken": answer["nextToken"]}
    return found, False


def check_after_resume(
    lambda_client: Any,
    function_name: str,
    invoke: Invoke | None,
    *,
    out: Callable[[str], None],
    account: str | None = None,
) -> None:
    """Find the refreshes an alarm of the pause left unprotected, and say what to run for each."""
    named = {"account": account} if account else {}
    inventory = invoke_command(lambda_client, function_name, {"action": "inventory", **named})
    evaluate = {"action": "evaluate", "autoScalingGroupName": "<group>", **named}
    manual = (
        f"  by hand: {inventory}\n"
        "  then, for each group with canRollBack true and an alarm in ALARM (alarms.states):\n"
        f"  {invoke_command(lambda_client, function_name, evaluate)}"
    )
    out("alarms that entered ALARM during the pause send no new event: checking active refreshes")
    if invoke is None:
        out(manual)
        return
    try:
        groups, complete = alarmed_refreshes(invoke)
        answers = [(group, invoke({"action": "evaluate", "autoScalingGroupName": group})) for group in groups]
    except (OpsError, BotoCoreError, ClientError) as error:  # the rules are enabled: say so, and how to check
        out(f"  the check failed ({shown(str(error), 300)}); run it by hand:")
        out(manual)
        return
    if not complete:
        out(f"  WARNING: only the first {MAX_INVENTORY_PAGES} inventory pages were read; run the rest by hand:")
        out(manual)
    if not answers:
        out("  none: no refresh that can be rolled back has a linked alarm in ALARM")
    for group, answer in answers:
        out(
            f"  {shown(group)}: evaluate says {shown(answer.get('outcome', '?'))} "
            f"({shown(answer.get('reason', answer.get('summary', '')))})"
        )
        rollback = {"action": "rollback", "autoScalingGroupName": group, "reason": "alarm in ALARM during a pause"}
        out(f"    to roll it back: {invoke_command(lambda_client, function_name, rollback)}")


def run(
    command: str,
    events: Any,
    lambda_client: Any,
    function_name: str,
    *,
    out: Callable[[str], None],
    invoke: Invoke | None = None,
    accounts: Sequence[str] = (),
) -> str:
    """Apply ``command`` (status, pause, resume) and report; the resulting state.

    After a resume, ``invoke`` (a synchronous invoke of the function) runs the read-only
    check of :func:`check_after_resume`; without it, the commands for it are printed.
    A hub (organization mode) checks each of ``accounts``; without any, it prints the
    commands for one account, since invokes must name it.
    """
    function_arn = lambda_client.get_function_configuration(FunctionName=function_name)["FunctionArn"]
    rules = rules_of(events, function_arn)
    if command in ("pause", "resume"):
        for rule in rules:
            if command == "pause" and rule["State"] == "ENABLED":
                events.disable_rule(Name=rule["Name"], EventBusName=rule.get("EventBusName", "default"))
            elif command == "resume" and rule["State"] != "ENABLED":
                events.enable_rule(Name=rule["Name"], EventBusName=rule.get("EventBusName", "default"))
        rules = rules_of(events, function_arn)
    state = state_of(rules)
    out(f"{shown(function_name)}: {state.upper()}")
    for rule in rules:
        out(f"  rule {shown(rule['Name'])}: {rule['State']}")
    concurrency = lambda_client.get_function_concurrency(FunctionName=function_name).get("ReservedConcurrentExecutions")
    if concurrency == 0:
        out("  reserved concurrency is 0: every invoke is throttled, manual ones too (set by someone else)")
    if state == PARTLY:
        out("  some rules deliver and some do not: run pause or resume again")
    if command == "resume" and state == ACTIVE:
        variables = lambda_client.get_function_configuration(FunctionName=function_name).get("Environment", {})
        if "MEMBER_ROLE_NAME" not in variables.get("Variables", {}):
            check_after_resume(lambda_client, function_name, invoke, out=out)
        else:  # a hub: each invoke names its member account
            for account in accounts or ["<member account id>"]:
                out(f"account {shown(account)}:")
                in_account = None if invoke is None or not accounts else _in_account(invoke, account)
                check_after_resume(lambda_client, function_name, in_account, out=out, account=account)
    return state


def _in_account(invoke: Invoke, account: str) -> Invoke:
    return lambda event: invoke({**event, "account": account})


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.ops.pause", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("status", "pause", "resume"), help="what to do (status changes nothing)")
    add_stack_options(parser)
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        help="organization mode: a member account whose refreshes resume checks (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    aws = session(args.region)
    try:
        outputs = read_outputs(aws.client("cloudformation"), args.stack)
        lambda_client = aws.client("lambda")
        state = run(
            args.command,
            aws.client("events"),
            lambda_client,
            outputs.function_name,
            out=print,
            invoke=lambda_invoke(lambda_client, outputs.function_name),
            accounts=args.account,
        )
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if state == PARTLY else 0


if __name__ == "__main__":
    sys.exit(main())
