"""Every resource of the stack and the properties the deploy section promises."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from aws_cdk.assertions import Match, Template

from auto_rollback.events import ManualTrigger, parse_event
from devkit.template.synth import ACCOUNT, REPO_ROOT
from infra import SAMPLE_EVENTS_DIR
from infra import function as fn
from infra.console_events import EXAMPLES, GROUP_ACTIONS, PLACEHOLDER_GROUP, REGISTRY_NAME, manual_event_schema
from infra.triggers import REFRESH_DETAIL_TYPES
from tests.conftest import load_event
from tests.infra.conftest import Synth


def _only(template: Template, resource_type: str) -> tuple[str, Any]:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {sorted(resources)}"
    ((logical_id, resource),) = resources.items()
    return logical_id, resource


def _outcomes_topic(template: Template) -> tuple[str, Any]:
    """The outcomes topic (the stack's other topic carries the chat rendering, tests/infra/test_chat.py)."""
    resources = template.find_resources("AWS::SNS::Topic", {"Properties": {"DisplayName": "auto-rollback outcomes"}})
    assert len(resources) == 1, f"expected one outcomes topic, found {sorted(resources)}"
    ((logical_id, resource),) = resources.items()
    return logical_id, resource


def _function(template: Template) -> tuple[str, Any]:
    """The auto-rollback function (the stack's other function serves a custom resource)."""
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "auto_rollback.handler.lambda_handler"}}
    )
    assert len(functions) == 1
    ((logical_id, resource),) = functions.items()
    return logical_id, resource


def test_function_runs_the_handler_on_python_3_13_arm64_from_the_lambda_directory(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    _, function = _function(template)
    props = function["Properties"]

    # Then the function is the lambda/ asset, on the runtime both Lambda and Powertools support
    assert props["Runtime"] == fn.RUNTIME.name == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "auto_rollback.handler.lambda_handler"
    assert props["Code"]["S3Key"].endswith(".zip")
    assert props["MemorySize"] == fn.MEMORY_MB == 256
    assert props["Timeout"] == 60
    # No reservation by default: any reservation fails in an account whose quota is the minimum unreserved
    assert "ReservedConcurrentExecutions" not in props
    assert props["TracingConfig"] == {"Mode": "Active"}


def test_the_stack_deploys_the_python_the_suite_runs_on(template: Template) -> None:
    # Given the Python running this test suite, and the one the Makefile builds .venv with
    running = f"python{sys.version_info.major}.{sys.version_info.minor}"
    makefile = re.search(r"^PYTHON_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)

    # When the stack is synthesized
    _, function = _function(template)

    # Then the Lambda runtime is that same Python: what is tested is what runs
    assert function["Properties"]["Runtime"] == fn.RUNTIME.name == running
    assert makefile is not None
    assert f"python{makefile.group(1)}" == running


def test_function_asset_is_the_package_without_bytecode(default_synth: Synth) -> None:
    # Given a stray bytecode file beside the function's sources (as local test runs leave)
    # (the session fixture synthesized before this test; check the asset it wrote)
    _, function = _function(Template.from_json(default_synth.template))
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")

    # When the asset directory of the function is read
    asset = default_synth.outdir / f"asset.{asset_hash}"

    # Then it holds the auto_rollback package and no __pycache__ or .pyc
    assert (asset / "auto_rollback" / "__init__.py").is_file()
    assert not list(asset.rglob("*.pyc"))
    assert not list(asset.rglob("__pycache__"))
    assert sorted(path.name for path in asset.iterdir()) == ["auto_rollback"]


def test_function_environment_follows_the_contract(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    _, function = _function(template)
    variables = function["Properties"]["Environment"]["Variables"]

    # Then every variable the function reads is set, references included
    assert variables["NOTIFICATION_TOPIC_ARN"] == {"Ref": _outcomes_topic(template)[0]}
    assert variables["IDEMPOTENCY_TABLE_NAME"] == {"Ref": _only(template, "AWS::DynamoDB::Table")[0]}
    assert variables["DRY_RUN"] == "false"
    assert variables["IRREVERSIBLE_FALLBACK"] == "cancel"
    assert variables["INSUFFICIENT_DATA_ACTION"] == "ignore"
    assert variables["MUTED_ALARM_ACTION"] == "ignore"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "auto-rollback"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "AutoRollback"
    assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_context_options_reach_the_function(rollback_on_insufficient_data_json: dict[str, Any]) -> None:
    # Given every option changed from its default
    template = Template.from_json(rollback_on_insufficient_data_json)

    # When the stack is synthesized
    _, function = _function(template)
    variables = function["Properties"]["Environment"]["Variables"]

    # Then the function sees them, and the reservation asked for is made
    assert variables["DRY_RUN"] == "true"
    assert variables["IRREVERSIBLE_FALLBACK"] == "notify"
    assert variables["INSUFFICIENT_DATA_ACTION"] == "rollback"
    assert variables["MUTED_ALARM_ACTION"] == "rollback"
    assert function["Properties"]["ReservedConcurrentExecutions"] == 5


def test_function_logs_to_its_own_log_group_kept_a_year(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    _, function = _function(template)
    log_groups = template.find_resources("AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 365}})

    # Then the function writes to a retained log group with a one-year retention
    (log_group_id,) = log_groups
    assert function["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    assert log_groups[log_group_id]["DeletionPolicy"] == "Retain"


def test_async_invocations_retry_twice_then_go_to_the_failed_events_queue(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    queue_id, _ = _only(template, "AWS::SQS::Queue")
    function_id, _ = _function(template)

    # Then failures are bounded in retries and age, and land in the failed-events queue
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": function_id},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 3600,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}},
        },
    )


def test_failed_events_queue_is_encrypted_ssl_only_and_keeps_14_days(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    queue_id, queue = _only(template, "AWS::SQS::Queue")

    # Then the queue is encrypted, keeps messages the SQS maximum, and refuses plain HTTP
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sqs:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_eventbridge_may_write_to_the_failed_events_queue(template: Template) -> None:
    # Given both rules use the failed-events queue as dead-letter queue
    # When the stack is synthesized
    queue_id, _ = _only(template, "AWS::SQS::Queue")
    rule_ids = sorted(template.find_resources("AWS::Events::Rule"))

    # Then the queue policy lets exactly those two rules send to it
    policy = _only(template, "AWS::SQS::QueuePolicy")[1]["Properties"]["PolicyDocument"]
    senders = [
        statement
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "events.amazonaws.com"}
    ]
    rule_arns = sorted(statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0] for statement in senders)
    assert rule_arns == rule_ids
    assert all(statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]} for statement in senders)


def test_alarm_rule_sends_only_alarm_transitions(template: Template) -> None:
    # Given insufficientDataAction = ignore (the default)
    # When the stack is synthesized
    # Then the alarm rule matches only transitions to ALARM
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"state": {"value": ["ALARM"]}},
            },
            "State": "ENABLED",
        },
    )


