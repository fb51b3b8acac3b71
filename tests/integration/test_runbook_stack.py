"""The synthesized stack put on the embedded AWS, as the runbook's tools find it after ``cdk deploy``.

moto's CloudFormation cannot create the whole template (its KMS key, custom
resource, layer), so :func:`deploy_stack` creates each resource the tools read from
the template's own properties: the failed-events queue, the outcomes and chat
topics, table, role and its policy, the function (its configuration; moto cannot
run it), its asynchronous invoke configuration, and the two rules targeting it with their dead-letter queue.
A CloudFormation stack then carries the template's outputs pointing at them.
The tests of this file pin that the rules behave like AWS's (devkit/aws/events_rules.py).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from auto_rollback.vocabulary import HANDLER
from devkit.aws import events_rules
from devkit.aws.aws_server import ACCOUNT_ID, REGION, AwsEmulator
from devkit.scenarios.events import alarm_event
from devkit.template.policy import resolve
from devkit.template.synth import synth_template
from infra.app import DESCRIPTION


@dataclass(frozen=True)
class DeployedStack:
    name: str
    function_name: str
    function_arn: str
    role_arn: str
    queue_url: str
    topic_arn: str
    rules: tuple[str, ...]
    chat_topic_arn: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth_template(tmp_path_factory.mktemp("runbook-cdk"))


@pytest.fixture
def strict_rules(aws: AwsEmulator) -> Iterator[None]:
    # The lead wires events_rules.install() into AwsEmulator; installing twice is a no-op.
    events_rules.install()
    events_rules.reset()
    yield
    events_rules.reset()


def _one(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(key, value["Properties"]) for key, value in template["Resources"].items() if value["Type"] == kind]
    return found


def _real_arns(value: Any) -> Any:
    """Placeholder ARNs of the template's resources (devkit.template.policy) as ARNs IAM accepts."""
    if isinstance(value, list):
        return [_real_arns(item) for item in value]
    if isinstance(value, dict):
        return {key: _real_arns(item) for key, item in value.items()}
    if isinstance(value, str):
        return re.sub(r"arn:test:(\w+):\w+", rf"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:resource/\1", value)
    return value


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("auto_rollback/__init__.py", "")
    return buffer.getvalue()


def as_hub(stack: DeployedStack, member_role: str = "auto-rollback-member-us-east-1") -> None:
    """Configure the deployed function as a hub (organization mode): the variable the tools read it from."""
    lambda_client: Any = boto3.client("lambda")
    variables = lambda_client.get_function_configuration(FunctionName=stack.function_name)["Environment"]["Variables"]
    lambda_client.update_function_configuration(
        FunctionName=stack.function_name, Environment={"Variables": {**variables, "MEMBER_ROLE_NAME": member_role}}
    )


