"""Hub mode's stacks: the hub bus and its organization-only policy, the hub role, and the spokes' StackSet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auto_rollback.vocabulary import HANDLER, HUB_BUS_NAME, hub_role_name, member_role_name
from devkit.template.policy import Statement, function_role_id, role_statements
from devkit.template.synth import ACCOUNT, build
from infra.config import Settings
from infra.spoke import spoke_template, template_body
from infra.stackset import FAILURE_TOLERANCE_PERCENTAGE, MAX_CONCURRENT_PERCENTAGE, STACK_SET_NAME

ORGANIZATION = "o-a1b2c3d4e5"
UNITS = ["ou-ab12-cd34ef56", "r-ab12"]
REGIONS = ["eu-west-1", "us-east-1"]
MEMBERS = ["222222222222", "333333333333", "444444444444"]
HUB_CONTEXT: dict[str, Any] = {
    "mode": "hub",
    "organizationId": ORGANIZATION,
    "organizationalUnitIds": UNITS,
    "regions": REGIONS,
    "stackSetRegion": "eu-west-1",
    "memberAccounts": MEMBERS,
    "alarmAccounts": ["222222222222"],
}


def _synth(tmp_path: Path, **overrides: Any) -> dict[str, dict[str, Any]]:
    """The hub's template of each region, by region, with ``overrides`` of HUB_CONTEXT."""
    app, stacks = build(tmp_path, {**HUB_CONTEXT, **overrides})
    assembly = app.synth()
    return {str(stack.region): assembly.get_stack_artifact(stack.artifact_id).template for stack in stacks}


@pytest.fixture(scope="module")
def hub_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The hub's template of each listed region, by region."""
    app, stacks = build(tmp_path_factory.mktemp("cdk-hub"), HUB_CONTEXT)
    assembly = app.synth()
    return {str(stack.region): assembly.get_stack_artifact(stack.artifact_id).template for stack in stacks}


@pytest.fixture(scope="module")
def hub(hub_templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return hub_templates["eu-west-1"]


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def _function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((function_id, function),) = [
        (key, resource)
        for key, resource in _resources(template, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") == HANDLER
    ]
    return function_id, function


def test_the_hub_bus_accepts_events_from_the_organization_only(hub: dict[str, Any]) -> None:
    # Given the hub's template
    # When its event bus and the bus's policy are read
    ((bus_id, bus),) = _resources(hub, "AWS::Events::EventBus").items()
    (policy,) = _resources(hub, "AWS::Events::EventBusPolicy").values()

    # Then the bus has the name spokes forward to, and only principals of the organization may put events on it
    assert bus["Properties"]["Name"] == HUB_BUS_NAME
    assert policy["Properties"]["EventBusName"] == {"Ref": bus_id}
    statement = policy["Properties"]["Statement"]
    assert {key: statement[key] for key in ("Effect", "Principal", "Action", "Resource", "Condition")} == {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "events:PutEvents",
        "Resource": {"Fn::GetAtt": [bus_id, "Arn"]},
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}},
    }


def test_the_functions_rules_listen_on_the_hub_bus(hub: dict[str, Any], template_json: dict[str, Any]) -> None:
    # Given the hub's template and the account-mode template
    ((bus_id, _),) = _resources(hub, "AWS::Events::EventBus").items()
    function_id, _ = _function(hub)

    # When their rules are read
    rules = list(_resources(hub, "AWS::Events::Rule").values())
    account_mode_rules = list(_resources(template_json, "AWS::Events::Rule").values())

    # Then the hub's two rules are on the hub bus, invoke the function, and match what account mode matches
    assert len(rules) == 2
    assert all(rule["Properties"]["EventBusName"] == {"Ref": bus_id} for rule in rules)
    assert all(
        [target["Arn"] for target in rule["Properties"]["Targets"]] == [{"Fn::GetAtt": [function_id, "Arn"]}]
        for rule in rules
    )
    assert sorted(json.dumps(rule["Properties"]["EventPattern"], sort_keys=True) for rule in rules) == sorted(
        json.dumps(rule["Properties"]["EventPattern"], sort_keys=True) for rule in account_mode_rules
    )


