"""The trust model's last line: IAM itself refuses to touch a group that did not opt in.

Checked on the synthesized policy (tests/infra), so that it holds even if the
function's code were wrong: whatever group name a tagged alarm names, the role
may roll back or cancel only groups tagged ``auto-rollback=enabled``, and may not
change any tag, so that it cannot opt a group in by itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auto_rollback.vocabulary import HANDLER
from devkit.reliability.trust import MUTATIONS, OPT_IN, TAGGING, group_arn
from devkit.template.policy import Statement, function_role_id, is_allowed, role_statements
from devkit.template.synth import ACCOUNT, REGION, synth_template


@pytest.fixture(scope="module")
def template_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The template ``make synth`` would produce."""
    template: dict[str, Any] = synth_template(tmp_path_factory.mktemp("trust-model"))
    return template


def _function_id(template: dict[str, Any]) -> str:
    (function_id,) = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Handler") == HANDLER
    ]
    return function_id


@pytest.fixture(scope="module")
def statements(template_json: dict[str, Any]) -> list[Statement]:
    """The function role's statements in the synthesized template."""
    role_id = function_role_id(template_json, _function_id(template_json))
    return role_statements(template_json, role_id, account=ACCOUNT, region=REGION)


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40),
    tag=st.one_of(st.none(), st.text(max_size=20).filter(lambda value: value != "enabled")),
    action=st.sampled_from(MUTATIONS),
)
def test_no_group_without_the_enabled_tag_can_be_changed(
    statements: list[Statement], name: str, tag: str | None, action: str
) -> None:
    # Given any group name an alarm tag could name, carrying any auto-rollback tag but "enabled" (or none)
    context = {} if tag is None else {OPT_IN: tag}

    # When the synthesized policy is asked whether the function may roll it back or cancel its refresh
    allowed = is_allowed(statements, action, group_arn(name), context)

    # Then it may not; with the tag set to enabled it may
    assert not allowed
    assert is_allowed(statements, action, group_arn(name), {OPT_IN: "enabled"})


@pytest.mark.parametrize("action", TAGGING)
def test_the_function_cannot_change_tags_so_cannot_opt_a_group_in(statements: list[Statement], action: str) -> None:
    # Given the function's role
    # When asked whether it may write tags on a group or an alarm
    targets = [group_arn("web-prod"), f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:web-prod-5xx", "*"]

    # Then it may not: consent stays with whoever may tag the group
    assert not any(is_allowed(statements, action, target, {OPT_IN: "enabled"}) for target in targets)


def test_the_stack_lets_only_its_own_rules_invoke_the_function(template_json: dict[str, Any]) -> None:
    # Given the function's resource-based policy (its Lambda permissions) in the template
    function_id = _function_id(template_json)
    resources = template_json["Resources"]
    rules = {logical_id for logical_id, resource in resources.items() if resource["Type"] == "AWS::Events::Rule"}
    permissions = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]

    # When we list who each permission lets in
    grantees = [(p["Principal"], p["SourceArn"]["Fn::GetAtt"][0]) for p in permissions]

    # Then only EventBridge, for this stack's two rules: any other invoker needs lambda:InvokeFunction from
    # an identity policy in the account, which the stack cannot see (docs/RELIABILITY.md, trust model)
    assert sorted(grantees) == sorted(("events.amazonaws.com", rule) for rule in rules)
    assert len(rules) == 2


def test_only_cloudwatch_alarms_of_this_account_are_let_in_by_the_topic_policies(
    template_json: dict[str, Any],
) -> None:
    # Given the resource policies of the outcomes topic and of the chat topic
    policies = [r["Properties"] for r in template_json["Resources"].values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    assert len(policies) == 2

    # When their Allow statements are read
    allows = [s for policy in policies for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]

    # Then the only principal they add is CloudWatch, for this account's alarms, on the outcomes topic
    # (the chat topic only denies plain HTTP); publishers inside the account still need sns:Publish from
    # their own identity policy
    assert [(s["Principal"], s["Condition"]) for s in allows] == [
        ({"Service": "cloudwatch.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    ]


def test_the_idempotency_table_has_no_resource_policy(template_json: dict[str, Any]) -> None:
    # Given the idempotency table
    (table,) = [r["Properties"] for r in template_json["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]

    # When we look for a resource policy that would let another principal write records
    # Then there is none: writes are governed by the account's identity policies alone, which is why the
    # trust model asks to deny dynamodb writes on it to everyone but the function's role
    assert "ResourcePolicy" not in table
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