def test_alarm_rule_adds_insufficient_data_when_it_triggers_rollbacks(
    rollback_on_insufficient_data_json: dict[str, Any],
) -> None:
    # Given insufficientDataAction = rollback
    template = Template.from_json(rollback_on_insufficient_data_json)

    # When the stack is synthesized
    # Then the rule also matches transitions to INSUFFICIENT_DATA
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail": {"state": {"value": ["ALARM", "INSUFFICIENT_DATA"]}},
            }
        },
    )


def test_refresh_rule_matches_every_instance_refresh_detail_type(template: Template) -> None:
    # Given the detail-types of the sample refresh events (one file per detail-type)
    samples = {load_event(path.name)["detail-type"] for path in SAMPLE_EVENTS_DIR.glob("refresh-*.json")}

    # When the stack is synthesized
    # Then the refresh rule lists exactly those nine detail-types from aws.autoscaling
    assert set(REFRESH_DETAIL_TYPES) == samples
    assert len(samples) == 9
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.autoscaling"],
                "detail-type": sorted(samples, key=REFRESH_DETAIL_TYPES.index),
            }
        },
    )


def test_both_rules_target_the_function_with_retries_and_dead_letter_queue(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    function_id, _ = _function(template)
    queue_id, _ = _only(template, "AWS::SQS::Queue")
    rules = template.find_resources("AWS::Events::Rule")

    # Then each rule hands its events to the function, retrying an hour before the dead-letter queue
    assert len(rules) == 2
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    template.resource_properties_count_is(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com"},
        2,
    )


def test_outcomes_topic_is_kms_encrypted_and_ssl_only(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    key_id, key = _only(template, "AWS::KMS::Key")
    topic_id, topic = _outcomes_topic(template)

    # Then the topic uses the stack's rotated key, which CloudWatch alarms may use, and denies plain HTTP
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    cloudwatch = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert [sorted(statement["Action"]) for statement in cloudwatch] == [["kms:Decrypt", "kms:GenerateDataKey"]]
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": topic_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                            }
                        ),
                    ]
                )
            },
        },
    )


def test_no_email_subscription_by_default(template: Template) -> None:
    # Given notificationEmails = [] in cdk.json
    # When the stack is synthesized
    # Then nobody is subscribed
    template.resource_count_is("AWS::SNS::Subscription", 0)


