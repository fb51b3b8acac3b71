"""``scripts.ops.preflight``: what the function's role lacks to roll back each opted-in launch-template group.

The stack is the synthesized one, put on the embedded AWS (test_runbook_stack.deploy_stack): its
function's role has exactly the template's policies. Launch templates, instance profiles and groups are
real resources of the embedded AWS; IAM's answers come from its SimulatePrincipalPolicy
(devkit/aws/iam_simulate.py).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from devkit.aws.aws_server import ACCOUNT_ID, REGION
from devkit.scenarios.fleet import GOOD_IMAGE_ID, INSTANCE_TYPE, make_group
from scripts.ops import preflight
from tests.integration.test_runbook_stack import DeployedStack, as_hub, deploy_stack, template

__all__ = ["template"]  # fixture, used by name


def _instance_profile(name: str) -> str:
    """An instance profile holding a role of the same name; the role's ARN."""
    iam: Any = boto3.client("iam")
    role: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return role


def _group(name: str, *, mode: str = "enabled", profile: str | None = None, tagged: bool = False) -> str:
    """A group on version 1 of its own launch template (with that instance profile, tag specifications); its ARN."""
    data: dict[str, Any] = {"ImageId": GOOD_IMAGE_ID, "InstanceType": INSTANCE_TYPE}
    if profile:
        data["IamInstanceProfile"] = {"Name": profile}
    if tagged:
        data["TagSpecifications"] = [
            {"ResourceType": kind, "Tags": [{"Key": "team", "Value": "web"}]} for kind in ("instance", "volume")
        ]
    ec2: Any = boto3.client("ec2")
    template_id: str = ec2.create_launch_template(LaunchTemplateName=f"{name}-lt", LaunchTemplateData=data)[
        "LaunchTemplate"
    ]["LaunchTemplateId"]
    make_group(
        boto3.client("autoscaling"), name, launch_template_id=template_id, version="1", tags={"auto-rollback": mode}
    )
    return f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:launch-template/{template_id}"


def _run(stack: DeployedStack, *, policy_only: bool = False) -> tuple[int, list[str]]:
    lines: list[str] = []
    failing = preflight.run(boto3.client, stack.function_name, policy_only=policy_only, out=lines.append)
    return failing, lines


def _grant(stack: DeployedStack, document: dict[str, Any]) -> None:
    role_name = stack.role_arn.rsplit("/", 1)[-1]
    boto3.client("iam").put_role_policy(
        RoleName=role_name, PolicyName="auto-rollback-launch-templates", PolicyDocument=json.dumps(document)
    )