def deploy_stack(template: dict[str, Any], name: str = "AutoRollback") -> DeployedStack:
    """Create the template's resources the tools use, and a stack with its outputs."""
    sqs: Any = boto3.client("sqs")
    sns: Any = boto3.client("sns")
    iam: Any = boto3.client("iam")
    aws_lambda: Any = boto3.client("lambda")
    events: Any = boto3.client("events")
    queue_url = sqs.create_queue(QueueName=f"{name}-FailedEvents")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic_id = template["Outputs"]["OutcomesTopicArn"]["Value"]["Ref"]
    topic_arn = sns.create_topic(Name=f"{name}-Outcomes")["TopicArn"]
    chat_topic_id = template["Outputs"]["ChatTopicArn"]["Value"]["Ref"]
    chat_topic_arn = sns.create_topic(Name=f"{name}-Chat")["TopicArn"]
    _, function = next(
        (key, value["Properties"])
        for key, value in template["Resources"].items()
        if value["Type"] == "AWS::Lambda::Function" and value["Properties"].get("Handler") == HANDLER
    )
    role_id = function["Role"]["Fn::GetAtt"][0]
    role_props = template["Resources"][role_id]["Properties"]
    role_arn = iam.create_role(
        RoleName=f"{name}-FunctionRole",
        AssumeRolePolicyDocument=json.dumps(role_props["AssumeRolePolicyDocument"]),
    )["Role"]["Arn"]
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            document = _real_arns(resolve(resource["Properties"]["PolicyDocument"], account=ACCOUNT_ID, region=REGION))
            iam.put_role_policy(
                RoleName=f"{name}-FunctionRole", PolicyName="DefaultPolicy", PolicyDocument=json.dumps(document)
            )
    refs = {topic_id: topic_arn, chat_topic_id: chat_topic_arn}
    variables = {
        key: refs.get(value["Ref"], f"{name}-{value['Ref']}") if isinstance(value, dict) else value
        for key, value in function["Environment"]["Variables"].items()
    }
    function_name = f"{name}-Function"
    function_arn = aws_lambda.create_function(
        FunctionName=function_name,
        Runtime=function["Runtime"],
        Role=role_arn,
        Handler=function["Handler"],
        Code={"ZipFile": _zip()},
        Timeout=function["Timeout"],
        MemorySize=function["MemorySize"],
        Architectures=function["Architectures"],
        Environment={"Variables": variables},
    )["FunctionArn"]
    if "ReservedConcurrentExecutions" in function:
        aws_lambda.put_function_concurrency(
            FunctionName=function_name, ReservedConcurrentExecutions=function["ReservedConcurrentExecutions"]
        )
    _, invoke_config = _one(template, "AWS::Lambda::EventInvokeConfig")
    aws_lambda.put_function_event_invoke_config(
        FunctionName=function_name,
        MaximumRetryAttempts=invoke_config["MaximumRetryAttempts"],
        MaximumEventAgeInSeconds=invoke_config["MaximumEventAgeInSeconds"],
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    rules = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        props = resource["Properties"]
        rule_name = f"{name}-{logical_id}"
        events.put_rule(Name=rule_name, EventPattern=json.dumps(props["EventPattern"]), State=props["State"])
        (target,) = props["Targets"]
        events.put_targets(
            Rule=rule_name,
            Targets=[
                {
                    "Id": target["Id"],
                    "Arn": function_arn,
                    "DeadLetterConfig": {"Arn": queue_arn},
                    "RetryPolicy": target["RetryPolicy"],
                }
            ],
        )
        rules.append(rule_name)
    values = {
        "FunctionName": function_name,
        "OutcomesTopicArn": topic_arn,
        "ChatTopicArn": chat_topic_arn,
        "FailedEventsQueueUrl": queue_url,
        "IdempotencyTableName": f"{name}-Idempotency",
    }
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {
                "Description": DESCRIPTION,
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {key: {"Value": value} for key, value in values.items()},
            }
        ),
    )
    return DeployedStack(
        name, function_name, function_arn, role_arn, queue_url, topic_arn, tuple(sorted(rules)), chat_topic_arn
    )


def put_alarm_event(name: str) -> None:
    """An alarm going to ALARM, put on the default bus the way CloudWatch emits it."""
    event = alarm_event(name)
    boto3.client("events").put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
            }
        ]
    )


def test_an_enabled_rule_delivers_an_alarm_event_to_the_function(
    strict_rules: None, template: dict[str, Any], tmp_path: Path
) -> None:
    # Given the stack's rules on the embedded AWS, targeting the function
    stack = deploy_stack(template)

    # When an alarm goes to ALARM
    put_alarm_event("web-prod-5xx")

    # Then the alarm rule hands it to the function, once
    delivered = events_rules.deliveries(stack.function_arn)
    assert [item.event["detail"]["alarmName"] for item in delivered] == ["web-prod-5xx"]
    assert delivered[0].rule.startswith("AutoRollback-TriggersAlarmStateChange")


def test_a_disabled_rule_delivers_nothing_as_on_aws(strict_rules: None, template: dict[str, Any]) -> None:
    # Given the stack's rules, the alarm rule disabled
    stack = deploy_stack(template)
    (alarm_rule,) = [rule for rule in stack.rules if "AlarmStateChange" in rule]
    boto3.client("events").disable_rule(Name=alarm_rule)

    # When an alarm goes to ALARM
    put_alarm_event("web-prod-5xx")

    # Then nothing reaches the function (moto alone would have delivered it)
    assert events_rules.deliveries(stack.function_arn) == []


def test_other_targets_are_still_served_by_moto(strict_rules: None) -> None:
    # Given an enabled rule targeting an SQS queue and a disabled one targeting another
    events, sqs = boto3.client("events"), boto3.client("sqs")
    urls = {}
    for state in ("ENABLED", "DISABLED"):
        urls[state] = sqs.create_queue(QueueName=f"to-{state}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=urls[state], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"r-{state}", EventPattern=json.dumps({"source": ["aws.cloudwatch"]}), State=state)
        events.put_targets(Rule=f"r-{state}", Targets=[{"Id": "q", "Arn": arn}])

    # When an alarm event is put on the bus
    put_alarm_event("any")

    # Then only the enabled rule's queue receives it
    assert len(sqs.receive_message(QueueUrl=urls["ENABLED"]).get("Messages", [])) == 1
    assert sqs.receive_message(QueueUrl=urls["DISABLED"]).get("Messages", []) == []
