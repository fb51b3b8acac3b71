"""``scripts.ops.smoke``: a deployed stack checked from its outputs, and one group evaluated."""

from __future__ import annotations

from typing import Any

import boto3

from devkit.aws import sns_subscriptions
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.harness import invoke
from scripts.ops import smoke
from scripts.ops.stack import StackOutputs, read_outputs
from tests.integration.conftest import World
from tests.integration.test_runbook_stack import as_hub, deploy_stack, strict_rules, template

__all__ = ["strict_rules", "template"]  # fixtures, used by name

#: Where Amazon Q Developer in chat applications subscribes a channel's topics.
CHAT_ENDPOINT = "https://global.sns-api.chatbot.amazonaws.com"


def _smoke(stack: str = "AutoRollback", group: str | None = None) -> tuple[int, list[str]]:
    lines: list[str] = []
    outputs = read_outputs(boto3.client("cloudformation"), stack)
    failed = smoke.run(boto3.client, outputs, group=group, invoke=invoke, out=lines.append)
    return failed, lines


def _subscribe_queue(topic_arn: str) -> None:
    """A same-account SQS subscriber: confirmed at once, on AWS as here."""
    queue = boto3.client("sqs").create_queue(QueueName="oncall")["QueueUrl"]
    arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)


def test_a_healthy_stack_passes_and_the_group_is_evaluated(
    strict_rules: None, template: dict[str, Any], world: World
) -> None:
    # Given a deployed stack with a confirmed subscriber, and a group
    stack = deploy_stack(template)
    _subscribe_queue(stack.topic_arn)
    world.fleet("web-prod")

    # When the smoke test runs with --group web-prod
    failed, lines = _smoke(group="web-prod")

    # Then every check passes, and the evaluate answer is reported
    assert failed == 0, "\n".join(lines)
    assert any(line.startswith("ok    evaluate web-prod: SKIPPED") for line in lines), "\n".join(lines)


def test_a_second_stack_a_full_queue_and_a_disabled_rule_each_fail(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given the stack deployed twice in the region (AutoRollback and AutoRollback-us-east-1),
    # an event waiting in the failed-events queue, a disabled rule and no subscriber
    stack = deploy_stack(template)
    deploy_stack(template, name="AutoRollback-us-east-1")
    boto3.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody="{}")
    boto3.client("events").disable_rule(Name=stack.rules[0])

    # When the smoke test runs
    failed, lines = _smoke()

    # Then each of those is a named failure, and nobody subscribed only a warning
    report = "\n".join(lines)
    assert failed == 3, report
    assert "FAIL  auto-rollback stacks in the region: AutoRollback, AutoRollback-us-east-1" in report
    assert "FAIL  failed-events queue: 1 message(s)" in report
    assert f"FAIL  rules enabled: disabled: {stack.rules[0]}" in report
    assert "WARN  anyone told of outcomes: no confirmed subscriber" in report


def test_an_email_subscription_is_pending_until_its_owner_confirms_as_on_aws(aws: AwsEmulator) -> None:
    # Given the emulation of pending subscriptions, and an email subscription to a topic
    sns_subscriptions.install()
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="outcomes")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")

    # When the topic's subscriptions are listed, before and after its owner confirms
    before = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    sns_subscriptions.confirm(topic, "oncall@example.com")
    after = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]

    # Then AWS's placeholder stands in for the ARN until then (moto alone lists the ARN at once)
    assert [item["SubscriptionArn"] for item in before] == ["PendingConfirmation"]
    assert after[0]["SubscriptionArn"].startswith(f"{topic}:")