def test_the_hub_role_may_only_assume_member_roles_of_its_region_in_the_organization(hub: dict[str, Any]) -> None:
    # Given the hub function's role
    function_id, _ = _function(hub)
    role_id = function_role_id(hub, function_id)
    statements = role_statements(hub, role_id, account=ACCOUNT, region="eu-west-1")

    # When its name and its sts statements are read
    assuming = [statement for statement in statements if any(a.startswith("sts:") for a in statement.actions)]

    # Then it has the name member roles trust, and may assume the member role of its region, in the organization only
    assert hub["Resources"][role_id]["Properties"]["RoleName"] == hub_role_name("eu-west-1")
    assert assuming == [
        Statement(
            effect="Allow",
            actions=("sts:AssumeRole",),
            resources=(f"arn:aws:iam::*:role/{member_role_name('eu-west-1')}",),
            conditions={"StringEquals": {"aws:ResourceOrgID": ORGANIZATION}},
            sid="AssumeMemberRoles",
        )
    ]


def test_the_hub_role_has_no_data_plane_right_of_its_own(hub: dict[str, Any]) -> None:
    # Given the hub function's role
    function_id, _ = _function(hub)
    statements = role_statements(hub, function_role_id(hub, function_id), account=ACCOUNT, region="eu-west-1")

    # When the services of its actions are listed
    services = {action.split(":")[0] for statement in statements for action in statement.actions}

    # Then it has no Auto Scaling, CloudWatch or tagging right: it acts only through member roles
    assert services == {"dynamodb", "kms", "logs", "sns", "sqs", "sts", "xray"}


def test_the_function_knows_it_is_a_hub(hub: dict[str, Any]) -> None:
    # Given the hub function
    _, function = _function(hub)

    # When its environment is read
    variables = function["Properties"]["Environment"]["Variables"]

    # Then it names the member role of its region, and the accounts from the context
    assert variables["MEMBER_ROLE_NAME"] == member_role_name("eu-west-1")
    assert variables["MEMBER_ACCOUNTS"] == "222222222222,333333333333,444444444444"
    assert variables["ALARM_ACCOUNTS"] == "222222222222"


def _stack_set_counts(templates: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {
        region: len(_resources(template, "AWS::CloudFormation::StackSet")) for region, template in templates.items()
    }


def test_one_stack_set_in_the_stack_set_region_only(hub_templates: dict[str, dict[str, Any]]) -> None:
    # Given the hub's stacks of both listed regions, stackSetRegion eu-west-1
    # When their StackSets are counted
    # Then the stackSetRegion's stack holds the only one
    assert _stack_set_counts(hub_templates) == {"eu-west-1": 1, "us-east-1": 0}


@pytest.mark.parametrize(
    "regions",
    [["us-east-1", "eu-west-1"], ["ap-southeast-2", "eu-west-1", "us-east-1"], ["eu-west-1"]],
    ids=["reordered", "one-added-in-front", "the-others-dropped"],
)
def test_the_stack_set_stays_where_it_is_when_the_regions_are_reordered(tmp_path: Path, regions: list[str]) -> None:
    # Given the same stackSetRegion with the regions reordered, one added in front, or the first one dropped
    # When the hub is synthesized
    templates = _synth(tmp_path, regions=regions)

    # Then the StackSet is still in eu-west-1's stack only: no second StackSet, and the first is not deleted
    assert _stack_set_counts(templates) == {region: int(region == "eu-west-1") for region in regions}


def test_the_stack_set_goes_to_the_only_region_without_being_named(tmp_path: Path) -> None:
    # Given a hub of one listed region and no stackSetRegion
    templates = _synth(tmp_path, regions=["ap-northeast-1"], stackSetRegion=None)

    # When its StackSets are counted
    # Then that region's stack holds it, for that region
    assert _stack_set_counts(templates) == {"ap-northeast-1": 1}
    (stack_set,) = _resources(templates["ap-northeast-1"], "AWS::CloudFormation::StackSet").values()
    assert stack_set["Properties"]["StackInstancesGroup"][0]["Regions"] == ["ap-northeast-1"]


def test_the_stack_set_stack_is_deployed_after_every_other_regions_hub(tmp_path: Path) -> None:
    # Given a hub of three regions, the StackSet in the middle one
    app, stacks = build(tmp_path, {**HUB_CONTEXT, "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"]})

    # When the cloud assembly (what cdk deploy orders the stacks by) is read
    assembly = app.synth()
    stack_ids = {stack.artifact_id for stack in stacks}
    dependencies = {
        str(stack.region): sorted(
            str(dependency.id)
            for dependency in assembly.get_stack_artifact(stack.artifact_id).dependencies
            if dependency.id in stack_ids  # not the stack's own assets
        )
        for stack in stacks
    }

    # Then the StackSet's stack depends on both other hub stacks, so their buses exist before any spoke
    # forwards to them, and nothing depends on it
    assert dependencies["eu-west-1"] == ["AutoRollback-ap-southeast-2", "AutoRollback-us-east-1"]
    assert dependencies["us-east-1"] == [] and dependencies["ap-southeast-2"] == []


