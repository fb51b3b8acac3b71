"""The chat topic, the function's right to publish to it, and the optional Amazon Q Developer channels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from auto_rollback.vocabulary import HANDLER
from devkit.template.synth import build, synth_template
from infra.config import ConfigError, Settings

SLACK = {"workspaceId": "T0123ABCD", "channelId": "C0123ABCD"}
TEAMS = {
    "teamId": "0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b",
    "channelId": "19%3a0123abcd%40thread.tacv2",
    "tenantId": "1e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b",
}


@pytest.fixture(scope="module")
def with_channels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth_template(tmp_path_factory.mktemp("cdk-chat"), {"chatSlack": SLACK, "chatTeams": TEAMS})


def _only(template_json: dict[str, Any], resource_type: str, **properties: Any) -> tuple[str, dict[str, Any]]:
    [found] = [
        (logical_id, resource)
        for logical_id, resource in template_json["Resources"].items()
        if resource["Type"] == resource_type
        and all(resource["Properties"].get(key) == value for key, value in properties.items())
    ]
    return found


def _chat_topic_id(template_json: dict[str, Any]) -> str:
    logical_id, _ = _only(template_json, "AWS::SNS::Topic", DisplayName="auto-rollback chat")
    return logical_id


def test_the_chat_topic_is_encrypted_with_the_outcomes_key_and_ssl_only(template_json: dict[str, Any]) -> None:
    # Given the default template
    template = Template.from_json(template_json)
    chat = _chat_topic_id(template_json)
    _, outcomes = _only(template_json, "AWS::SNS::Topic", DisplayName="auto-rollback outcomes")
    # Then the chat topic uses the outcomes topic's key
    assert template_json["Resources"][chat]["Properties"]["KmsMasterKeyId"] == outcomes["Properties"]["KmsMasterKeyId"]
    # And its policy denies every request not made over TLS
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": chat}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            },
        },
    )
    # And the stack outputs its ARN, for channels configured in the console
    assert template_json["Outputs"]["ChatTopicArn"]["Value"] == {"Ref": chat}


def test_the_function_knows_the_chat_topic_and_may_publish_only_there(template_json: dict[str, Any]) -> None:
    chat = _chat_topic_id(template_json)
    _, function = _only(template_json, "AWS::Lambda::Function", Handler=HANDLER)
    assert function["Properties"]["Environment"]["Variables"]["CHAT_TOPIC_ARN"] == {"Ref": chat}
    statements = [
        statement
        for resource in template_json["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    [grant] = [statement for statement in statements if statement.get("Sid") == "PublishChat"]
    assert grant == {"Sid": "PublishChat", "Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": chat}}


def test_without_channel_ids_no_channel_configuration_is_created(template_json: dict[str, Any]) -> None:
    template = Template.from_json(template_json)
    template.resource_count_is("AWS::Chatbot::SlackChannelConfiguration", 0)
    template.resource_count_is("AWS::Chatbot::MicrosoftTeamsChannelConfiguration", 0)


def test_slack_and_teams_channels_subscribe_to_the_chat_topic_only(with_channels: dict[str, Any]) -> None:
    # Given workspace, team and channel ids in the context
    template = Template.from_json(with_channels)
    chat = _chat_topic_id(with_channels)
    # Then one configuration per platform is subscribed to the chat topic alone, logging errors only
    template.has_resource_properties(
        "AWS::Chatbot::SlackChannelConfiguration",
        {
            "SlackWorkspaceId": "T0123ABCD",
            "SlackChannelId": "C0123ABCD",
            "SnsTopicArns": [{"Ref": chat}],
            "LoggingLevel": "ERROR",
            "UserRoleRequired": False,
            "ConfigurationName": "AutoRollback-slack",
        },
    )
    template.has_resource_properties(
        "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
        {
            "TeamId": TEAMS["teamId"],
            "TeamsChannelId": TEAMS["channelId"],
            "TeamsTenantId": TEAMS["tenantId"],
            "SnsTopicArns": [{"Ref": chat}],
            "LoggingLevel": "ERROR",
            "ConfigurationName": "AutoRollback-teams",
        },
    )


def test_the_channels_role_has_no_permission_and_their_guardrail_denies_everything(
    with_channels: dict[str, Any],
) -> None:
    # Given the channels' role
    role_id, role = _only(
        with_channels,
        "AWS::IAM::Role",
        Description="Amazon Q Developer channels for auto-rollback notifications: no permissions",
    )
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "chatbot.amazonaws.com"
    }
    # Then no policy is attached to it, inline, managed or separate
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    for resource in with_channels["Resources"].values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            assert {"Ref": role_id} not in resource["Properties"].get("Roles", [])
    # And both channels' only guardrail is a deny-all policy (AWS's default guardrail is AdministratorAccess)
    guardrail_id, guardrail = _only(
        with_channels,
        "AWS::IAM::ManagedPolicy",
        Description="Guardrail of the auto-rollback chat channels: notifications only, no commands",
    )
    assert guardrail["Properties"]["PolicyDocument"]["Statement"] == [
        {"Effect": "Deny", "Action": "*", "Resource": "*"}
    ]
    for kind in ("SlackChannelConfiguration", "MicrosoftTeamsChannelConfiguration"):
        _, configuration = _only(with_channels, f"AWS::Chatbot::{kind}")
        assert configuration["Properties"]["GuardrailPolicies"] == [{"Ref": guardrail_id}]
        assert configuration["Properties"]["IamRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_aws_solutions_checks_pass_with_chat_channels(tmp_path: Path) -> None:
    # Given the app with both channels and the AWS Solutions pack
    app, _ = build(tmp_path, {"chatSlack": SLACK, "chatTeams": TEAMS})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # When it is synthesized
    app.synth()
    # Then no finding is left
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["violations"] == []


def test_a_chat_channel_cannot_be_created_by_every_regional_stack() -> None:
    # Given a Slack channel and two regions: a channel configuration is the account's, not a region's
    values = {"chatSlack": SLACK, "regions": ["eu-west-1", "us-east-1"]}

    # When the options are read
    with pytest.raises(ConfigError) as refused:
        Settings.from_mapping(values)

    # Then the synth stops before any stack, saying why and what to do instead
    assert "chatSlack cannot be used with 2 regions" in str(refused.value)
    assert "ChatTopicArn" in str(refused.value)
    # And one region is fine
    assert Settings.from_mapping({"chatSlack": SLACK, "regions": ["eu-west-1"]}).chat_slack is not None