def test_the_deployed_role_needs_run_instances_pass_role_and_create_tags_scoped_to_the_group(
    aws: Any,
    template: dict[str, Any],
) -> None:
    # Given the deployed stack and an opted-in group whose template names an instance profile and tags at launch
    stack = deploy_stack(template)
    instance_role = _instance_profile("web-prod-instance")
    template_arn = _group("web-prod", profile="web-prod-instance", tagged=True)

    # When the operator runs the preflight
    failing, lines = _run(stack)

    # Then the group NEEDS the three permissions, each denied by IAM today, with the caveat said first
    assert failing == 1
    assert lines[1].startswith("NOTE  AWS documents these permissions") and "does not document whether" in lines[1]
    assert any(line.startswith("NEEDS web-prod: launch template lt-") for line in lines)
    assert f"      implicitDeny ec2:RunInstances on {template_arn}" in lines
    assert f"      implicitDeny iam:PassRole on {instance_role}" in lines
    assert any(line.startswith("      implicitDeny ec2:CreateTags on ") and "volume/*" in line for line in lines)

    # And the policy it prints is scoped to that template, that role and RunInstances tagging
    document = json.loads("\n".join(_run(stack, policy_only=True)[1]))
    run, passrole, tags = document["Statement"]
    assert run["Condition"] == {"ArnEquals": {"ec2:LaunchTemplate": [template_arn]}}
    assert run["Resource"] == [f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:*", f"arn:aws:ec2:{REGION}::image/*"]
    assert (passrole["Resource"], passrole["Condition"]) == (
        [instance_role],
        {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
    )
    assert tags["Condition"] == {"StringEquals": {"ec2:CreateAction": "RunInstances"}}
    assert tags["Resource"] == [
        f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:instance/*",
        f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:volume/*",
    ]


def test_once_the_printed_policy_is_attached_every_group_passes(aws: Any, template: dict[str, Any]) -> None:
    # Given the deployed stack, a group with an instance profile and tags, and a plain one
    stack = deploy_stack(template)
    _instance_profile("web-prod-instance")
    _group("web-prod", profile="web-prod-instance", tagged=True)
    _group("api-prod")

    # When the operator attaches what --policy prints, and runs the preflight again
    failing, lines = _run(stack, policy_only=True)
    assert failing == 2
    _grant(stack, json.loads("\n".join(lines)))
    failing, lines = _run(stack)

    # Then both groups pass, with nothing left to add
    assert failing == 0
    assert [line.split(":")[0] for line in lines if line.startswith(("PASS", "NEEDS"))] == [
        "PASS  api-prod",
        "PASS  web-prod",
    ]
    assert not any("put-role-policy" in line for line in lines)


def test_a_plain_template_needs_only_run_instances_and_dry_run_groups_are_checked_too(
    aws: Any,
    template: dict[str, Any],
) -> None:
    # Given an enabled group on a template with no instance profile and no tag specifications,
    # a dry-run group about to go live, and a group tagged with a near miss the function ignores
    stack = deploy_stack(template)
    api_prod = _group("api-prod")
    api_staging = _group("api-staging", mode="dry-run")
    _group("api-test", mode="Enabled")

    # When the preflight runs, and prints the policy only
    failing, lines = _run(stack)
    document = json.loads("\n".join(_run(stack, policy_only=True)[1]))

    # Then the enabled and the dry-run groups are checked (the dry-run one says so), the near miss is not,
    # and only RunInstances is asked for, for those two templates
    assert failing == 2
    assert [line.split(":")[0] for line in lines if line.startswith(("PASS", "NEEDS"))] == [
        "NEEDS api-prod",
        "NEEDS api-staging (dry-run, checked before it goes live)",
    ]
    assert [statement["Action"] for statement in document["Statement"]] == ["ec2:RunInstances"]
    assert document["Statement"][0]["Condition"]["ArnEquals"]["ec2:LaunchTemplate"] == sorted([api_prod, api_staging])


def test_with_no_group_to_check_the_preflight_fails_instead_of_passing_on_nothing(
    aws: Any, template: dict[str, Any], capsys: Any
) -> None:
    # Given a deployed stack and a group not (yet) tagged for auto-rollback
    stack = deploy_stack(template)
    _group("web-prod", mode="disabled")

    # When the preflight runs, from the code and from the command line
    with pytest.raises(preflight.NothingCheckedError, match="nothing was checked"):
        _run(stack)
    code = preflight.main(["--stack", "AutoRollback", "--region", REGION])

    # Then the command exits 2, naming both tag values it looks for and what to do
    assert code == 2
    error = capsys.readouterr().err
    assert "no group is tagged auto-rollback=enabled or auto-rollback=dry-run: nothing was checked" in error
    assert "Tag the groups to protect dry-run first (docs/RUNBOOK.md, section 1)" in error


def test_a_missing_instance_profile_is_a_problem_named_in_the_report(aws: Any, template: dict[str, Any]) -> None:
    # Given an opted-in group whose template names an instance profile that does not exist
    stack = deploy_stack(template)
    _group("web-prod", profile="deleted-profile")

    # When the preflight runs
    failing, lines = _run(stack)

    # Then the group NEEDS attention, and the line says which profile
    assert failing == 1
    assert "      problem: instance profile deleted-profile does not exist: instances cannot launch" in lines


def test_the_command_line_exits_1_while_something_is_missing(aws: Any, template: dict[str, Any], capsys: Any) -> None:
    # Given a deployed stack and an opted-in group
    deploy_stack(template)
    _group("api-prod")

    # When the runbook's command runs
    code = preflight.main(["--stack", "AutoRollback", "--region", REGION, "--policy"])

    # Then it exits 1 and prints a policy document IAM accepts
    assert code == 1
    document = json.loads(capsys.readouterr().out)
    boto3.client("iam").create_policy(PolicyName="check", PolicyDocument=json.dumps(document))


def test_a_launch_configuration_group_is_reported_not_checked(aws: Any, template: dict[str, Any]) -> None:
    # Given an opted-in group on a launch configuration
    stack = deploy_stack(template)
    autoscaling: Any = boto3.client("autoscaling")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="legacy-lc", ImageId=GOOD_IMAGE_ID, InstanceType=INSTANCE_TYPE
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="legacy",
        LaunchConfigurationName="legacy-lc",
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=[f"{REGION}a"],
        Tags=[{"Key": "auto-rollback", "Value": "enabled", "PropagateAtLaunch": False}],
    )

    # When the preflight runs
    failing, lines = _run(stack)

    # Then the group is listed with its launch configuration, and nothing is asked of IAM for it
    assert failing == 0
    assert "PASS  legacy: launch configuration legacy-lc" in lines
    assert any(
        line.startswith("      note: AWS documents instance-refresh rollback for launch templates only")
        for line in lines
    )


@pytest.mark.parametrize("argv", [["--stack", "Nope", "--region", "us-east-1"]])
def test_an_unknown_stack_is_named(aws: Any, capsys: Any, argv: list[str]) -> None:
    # Given no stack
    # When the preflight is run for one
    code = preflight.main(argv)

    # Then it fails naming the stack
    assert code == 2
    assert "stack 'Nope' not found" in capsys.readouterr().err


def test_in_organization_mode_the_preflight_checks_the_member_role_named(aws: Any, template: dict[str, Any]) -> None:
    # Given a member account's role, with the deployed function's policies (a spoke's rights), and an opted-in group
    stack = deploy_stack(template)
    iam: Any = boto3.client("iam")
    iam.create_role(RoleName="auto-rollback-member-us-east-1", AssumeRolePolicyDocument="{}")
    for name in iam.list_role_policies(RoleName=stack.role_arn.rsplit("/", 1)[-1])["PolicyNames"]:
        document = iam.get_role_policy(RoleName=stack.role_arn.rsplit("/", 1)[-1], PolicyName=name)["PolicyDocument"]
        iam.put_role_policy(
            RoleName="auto-rollback-member-us-east-1", PolicyName=name, PolicyDocument=json.dumps(document)
        )
    _group("web-prod")
    # When the operator runs the preflight in that account with --role
    lines: list[str] = []
    preflight.run(boto3.client, None, policy_only=False, out=lines.append, role_name="auto-rollback-member-us-east-1")
    # Then the member role is the one checked, and the fix is addressed to it
    assert lines[0].startswith("role arn:aws:iam::") and lines[0].endswith("of role auto-rollback-member-us-east-1")
    assert any("--role-name auto-rollback-member-us-east-1" in line for line in lines)


def test_on_a_hub_the_preflight_refuses_to_check_the_hub_role(aws: Any, template: dict[str, Any]) -> None:
    # Given a deployed function configured as a hub
    stack = deploy_stack(template)
    as_hub(stack)
    # When the operator runs the preflight against it
    # Then it says which role to check instead, and where
    with pytest.raises(preflight.OpsError, match="--role auto-rollback-member-us-east-1"):
        _run(stack)