def test_the_stack_set_deploys_the_spoke_to_every_account_of_the_ous_in_every_region(hub: dict[str, Any]) -> None:
    # Given the StackSet
    (stack_set,) = _resources(hub, "AWS::CloudFormation::StackSet").values()
    properties = dict(stack_set["Properties"])
    body = properties.pop("TemplateBody")

    # When its properties are read
    # Then it is service-managed, follows accounts in and out of the OUs, in every listed region, with the hub's account
    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["CallAs"] == "DELEGATED_ADMIN"
    assert properties["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert properties["StackInstancesGroup"] == [
        {
            "DeploymentTargets": {
                "OrganizationalUnitIds": UNITS,
                "Accounts": MEMBERS,
                "AccountFilterType": "INTERSECTION",
            },
            "Regions": REGIONS,
        }
    ]
    assert properties["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert properties["OperationPreferences"] == {
        "RegionConcurrencyType": "PARALLEL",
        "FailureTolerancePercentage": FAILURE_TOLERANCE_PERCENTAGE,
        "MaxConcurrentPercentage": MAX_CONCURRENT_PERCENTAGE,
    }
    assert 0 < FAILURE_TOLERANCE_PERCENTAGE < MAX_CONCURRENT_PERCENTAGE <= 100
    assert properties["Parameters"] == [{"ParameterKey": "HubAccountId", "ParameterValue": ACCOUNT}]
    # and its template is the spoke's, as spoke_template gives it
    assert body == template_body(spoke_template(Settings.from_mapping(HUB_CONTEXT)))


def test_without_member_accounts_every_account_of_the_ous_gets_a_spoke(tmp_path: Path) -> None:
    # Given a hub that serves every account of the organization (no memberAccounts, hence no alarmAccounts)
    templates = _synth(tmp_path, memberAccounts=[], alarmAccounts=[])

    # When its StackSet's deployment targets are read
    (stack_set,) = _resources(templates["eu-west-1"], "AWS::CloudFormation::StackSet").values()
    (group,) = stack_set["Properties"]["StackInstancesGroup"]

    # Then they are the OUs, with no account filter
    assert group["DeploymentTargets"] == {"OrganizationalUnitIds": UNITS}