def test_each_notification_email_is_subscribed(rollback_on_insufficient_data_json: dict[str, Any]) -> None:
    # Given two notification emails in the context
    template = Template.from_json(rollback_on_insufficient_data_json)

    # When the stack is synthesized
    subscriptions = template.find_resources("AWS::SNS::Subscription")

    # Then each gets an email subscription to the outcomes topic
    assert sorted(sub["Properties"]["Endpoint"] for sub in subscriptions.values()) == [
        "oncall@example.com",
        "platform@example.com",
    ]
    assert {sub["Properties"]["Protocol"] for sub in subscriptions.values()} == {"email"}


def test_idempotency_table_is_on_demand_with_ttl_and_point_in_time_recovery(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    # Then the table has the key and TTL attribute Powertools' idempotency uses
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_alarms_on_errors_throttles_failed_events_and_lost_chat_copies_notify_the_topic(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    topic_id, _ = _outcomes_topic(template)
    function_id, _ = _function(template)
    queue_id, _ = _only(template, "AWS::SQS::Queue")
    alarms = template.find_resources("AWS::CloudWatch::Alarm")

    # Then four alarms fire on the first occurrence and notify the outcomes topic
    watched = {
        (alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"]): alarm["Properties"]
        for alarm in alarms.values()
    }
    assert set(watched) == {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AutoRollback", "ChatPublishFailures"),  # the metric the function emits (test_chat_delivery.py)
    }
    for props in watched.values():
        assert props["AlarmActions"] == [{"Ref": topic_id}]
        assert props["Threshold"] == 1
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching"
    assert watched[("AWS/Lambda", "Errors")]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    assert watched[("AutoRollback", "ChatPublishFailures")]["Dimensions"] == [
        {"Name": "service", "Value": "auto-rollback"}
    ]
    assert watched[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]


def test_console_test_events_are_published_without_owning_the_registry(template: Template) -> None:
    # Given consoleTestEvents = true (the default)
    # When the stack is synthesized
    function_id, _ = _function(template)
    _, schema = _only(template, "AWS::EventSchemas::Schema")

    # Then the schema holds the rollback and evaluate examples, named as the Lambda console expects
    props = schema["Properties"]
    assert props["RegistryName"] == REGISTRY_NAME == "lambda-testevent-schemas"
    assert props["Type"] == "OpenApi3"
    assert props["SchemaName"] == {"Fn::Join": ["", ["_", {"Ref": function_id}, "-schema"]]}
    content = json.loads(props["Content"])
    assert content == manual_event_schema()
    assert content["components"]["examples"]["rollback"]["value"] == load_event("manual-console-rollback.json")
    assert content["components"]["examples"]["evaluate"]["value"] == load_event("manual-console-evaluate.json")
    # ... and the registry is never a stack resource (it would clash with, or delete, the account's)
    template.resource_count_is("AWS::EventSchemas::Registry", 0)
    (ensure,) = template.find_resources("Custom::AWS").values()
    create = json.loads(ensure["Properties"]["Create"])
    assert create["action"] == "createRegistry"
    assert create["ignoreErrorCodesMatching"] == "ConflictException"
    assert "Delete" not in ensure["Properties"]


def test_shared_console_events_name_no_real_group_and_do_not_roll_back_as_shipped() -> None:
    # Given the examples the stack publishes to every console user of the account
    examples = {name: example["value"] for name, example in manual_event_schema()["components"]["examples"].items()}

    # When the function parses them exactly as shipped
    triggers = {name: parse_event(event) for name, event in examples.items() if name in GROUP_ACTIONS}

    # Then the group actions are valid manual invokes naming the placeholder, and the rollback one is a dry run
    assert set(examples) == set(EXAMPLES) == {"rollback", "evaluate", "inventory"}
    assert set(triggers) == set(GROUP_ACTIONS) == {"rollback", "evaluate"}
    assert all(isinstance(trigger, ManualTrigger) for trigger in triggers.values())
    assert {trigger.auto_scaling_group_name for trigger in triggers.values()} == {PLACEHOLDER_GROUP}
    assert examples["rollback"]["dryRun"] is True


def test_console_test_events_can_be_turned_off(rollback_on_insufficient_data_json: dict[str, Any]) -> None:
    # Given consoleTestEvents = false
    template = Template.from_json(rollback_on_insufficient_data_json)

    # When the stack is synthesized
    # Then neither the schema nor the registry custom resource exists
    template.resource_count_is("AWS::EventSchemas::Schema", 0)
    template.resource_count_is("Custom::AWS", 0)


def test_outputs_name_what_an_operator_needs(template: Template) -> None:
    # Given the default configuration
    # When the stack is synthesized
    outputs = template.find_outputs("*")

    # Then the topics, function, logs, dashboard, failed-events queue and table are printed after deploy
    assert set(outputs) == {
        "OutcomesTopicArn",
        "ChatTopicArn",
        "FunctionName",
        "LogGroupName",
        "DashboardUrl",
        "FailedEventsQueueUrl",
        "IdempotencyTableName",
    }
