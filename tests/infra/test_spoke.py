"""The spoke template a StackSet deploys in every member account: a role the hub assumes, and forwarding rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auto_rollback.vocabulary import HANDLER, HUB_BUS_NAME, hub_role_name, member_role_name
from devkit.template.policy import Statement, function_role_id, role_statements
from devkit.template.synth import ACCOUNT, REGION
from infra.config import ConfigError, Settings
from infra.function import DATA_PLANE_SIDS
from infra.spoke import (
    DEAD_LETTER_QUEUE_NAME,
    TEMPLATE_BODY_MAX_BYTES,
    check_template_body,
    spoke_template,
    template_body,
)

ORGANIZATION = "o-a1b2c3d4e5"
HUB_ACCOUNT = "123456789012"
MEMBER_ACCOUNT = "333333333333"
HUB_CONTEXT = {"mode": "hub", "organizationId": ORGANIZATION, "organizationalUnitIds": ["ou-ab12-cd34ef56"]}


def _settings(**overrides: Any) -> Settings:
    return Settings.from_mapping({**HUB_CONTEXT, **overrides})


@pytest.fixture(scope="module")
def spoke() -> dict[str, Any]:
    return spoke_template(_settings())


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def _with_hub_account(value: Any, account: str) -> Any:
    """The template as CloudFormation sees it once the StackSet gives HubAccountId."""
    return json.loads(json.dumps(value).replace('{"Ref": "HubAccountId"}', json.dumps(account)))


def _member_role_id(template: dict[str, Any]) -> str:
    (role_id,) = [
        key for key, role in _resources(template, "AWS::IAM::Role").items() if "RoleName" in role["Properties"]
    ]
    return role_id


def _join(value: Any) -> str:
    """A Fn::Join of literals and pseudo parameters as text (``${AWS::Region}``)."""
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return str(separator).join(part if isinstance(part, str) else "${" + part["Ref"] + "}" for part in parts)


def test_the_spoke_has_no_asset_and_no_bootstrap_parameter(spoke: dict[str, Any]) -> None:
    # Given the spoke template (member accounts are not CDK-bootstrapped)
    # When its parameters, rules and resources are read
    # Then its only parameter is the hub's account, it has no bootstrap rule, and nothing refers to an asset
    assert list(spoke["Parameters"]) == ["HubAccountId"]
    assert spoke["Parameters"]["HubAccountId"]["AllowedPattern"] == r"^\d{12}$"
    assert "Rules" not in spoke
    assert "BootstrapVersion" not in json.dumps(spoke)
    assert "cdk-hnb659fds" not in json.dumps(spoke) and "S3Key" not in json.dumps(spoke)
    assert sorted({resource["Type"] for resource in spoke["Resources"].values()}) == [
        "AWS::Events::Rule",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
    ]


def test_the_member_role_trusts_only_the_hub_role_of_its_region_in_the_organization(spoke: dict[str, Any]) -> None:
    # Given the spoke's member role
    role = spoke["Resources"][_member_role_id(spoke)]["Properties"]

    # When its name and trust policy are read
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]

    # Then it is the role the hub asks for, trusted by the hub account's role of that region, in the organization only
    assert _join(role["RoleName"]) == member_role_name("${AWS::Region}")
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert _join(trust["Principal"]["AWS"]) == "arn:${AWS::Partition}:iam::${HubAccountId}:root"
    assert {key: {name: _join(value) for name, value in test.items()} for key, test in trust["Condition"].items()} == {
        "ArnEquals": {
            "aws:PrincipalArn": "arn:${AWS::Partition}:iam::${HubAccountId}:role/" + hub_role_name("${AWS::Region}")
        },
        "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION},
    }


@pytest.mark.parametrize(
    "overrides",
    [{}, {"dryRun": True}, {"mutedAlarmAction": "rollback"}],
    ids=["live", "dry-run", "muted-alarms-acted-on"],
)
def test_the_member_role_has_exactly_the_account_mode_functions_data_plane_rights(
    overrides: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given the account-mode function's role and the spoke's member role, synthesized with the same options
    from devkit.template.synth import synth_template

    account_mode = synth_template(tmp_path_factory.mktemp("account-mode"), overrides)
    (function_id,) = [
        key
        for key, resource in _resources(account_mode, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") == HANDLER
    ]
    spoke = _with_hub_account(spoke_template(_settings(**overrides)), HUB_ACCOUNT)

    # When the data-plane statements of the first and all statements of the second are resolved in one account
    function_statements = [
        statement
        for statement in role_statements(
            account_mode, function_role_id(account_mode, function_id), account=ACCOUNT, region=REGION
        )
        if statement.sid in DATA_PLANE_SIDS
    ]
    member_statements = role_statements(spoke, _member_role_id(spoke), account=ACCOUNT, region=REGION)

    # Then they are the same statements: one definition, whatever the options
    assert member_statements == function_statements
    assert {statement.sid for statement in member_statements} <= set(DATA_PLANE_SIDS)
    assert ("RollBackOptedInGroupsOnly" in {statement.sid for statement in member_statements}) != bool(
        overrides.get("dryRun")
    )


def _rules(template: dict[str, Any]) -> list[dict[str, Any]]:
    return list(_resources(template, "AWS::Events::Rule").values())


def test_the_rules_forward_to_the_hub_bus_of_the_same_region_with_a_put_events_only_role(
    spoke: dict[str, Any],
) -> None:
    # Given the spoke's rules, in a member account, once the StackSet gives the hub's account
    template = _with_hub_account(spoke, HUB_ACCOUNT)

    # When their targets and the targets' role are read
    targets = [target for rule in _rules(template) for target in rule["Properties"]["Targets"]]
    (role_id,) = {target["RoleArn"]["Fn::GetAtt"][0] for target in targets}
    forwarder = role_statements(template, role_id, account=MEMBER_ACCOUNT, region="eu-west-1")

    # Then both rules listen on the default bus and target the hub's bus of the same region with that role,
    # which may put events on that bus and do nothing else
    hub_bus = f"arn:aws:events:eu-west-1:{HUB_ACCOUNT}:event-bus/{HUB_BUS_NAME}"
    assert len(targets) == 2
    assert all("EventBusName" not in rule["Properties"] for rule in _rules(template))
    assert {
        _join(target["Arn"]).replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "eu-west-1")
        for target in targets
    } == {hub_bus}
    assert forwarder == [Statement(effect="Allow", actions=("events:PutEvents",), resources=(hub_bus,))]
    assert template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
    ]
    # and give up on an event after the hour the hub's own rules allow
    assert {json.dumps(target["RetryPolicy"], sort_keys=True) for target in targets} == {
        json.dumps({"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}, sort_keys=True)
    }


def test_what_the_rules_cannot_deliver_waits_in_an_encrypted_queue_of_the_member_account(
    spoke: dict[str, Any],
) -> None:
    # Given the spoke's rules and its only queue
    ((queue_id, queue),) = _resources(spoke, "AWS::SQS::Queue").items()
    rule_ids = sorted(_resources(spoke, "AWS::Events::Rule"))

    # When the rules' targets and the queue are read
    targets = [target for rule_id in rule_ids for target in spoke["Resources"][rule_id]["Properties"]["Targets"]]

    # Then every target's dead-letter queue is that queue: an event the hub's bus refuses, or that
    # outlives the retries, waits there instead of being dropped
    assert len(targets) == 2
    assert all(target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}} for target in targets)
    # and the queue is found by its name, encrypted, and keeps messages 14 days (SQS's longest)
    assert queue["Properties"]["QueueName"] == DEAD_LETTER_QUEUE_NAME
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_only_the_spokes_own_rules_may_send_to_its_queue_and_only_over_https(spoke: dict[str, Any]) -> None:
    # Given the spoke's queue and its policy
    ((queue_id, _),) = _resources(spoke, "AWS::SQS::Queue").items()
    (policy,) = _resources(spoke, "AWS::SQS::QueuePolicy").values()
    rule_ids = sorted(_resources(spoke, "AWS::Events::Rule"))

    # When the policy's statements are read
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [statement for statement in statements if statement["Effect"] == "Allow"]
    denies = [statement for statement in statements if statement["Effect"] == "Deny"]

    # Then EventBridge may send messages to it, once per rule, only on behalf of that rule
    assert policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    assert sorted(
        (
            statement["Principal"],
            statement["Action"],
            json.dumps(statement["Resource"]),
            statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0],
        )
        for statement in allows
    ) == [
        ({"Service": "events.amazonaws.com"}, "sqs:SendMessage", json.dumps({"Fn::GetAtt": [queue_id, "Arn"]}), rule)
        for rule in rule_ids
    ]
    assert all(set(statement["Condition"]) == {"ArnEquals"} for statement in allows)
    # and every request that is not HTTPS is denied, whoever makes it
    assert [(statement["Action"], statement["Condition"]) for statement in denies] == [
        ("sqs:*", {"Bool": {"aws:SecureTransport": "false"}})
    ]


def test_the_rules_forward_what_the_hub_listens_for(
    spoke: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given the hub's template
    from devkit.template.synth import synth_template

    hub = synth_template(tmp_path_factory.mktemp("hub"), HUB_CONTEXT)

    # When the event patterns of the spoke's rules and of the hub's rules are compared
    # Then they are the same two patterns
    def patterns(template: dict[str, Any]) -> list[str]:
        return sorted(json.dumps(rule["Properties"]["EventPattern"], sort_keys=True) for rule in _rules(template))

    assert patterns(spoke) == patterns(hub)
    assert len(patterns(spoke)) == 2


def test_insufficient_data_is_forwarded_when_the_hub_acts_on_it() -> None:
    # Given a hub that treats INSUFFICIENT_DATA like ALARM
    template = spoke_template(_settings(insufficientDataAction="rollback"))

    # When the spoke's alarm rule is read
    (states,) = [
        rule["Properties"]["EventPattern"]["detail"]["state"]["value"]
        for rule in _rules(template)
        if rule["Properties"]["EventPattern"]["source"] == ["aws.cloudwatch"]
    ]

    # Then the spoke forwards those transitions too
    assert states == ["ALARM", "INSUFFICIENT_DATA"]


def test_the_template_fits_a_stack_sets_template_body(spoke: dict[str, Any]) -> None:
    # Given the spoke template with every option that adds to it
    largest = spoke_template(_settings(insufficientDataAction="rollback"))

    # When it is written as the StackSet carries it
    size = len(template_body(largest).encode())

    # Then it is well under CloudFormation's 51,200-byte limit on a TemplateBody
    assert TEMPLATE_BODY_MAX_BYTES == 51_200
    assert size < TEMPLATE_BODY_MAX_BYTES // 4


def test_a_template_body_over_the_limit_stops_the_synth() -> None:
    # Given a body one byte over the limit
    body = "x" * (TEMPLATE_BODY_MAX_BYTES + 1)

    # When it is checked
    # Then synth stops, saying how large it is and what the limit is
    with pytest.raises(ConfigError, match="51201 bytes, over the 51200 bytes"):
        check_template_body(body)


def test_the_spoke_is_made_for_hub_mode_only() -> None:
    # Given account-mode options
    # When a spoke template is asked for
    # Then it is refused: a spoke needs the organization it trusts
    with pytest.raises(ConfigError, match='mode "hub"'):
        spoke_template(Settings())
