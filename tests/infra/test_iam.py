"""Least privilege, checked on the synthesized policy rather than on the code that writes it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from auto_rollback.vocabulary import HANDLER, MODE_TAG, GroupMode
from devkit.template.policy import (
    Statement,
    function_role_id,
    is_allowed,
    is_mutating,
    placeholder_arn,
    role_statements,
)
from devkit.template.synth import ACCOUNT, REGION, synth_template
from infra.function import LAMBDA_DIR, OPT_IN_CONDITION, ROLLBACK_ACTIONS

GROUP_ARN = (
    f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:"
    "930d940e-891e-4781-a11a-7b0acd480f03:autoScalingGroupName/web-prod"
)
OPT_IN = "autoscaling:ResourceTag/auto-rollback"

#: Actions that change something yet AWS only accepts on Resource "*".
MUTATING_WITHOUT_RESOURCE_SCOPING = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _logical_id(template_json: dict[str, Any], resource_type: str, **properties: Any) -> str:
    matching: list[str] = [
        logical_id
        for logical_id, resource in template_json["Resources"].items()
        if resource["Type"] == resource_type
        and all(resource["Properties"].get(key) == value for key, value in properties.items())
    ]
    (logical_id,) = matching
    return logical_id


def _function_statements(template_json: dict[str, Any]) -> list[Statement]:
    function_id = _logical_id(template_json, "AWS::Lambda::Function", Handler=HANDLER)
    return role_statements(template_json, function_role_id(template_json, function_id), account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def statements(template_json: dict[str, Any]) -> list[Statement]:
    """The function role's statements, intrinsics resolved for the test account and region."""
    return _function_statements(template_json)


@pytest.fixture(scope="module")
def dry_run_statements(tmp_path_factory: pytest.TempPathFactory) -> list[Statement]:
    """The same, for a stack deployed with dryRun=true and every other option as in cdk.json."""
    return _function_statements(synth_template(tmp_path_factory.mktemp("cdk-dry-run"), {"dryRun": True}))


def _client_calls(service: str) -> set[str]:
    """The IAM actions of the ``service`` calls the function's code makes (client methods and paginators)."""
    source = "\n".join(path.read_text() for path in sorted((LAMBDA_DIR / "auto_rollback").glob("*.py")))
    # The function's clients of a service are named after it (``autoscaling``, ``autoscaling_writes``).
    methods = set(re.findall(rf"\.{service}(?:_\w+)?\.(\w+)\(", source)) - {"get_paginator"}
    methods |= set(re.findall(rf"\.{service}\.get_paginator\(\"(\w+)\"\)", source))
    return {f"{service}:" + "".join(word.capitalize() for word in method.split("_")) for method in methods}


def test_no_statement_uses_a_wildcard_action(statements: list[Statement]) -> None:
    # Given the function role's statements
    # When their actions are listed
    actions = [action for statement in statements for action in statement.actions]

    # Then every action is named in full: none is a pattern
    assert actions
    assert [action for action in actions if "*" in action or "?" in action] == []


def test_resource_wildcard_is_only_for_reads_and_xray(statements: list[Statement]) -> None:
    # Given the function role's statements
    # When those on Resource "*" are taken
    on_everything = {action for statement in statements if "*" in statement.resources for action in statement.actions}

    # Then they read, or are X-Ray's (which accepts no resource), and nothing else
    assert {action for action in on_everything if is_mutating(action)} == MUTATING_WITHOUT_RESOURCE_SCOPING
    assert on_everything - MUTATING_WITHOUT_RESOURCE_SCOPING == {
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeInstanceRefreshes",
        "autoscaling:DescribeTags",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListAlarmMuteRules",
        "tag:GetResources",
    }