def test_the_default_deploy_with_no_subscriber_passes_with_a_warning(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given a stack deployed as shipped: notificationEmails [] and no chat channel
    deploy_stack(template)

    # When the smoke test runs
    failed, lines = _smoke()

    # Then nothing fails, and the report says nobody is told while outcomes are still logged
    report = "\n".join(lines)
    assert failed == 0, report
    assert "ok    outcomes topic subscriptions: 0 confirmed, 0 pending confirmation" in report
    assert "ok    chat topic subscriptions: 0 confirmed, 0 pending confirmation" in report
    assert (
        "WARN  anyone told of outcomes: no confirmed subscriber on the outcomes or chat topic: "
        "outcomes are still logged, but nobody is told" in report
    )


def test_an_email_awaiting_confirmation_is_a_warning_naming_it(strict_rules: None, template: dict[str, Any]) -> None:
    # Given a first deploy with notificationEmails ["oncall@example.com"], not yet confirmed
    sns_subscriptions.install()
    stack = deploy_stack(template)
    boto3.client("sns").subscribe(TopicArn=stack.topic_arn, Protocol="email", Endpoint="oncall@example.com")

    # When the smoke test runs
    failed, lines = _smoke()

    # Then the pending subscription is named, nobody is told yet, and nothing fails
    report = "\n".join(lines)
    assert failed == 0, report
    assert "ok    outcomes topic subscriptions: 0 confirmed, 1 pending confirmation" in report
    assert "WARN  outcomes topic subscription pending confirmation: email oncall@example.com receives nothing" in report
    assert "WARN  anyone told of outcomes: no confirmed subscriber" in report


def test_a_team_on_slack_only_is_told_through_the_chat_topic(strict_rules: None, template: dict[str, Any]) -> None:
    # Given a stack whose only subscriber is the chat channel (Amazon Q Developer's endpoint on the chat topic)
    sns_subscriptions.install()
    stack = deploy_stack(template)
    sns = boto3.client("sns")
    sns.subscribe(TopicArn=stack.chat_topic_arn, Protocol="https", Endpoint=CHAT_ENDPOINT)
    sns_subscriptions.confirm(stack.chat_topic_arn, CHAT_ENDPOINT)

    # When the smoke test runs
    failed, lines = _smoke()

    # Then the function publishes to that chat topic, someone is told, and no line warns or fails
    report = "\n".join(lines)
    assert failed == 0, report
    assert f"ok    function publishes chat copies to the stack's chat topic: {stack.chat_topic_arn}" in report
    assert "ok    chat topic subscriptions: 1 confirmed (https), 0 pending confirmation" in report
    assert "ok    anyone told of outcomes: 1 confirmed subscriber(s)" in report
    assert not [line for line in lines if not line.startswith("ok")], report


def test_a_function_publishing_chat_elsewhere_fails(strict_rules: None, template: dict[str, Any]) -> None:
    # Given a stack whose function's CHAT_TOPIC_ARN names another topic than the ChatTopicArn output
    stack = deploy_stack(template)
    aws_lambda = boto3.client("lambda")
    variables = aws_lambda.get_function_configuration(FunctionName=stack.function_name)["Environment"]["Variables"]
    other = boto3.client("sns").create_topic(Name="someone-elses-chat")["TopicArn"]
    aws_lambda.update_function_configuration(
        FunctionName=stack.function_name, Environment={"Variables": {**variables, "CHAT_TOPIC_ARN": other}}
    )

    # When the smoke test runs
    failed, lines = _smoke()

    # Then that check fails, naming the topic the function publishes to
    report = "\n".join(lines)
    assert failed == 1, report
    assert f"FAIL  function publishes chat copies to the stack's chat topic: {other}" in report


def test_a_stack_deployed_before_chat_is_checked_on_its_outcomes_topic_only(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given a stack from before chat: no ChatTopicArn output, no CHAT_TOPIC_ARN, an SQS subscriber
    stack = deploy_stack(template)
    aws_lambda = boto3.client("lambda")
    variables = aws_lambda.get_function_configuration(FunctionName=stack.function_name)["Environment"]["Variables"]
    aws_lambda.update_function_configuration(
        FunctionName=stack.function_name,
        Environment={"Variables": {key: value for key, value in variables.items() if key != "CHAT_TOPIC_ARN"}},
    )
    _subscribe_queue(stack.topic_arn)
    current = read_outputs(boto3.client("cloudformation"), "AutoRollback")
    outputs = StackOutputs(current.stack, {k: v for k, v in current.outputs.items() if k != "ChatTopicArn"})

    # When the smoke test runs on those outputs
    lines: list[str] = []
    failed = smoke.run(boto3.client, outputs, group=None, invoke=None, out=lines.append)

    # Then it passes, saying the chat topic is not checked and why
    report = "\n".join(lines)
    assert failed == 0, report
    assert "ok    chat topic: no ChatTopicArn output (a stack deployed before chat; fine)" in report
    assert "chat topic subscriptions" not in report
    assert "ok    anyone told of outcomes: 1 confirmed subscriber(s)" in report


def test_on_a_hub_an_evaluate_without_its_account_fails_naming_the_option(
    strict_rules: None, template: dict[str, Any]
) -> None:
    # Given a deployed function configured as a hub (organization mode)
    stack = deploy_stack(template)
    as_hub(stack)
    # When the smoke test is asked to evaluate a group without --account
    failed, lines = _smoke(group="web-prod")
    # Then that check fails, saying the group's account is needed, and nothing is invoked
    assert any(line.startswith("FAIL  evaluate web-prod: organization mode: give --account") for line in lines)
    assert failed >= 1