def test_the_management_account_may_create_the_stack_set_itself(tmp_path: Path) -> None:
    # Given a hub deployed from the management account (stackSetCallAs = SELF), in the profile's region
    app, (stack,) = build(tmp_path, {**HUB_CONTEXT, "regions": [], "stackSetRegion": None, "stackSetCallAs": "SELF"})

    # When the StackSet is read
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    (stack_set,) = _resources(template, "AWS::CloudFormation::StackSet").values()

    # Then it is created as SELF, in the stack's own region
    assert stack_set["Properties"]["CallAs"] == "SELF"
    assert stack_set["Properties"]["StackInstancesGroup"][0]["Regions"] == ["us-east-1"]


def test_each_hub_stack_gives_its_bus_and_the_stack_set_stack_its_stack_set(
    hub_templates: dict[str, dict[str, Any]],
) -> None:
    # Given the hub stacks of both regions
    # When their outputs are read
    outputs = {region: template["Outputs"] for region, template in hub_templates.items()}

    # Then each gives the ARN of its own bus, and only the StackSet's stack gives the StackSet's name
    for region, template in hub_templates.items():
        ((bus_id, _),) = _resources(template, "AWS::Events::EventBus").items()
        assert outputs[region]["HubBusArn"]["Value"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    (stack_set,) = _resources(hub_templates["eu-west-1"], "AWS::CloudFormation::StackSet").values()
    assert outputs["eu-west-1"]["StackSetName"]["Value"] == STACK_SET_NAME == stack_set["Properties"]["StackSetName"]
    assert "StackSetName" not in outputs["us-east-1"]


def test_account_mode_has_none_of_the_hub(template_json: dict[str, Any]) -> None:
    # Given the account-mode template (cdk.json as committed)
    # When hub resources and variables are looked for
    _, function = _function(template_json)
    types = {resource["Type"] for resource in template_json["Resources"].values()}

    # Then there is no bus, no StackSet, no role name, no member variable and no hub output
    assert not types & {"AWS::Events::EventBus", "AWS::Events::EventBusPolicy", "AWS::CloudFormation::StackSet"}
    assert not {"HubBusArn", "StackSetName"} & set(template_json["Outputs"])
    assert "MEMBER_ROLE_NAME" not in function["Properties"]["Environment"]["Variables"]
    assert all("RoleName" not in role["Properties"] for role in _resources(template_json, "AWS::IAM::Role").values())


def test_the_hub_dashboard_graphs_the_events_of_accounts_it_does_not_serve(hub: dict[str, Any]) -> None:
    # Given the hub's dashboard
    (dashboard,) = _resources(hub, "AWS::CloudWatch::Dashboard").values()
    # When its body is read
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    # Then the refused events' metric is on it, next to the rejected events
    assert "RefusedAccountEvents" in body and "OutcomeInvalidEvent" in body
    assert "UnreadableAlarmAccounts" in body


def test_the_deploy_summary_shows_the_rollback_right_where_it_is_in_hub_mode(
    hub_templates: dict[str, dict[str, Any]],
) -> None:
    # Given the hub templates of two regions (the StackSet is in the first one's)
    from infra.summary import summarise

    # When infra.summary reads them
    first, second = (dict(summarise(hub_templates[region])) for region in REGIONS)
    # Then the right is the member role's, with its opt-in condition, and the second region points to it
    assert first["Rollback/Cancel allowed"].startswith("in each member account's role: only if ")
    assert "StringEquals enabled" in first["Rollback/Cancel allowed"]
    assert second["Rollback/Cancel allowed"].startswith("in each member account's role (the spoke")
    assert (first["Mode"], first["StackSet regions"]) == ("hub (organization)", ", ".join(REGIONS))
    assert "StackSet" not in second


def test_the_stack_holding_the_stack_set_is_protected_from_deletion(tmp_path: Path) -> None:
    # Given the hub app over two regions
    _, stacks = build(tmp_path, {**HUB_CONTEXT})
    # When its stacks are read
    protected = {str(stack.region): bool(stack.termination_protection) for stack in stacks}
    # Then only the stack holding the StackSet (whose deletion deletes every spoke) is protected
    assert protected == {"eu-west-1": True, "us-east-1": False}