def test_rollback_and_cancel_are_only_allowed_under_the_opt_in_tag_condition(statements: list[Statement]) -> None:
    # Given the function role's statements
    # When those allowing rollback or cancel are taken
    granting = [
        statement
        for statement in statements
        if statement.matches_action("autoscaling:RollbackInstanceRefresh")
        or statement.matches_action("autoscaling:CancelInstanceRefresh")
    ]

    # Then there is one, on Auto Scaling group ARNs, under auto-rollback = enabled
    assert len(granting) == 1
    (statement,) = granting
    assert statement.conditions == {"StringEquals": {OPT_IN: "enabled"}}
    assert statement.resources == (f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*",)


@pytest.mark.parametrize("action", ["autoscaling:RollbackInstanceRefresh", "autoscaling:CancelInstanceRefresh"])
@pytest.mark.parametrize(
    ("tags", "allowed"),
    [
        ({OPT_IN: "enabled"}, True),
        ({OPT_IN: "dry-run"}, False),
        ({OPT_IN: "disabled"}, False),
        ({OPT_IN: "Enabled"}, False),
        ({}, False),
    ],
    ids=["enabled", "dry-run", "disabled", "wrong-case", "untagged"],
)
def test_only_opted_in_groups_can_be_changed(
    statements: list[Statement], action: str, tags: dict[str, str], allowed: bool
) -> None:
    # Given a group carrying the given auto-rollback tag
    # When the policy is asked whether the function may roll it back or cancel its refresh
    decision = is_allowed(statements, action, GROUP_ARN, tags)

    # Then only auto-rollback = enabled allows it
    assert decision is allowed


def test_other_accounts_and_regions_are_out_of_reach(statements: list[Statement]) -> None:
    # Given an opted-in group of another account, and one of another region
    other_account = GROUP_ARN.replace(ACCOUNT, "210987654321")
    other_region = GROUP_ARN.replace(REGION, "eu-west-1")

    # When the policy is asked about rolling them back
    # Then both are refused: each regional stack acts on its own region only
    for arn in (other_account, other_region):
        assert not is_allowed(statements, "autoscaling:RollbackInstanceRefresh", arn, {OPT_IN: "enabled"})


def test_publish_is_allowed_on_the_stacks_two_topics_only(
    statements: list[Statement], template_json: dict[str, Any]
) -> None:
    # Given the stack's outcomes topic, its chat topic, and some other topic
    topic = placeholder_arn(_logical_id(template_json, "AWS::SNS::Topic", DisplayName="auto-rollback outcomes"))
    chat = placeholder_arn(_logical_id(template_json, "AWS::SNS::Topic", DisplayName="auto-rollback chat"))
    other = f"arn:aws:sns:{REGION}:{ACCOUNT}:someone-elses-topic"

    # When the policy is asked about sns:Publish
    # Then only the stack's topics may be published to, and encrypted for with their key
    assert is_allowed(statements, "sns:Publish", topic)
    assert is_allowed(statements, "sns:Publish", chat)
    assert not is_allowed(statements, "sns:Publish", other)
    key = placeholder_arn(_logical_id(template_json, "AWS::KMS::Key"), "Arn")
    assert is_allowed(statements, "kms:GenerateDataKey", key)
    assert is_allowed(statements, "kms:Decrypt", key)
    assert not is_allowed(statements, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/other")


def test_table_rights_are_the_four_item_calls_on_the_idempotency_table(
    statements: list[Statement], template_json: dict[str, Any]
) -> None:
    # Given the stack's table
    table = placeholder_arn(_logical_id(template_json, "AWS::DynamoDB::Table"), "Arn")

    # When the policy is asked about DynamoDB
    granted = {action for statement in statements for action in statement.actions if action.startswith("dynamodb:")}

    # Then exactly Get/Put/Update/DeleteItem, on that table only
    assert granted == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    for action in granted:
        assert is_allowed(statements, action, table)
        assert not is_allowed(statements, action, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other")


def test_alarm_tags_are_readable_in_this_account_and_region_only(statements: list[Statement]) -> None:
    # Given an alarm here and one in another region
    here = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:web-prod 5xx"
    elsewhere = f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:web-prod 5xx"

    # When the policy is asked about ListTagsForResource
    # Then only the local alarm's tags are readable
    assert is_allowed(statements, "cloudwatch:ListTagsForResource", here)
    assert not is_allowed(statements, "cloudwatch:ListTagsForResource", elsewhere)


def test_every_granted_action_is_in_the_contract(statements: list[Statement]) -> None:
    # Given the function's contract (README): the calls it makes, and what Lambda needs to run it
    contract = {
        # Only the manual inventory invoke lists groups.
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeInstanceRefreshes",
        "autoscaling:DescribeTags",
        "autoscaling:RollbackInstanceRefresh",
        "autoscaling:CancelInstanceRefresh",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListAlarmMuteRules",
        "cloudwatch:ListTagsForResource",
        "tag:GetResources",
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        # Lambda's on-failure destination sends with the function's role.
        "sqs:SendMessage",
    }

    # When every granted action is listed
    granted = {action for statement in statements for action in statement.actions}

    # Then nothing beyond the contract is granted
    assert granted == contract


def test_the_role_has_no_managed_policy(template_json: dict[str, Any]) -> None:
    # Given the function's role
    function_id = _logical_id(template_json, "AWS::Lambda::Function", Handler=HANDLER)
    role = template_json["Resources"][function_role_id(template_json, function_id)]

    # When its properties are read
    # Then no AWS managed policy widens it (logging rights are scoped to its log group)
    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]


@pytest.mark.parametrize("service", ["autoscaling", "cloudwatch"])
def test_auto_scaling_and_cloudwatch_rights_are_exactly_the_calls_the_code_makes(
    statements: list[Statement], service: str
) -> None:
    # Given the calls the function's code makes to the service (lambda/auto_rollback)
    called = _client_calls(service)

    # When the actions the role grants on that service are listed
    granted = {action for statement in statements for action in statement.actions if action.startswith(f"{service}:")}

    # Then each granted action is called somewhere, and each call is granted: nothing unused, nothing missing
    assert called
    assert granted == called


def test_the_failed_events_queue_may_only_be_sent_to(
    statements: list[Statement], template_json: dict[str, Any]
) -> None:
    # Given the stack's failed-events queue and some other queue
    queue = placeholder_arn(_logical_id(template_json, "AWS::SQS::Queue"), "Arn")
    other = f"arn:aws:sqs:{REGION}:{ACCOUNT}:someone-elses-queue"

    # When the policy is asked about SQS
    granted = {action for statement in statements for action in statement.actions if action.startswith("sqs:")}

    # Then the role may send to that queue, and nothing more: not read it, not look it up, not send elsewhere
    assert granted == {"sqs:SendMessage"}
    assert is_allowed(statements, "sqs:SendMessage", queue)
    assert not is_allowed(statements, "sqs:SendMessage", other)


def test_the_opt_in_condition_is_the_functions_own_vocabulary(statements: list[Statement]) -> None:
    # Given the opt-in tag and value the function decides with (auto_rollback.facts)
    expected = {"StringEquals": {f"autoscaling:ResourceTag/{MODE_TAG}": GroupMode.ENABLED.value}}

    # When the condition on rollback/cancel is read from the synthesized policy
    (granting,) = [statement for statement in statements if set(ROLLBACK_ACTIONS) & set(statement.actions)]

    # Then it is built from that vocabulary, and it spells auto-rollback = enabled
    assert granting.conditions == expected == OPT_IN_CONDITION
    assert expected == {"StringEquals": {OPT_IN: "enabled"}}


@pytest.mark.parametrize(
    "value",
    ["enabled", "Enabled", "ENABLED", "enabled ", " enabled", "enabled\t", "dry-run", "Dry-Run", "disabled", "", "1"],
)
@pytest.mark.parametrize("action", ROLLBACK_ACTIONS)
def test_iam_allows_exactly_the_groups_the_function_treats_as_enabled(
    statements: list[Statement], value: str, action: str
) -> None:
    # Given a group whose auto-rollback tag has this value (exact, a near miss, or another mode)
    tags = {OPT_IN: value}

    # When IAM is asked, and the function reads the same tag
    allowed = is_allowed(statements, action, GROUP_ARN, tags)
    function_would_act = GroupMode.from_tag(value) is GroupMode.ENABLED

    # Then both agree: the function never decides on a rollback that IAM then refuses, nor the reverse
    assert allowed is function_would_act


def test_a_dry_run_deployment_cannot_roll_back_or_cancel_anything(dry_run_statements: list[Statement]) -> None:
    # Given a stack deployed with dryRun = true
    # When its role is asked about rollback or cancel, on an opted-in group or anything else
    granting = [statement for statement in dry_run_statements if set(ROLLBACK_ACTIONS) & set(statement.actions)]
    allowed = [
        is_allowed(dry_run_statements, action, resource, {OPT_IN: "enabled"})
        for action in ROLLBACK_ACTIONS
        for resource in (GROUP_ARN, "*")
    ]

    # Then no statement mentions them, so nothing is allowed, whatever the tags
    assert granting == []
    assert not any(allowed)


def test_a_dry_run_deployment_loses_only_the_mutating_statement(
    statements: list[Statement], dry_run_statements: list[Statement]
) -> None:
    # Given the default stack and a dry-run one
    # When their function roles are compared
    removed = [statement for statement in statements if statement not in dry_run_statements]
    added = [statement for statement in dry_run_statements if statement not in statements]

    # Then the dry-run role is the default one minus RollBackOptedInGroupsOnly: it still reads and notifies
    assert [statement.sid for statement in removed] == ["RollBackOptedInGroupsOnly"]
    assert added == []
    assert [action for statement in dry_run_statements for action in statement.actions if is_mutating(action)] == [
        action
        for statement in statements
        if statement.sid != "RollBackOptedInGroupsOnly"
        for action in statement.actions
        if is_mutating(action)
    ]


def test_mute_rules_are_read_only_where_the_function_honours_them(
    statements: list[Statement], rollback_on_insufficient_data_json: dict[str, Any]
) -> None:
    # Given the default stack (mutes honoured) and one with mutedAlarmAction = rollback
    acting_anyway = _function_statements(rollback_on_insufficient_data_json)

    # When each role is asked about ListAlarmMuteRules
    # Then only the stack that honours mutes may read them: the other never asks
    assert is_allowed(statements, "cloudwatch:ListAlarmMuteRules", "*")
    assert not any(statement.matches_action("cloudwatch:ListAlarmMuteRules") for statement in acting_anyway)


@pytest.mark.parametrize(
    "action",
    [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeInstanceRefreshes",
        "cloudwatch:DescribeAlarms",
        "tag:GetResources",
    ],
)
def test_the_inventory_invoke_may_make_its_reads_and_they_change_nothing(
    statements: list[Statement], dry_run_statements: list[Statement], action: str
) -> None:
    # Given the calls the inventory invoke makes (auto_rollback.inventory)
    # When the default and the dry-run roles are asked about each one
    # Then both allow it, and it is a read: listing the fleet widens no mutating right
    assert is_allowed(statements, action, "*")
    assert is_allowed(dry_run_statements, action, "*")
    assert not is_mutating(action)
