"""``scripts.ops.pause``: every rollback stops at once without a redeploy, and resumes."""

from __future__ import annotations

from typing import Any

import boto3

from auto_rollback.vocabulary import HUB_BUS_NAME
from devkit.aws import events_rules, refresh_api
from devkit.scenarios.fleet import start_refresh
from devkit.scenarios.harness import invoke
from scripts.ops import pause
from tests.integration.conftest import World
from tests.integration.test_runbook_stack import as_hub, deploy_stack, put_alarm_event, strict_rules, template

__all__ = ["strict_rules", "template"]  # fixtures, used by name


def _run(command: str, function_name: str) -> tuple[str, list[str]]:
    lines: list[str] = []
    state = pause.run(command, boto3.client("events"), boto3.client("lambda"), function_name, out=lines.append)
    return state, lines


def test_pause_disables_the_rules_and_an_alarm_no_longer_reaches_the_function(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given a deployed stack, active
    stack = deploy_stack(template)
    assert _run("status", stack.function_name)[0] == pause.ACTIVE

    # When the operator pauses it and an alarm then fires
    state, lines = _run("pause", stack.function_name)
    put_alarm_event("web-prod-5xx")

    # Then both rules are disabled, the status says PAUSED, and nothing was delivered
    assert state == pause.PAUSED
    assert lines[0] == f"{stack.function_name}: PAUSED"
    assert {boto3.client("events").describe_rule(Name=rule)["State"] for rule in stack.rules} == {"DISABLED"}
    assert events_rules.deliveries(stack.function_arn) == []


def test_resume_enables_the_rules_and_the_next_alarm_is_delivered(strict_rules: None, template: dict[str, Any]) -> None:
    # Given a paused stack
    stack = deploy_stack(template)
    _run("pause", stack.function_name)

    # When the operator resumes it and an alarm fires
    state, _ = _run("resume", stack.function_name)
    put_alarm_event("web-prod-5xx")

    # Then the status is ACTIVE again and the alarm reaches the function
    assert state == pause.ACTIVE
    assert [item.event["detail"]["alarmName"] for item in events_rules.deliveries(stack.function_arn)] == [
        "web-prod-5xx"
    ]


def test_resume_finds_the_refresh_an_alarm_of_the_pause_left_unprotected(
    strict_rules: None, template: dict[str, Any], world: World
) -> None:
    # Given a paused stack, a group mid-refresh whose linked alarm entered ALARM during the pause
    # (its event was not delivered, and no other comes), and a quiet group mid-refresh beside it
    stack = deploy_stack(template)
    _run("pause", stack.function_name)
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    refresh_api.advance("web-prod", "InProgress", percentage=40)
    start_refresh(world.autoscaling, world.fleet("api-prod"))
    refresh_api.advance("api-prod", "InProgress", percentage=40)
    world.alarm("web-prod-5xx", group="web-prod")
    world.alarm("api-prod-5xx", group="api-prod", state="OK")
    put_alarm_event("web-prod-5xx")
    assert events_rules.deliveries(stack.function_arn) == []
    invoked: list[dict[str, Any]] = []

    def through_the_function(event: dict[str, Any]) -> dict[str, Any]:
        invoked.append(event)
        return invoke(event)

    # When the operator resumes, the tool invoking the function (in-process here; Lambda on AWS)
    lines: list[str] = []
    state = pause.run(
        "resume",
        boto3.client("events"),
        boto3.client("lambda"),
        stack.function_name,
        out=lines.append,
        invoke=through_the_function,
    )

    # Then only read-only invokes were made: the inventory, and evaluate of the alarmed group alone,
    # which would roll back; the rollback to paste is printed, and nothing was rolled back
    assert state == pause.ACTIVE
    assert [event["action"] for event in invoked] == ["inventory", "evaluate"]
    assert invoked[1]["autoScalingGroupName"] == "web-prod"
    assert "  web-prod: evaluate says DRY_RUN (evaluate-would-roll-back)" in lines, lines
    assert any(
        line.startswith("    to roll it back: aws lambda invoke --region us-east-1 ")
        and """'{"action":"rollback","autoScalingGroupName":"web-prod",""" in line
        for line in lines
    ), lines
    assert not any("api-prod" in line for line in lines)
    assert world.rollback_calls() == []


def test_resume_without_an_invoke_prints_the_check_to_run_by_hand(strict_rules: None, template: dict[str, Any]) -> None:
    # Given a paused stack
    stack = deploy_stack(template)
    _run("pause", stack.function_name)

    # When it is resumed by a caller that cannot invoke the function
    _, lines = _run("resume", stack.function_name)

    # Then the inventory and evaluate commands are printed, ready to paste
    report = "\n".join(lines)
    assert "alarms that entered ALARM during the pause send no new event" in report
    assert f"--function-name {stack.function_name} --cli-binary-format raw-in-base64-out" in report
    assert """--payload '{"action":"inventory"}' /dev/stdout""" in report
    assert """--payload '{"action":"evaluate","autoScalingGroupName":"<group>"}'""" in report


def test_a_rule_enabled_behind_the_pause_is_reported_as_partly_paused(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given a paused stack whose alarm rule was re-enabled (e.g. by a deploy that updated it)
    stack = deploy_stack(template)
    _run("pause", stack.function_name)
    (alarm_rule,) = [rule for rule in stack.rules if "AlarmStateChange" in rule]
    boto3.client("events").enable_rule(Name=alarm_rule)

    # When the operator asks for the status
    state, lines = _run("status", stack.function_name)

    # Then it says so, rule by rule, and the command line exits non-zero for it
    assert state == pause.PARTLY
    assert f"  rule {alarm_rule}: ENABLED" in lines
    assert any("run pause or resume again" in line for line in lines)


def test_status_of_an_unknown_stack_names_the_stack(aws: Any, capsys: Any) -> None:
    # Given no stack at all
    # When the command line asks for the status of one
    code = pause.main(["status", "--stack", "Nope", "--region", "us-east-1"])

    # Then it fails with a message naming the stack and the options to fix it
    assert code == 2
    error = capsys.readouterr().err
    assert "stack 'Nope' not found in region us-east-1" in error
    assert "--stack and --region" in error


def test_pause_also_finds_a_hubs_rules_on_the_hub_bus(strict_rules: None, template: dict[str, Any]) -> None:
    # Given a deployed function with a rule on the hub's own bus, as a hub stack has (organization mode)
    stack = deploy_stack(template)
    events = boto3.client("events")
    events.create_event_bus(Name=HUB_BUS_NAME)
    events.put_rule(Name="hub-alarms", EventBusName=HUB_BUS_NAME, EventPattern='{"source": ["aws.cloudwatch"]}')
    events.put_targets(
        Rule="hub-alarms", EventBusName=HUB_BUS_NAME, Targets=[{"Id": "function", "Arn": stack.function_arn}]
    )

    # When the operator pauses it
    state, lines = _run("pause", stack.function_name)

    # Then the hub bus's rule is disabled too (ListRuleNamesByTarget searches one bus at a time)
    assert state == pause.PAUSED
    assert events.describe_rule(Name="hub-alarms", EventBusName=HUB_BUS_NAME)["State"] == "DISABLED"
    assert "  rule hub-alarms: DISABLED" in lines


def test_a_hubs_resume_checks_the_member_accounts_named(strict_rules: None, template: dict[str, Any]) -> None:
    # Given a paused function configured as a hub (organization mode)
    stack = deploy_stack(template)
    as_hub(stack)
    lambda_client = boto3.client("lambda")
    _run("pause", stack.function_name)
    asked: list[dict[str, Any]] = []

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        asked.append(event)
        return {"groups": [], "complete": True}

    # When the operator resumes it naming one member account, and again naming none
    named: list[str] = []
    pause.run(
        "resume",
        boto3.client("events"),
        lambda_client,
        stack.function_name,
        out=named.append,
        invoke=answer,
        accounts=["333333333333"],
    )
    _run("pause", stack.function_name)
    unnamed: list[str] = []
    pause.run("resume", boto3.client("events"), lambda_client, stack.function_name, out=unnamed.append, invoke=answer)

    # Then the check asked that account's inventory, and without an account it prints the commands to run per account
    assert asked == [{"action": "inventory", "account": "333333333333"}]
    assert "account 333333333333:" in named
    assert "account <member account id>:" in unnamed
    assert any('"account":"<member account id>"' in line or "<member account id>" in line for line in unnamed[-3:])
