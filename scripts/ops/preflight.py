"""Ask IAM whether the function's role may do what rolling back each opted-in group's launch template may need.

AWS documents that creating or updating a group with a launch template checks
``ec2:RunInstances`` on that template, ``iam:PassRole`` on the role of its instance
profile, and ``ec2:CreateTags`` when it has tag specifications (EC2 Auto Scaling
user guide, "Launch template support"). A rollback restores the group's previous
launch template, that is, updates the group; AWS does not document whether
``RollbackInstanceRefresh`` makes these checks. This tool asks IAM
(``SimulatePrincipalPolicy``, which changes nothing) for every opted-in group, and
prints the scoped statements missing from the function's role. Groups tagged
``dry-run`` are checked too, being the ones about to go live; with no group to
check it fails rather than pass on nothing.

Each group's *current* launch template is the one checked: during an instance
refresh with a desired configuration, the group keeps its previous configuration
until the refresh succeeds, and that is what a rollback restores.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scripts.ops.stack import OpsError, add_stack_options, read_outputs, session, shown

#: The tag the function reads (lambda/auto_rollback); only ``enabled`` groups are rolled back.
OPT_IN_TAG, OPT_IN_VALUE = "auto-rollback", "enabled"
#: Checked too: a dry-run group is the one about to go live (RUNBOOK section 1 runs this preflight
#: before tagging any group enabled), and its rollbacks will need the same permissions.
DRY_RUN_VALUE = "dry-run"
CHECKED_VALUES = (OPT_IN_VALUE, DRY_RUN_VALUE)
EC2_SERVICE = "ec2.amazonaws.com"
#: RunInstances authorizes every resource it touches; these are the ones every launch involves.
RUN_INSTANCES_TYPES = ("instance", "volume", "network-interface", "security-group", "subnet")

CAVEAT = (
    "AWS documents these permissions for creating or updating a group with a launch template; it does not "
    "document whether RollbackInstanceRefresh checks them. If it does and one is missing, the rollback call "
    "answers AccessDenied or ValidationError about the launch template, and the function reports FAILED with "
    "that reason, during the incident. This preflight is the way to be sure before one."
)


@dataclass(frozen=True)
class Check:
    """One permission a rollback of the group may need, and IAM's answer for the role."""

    action: str
    resources: tuple[str, ...]
    context: Mapping[str, str]
    decision: str = "?"

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


class NothingCheckedError(OpsError):
    """No group carries a tag value the preflight checks: a pass would vouch for nothing."""


@dataclass
class GroupReport:
    name: str
    mode: str = OPT_IN_VALUE
    template: str = ""
    checks: list[Check] = field(default_factory=list)
    #: Why nothing could be checked, or what stops the check (a missing instance profile...).
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(check.allowed for check in self.checks)


def opted_in_groups(autoscaling: Any) -> Iterator[dict[str, Any]]:
    """Every group tagged exactly ``auto-rollback=enabled`` or ``dry-run``, paged as AWS pages."""
    paginator = autoscaling.get_paginator("describe_auto_scaling_groups")
    pages = paginator.paginate(
        Filters=[{"Name": f"tag:{OPT_IN_TAG}", "Values": list(CHECKED_VALUES)}], PaginationConfig={"PageSize": 100}
    )
    for page in pages:
        yield from page["AutoScalingGroups"]


def _template_specs(group: Mapping[str, Any]) -> list[dict[str, str]]:
    """The group's launch template specifications: its own, or its mixed instances policy's and overrides'."""
    if "LaunchTemplate" in group:
        return [dict(group["LaunchTemplate"])]
    policy = group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
    specs = [dict(policy["LaunchTemplateSpecification"])] if "LaunchTemplateSpecification" in policy else []
    specs += [
        dict(item["LaunchTemplateSpecification"])
        for item in policy.get("Overrides", [])
        if "LaunchTemplateSpecification" in item
    ]
    return specs


def _arn_parts(group: Mapping[str, Any]) -> tuple[str, str, str]:
    """(partition, region, account) of the group, from its ARN."""
    _, partition, _, region, account, _ = group["AutoScalingGroupARN"].split(":", 5)
    return partition, region, account


def _instance_profile_role(iam: Any, profile: Mapping[str, str]) -> str | None:
    """The ARN of the role in the instance profile the template names; OpsError when it does not exist."""
    name = profile.get("Name") or profile["Arn"].rsplit("/", 1)[-1]
    try:
        roles = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Roles"]
    except iam.exceptions.NoSuchEntityException:
        raise OpsError(f"instance profile {shown(name)} does not exist: instances cannot launch") from None
    return str(roles[0]["Arn"]) if roles else None


def checks_for_template(
    ec2: Any, iam: Any, group: Mapping[str, Any], spec: Mapping[str, str]
) -> tuple[str, list[Check], list[str]]:
    """(what the template is, the checks it needs, notes) for one launch template specification."""
    partition, region, account = _arn_parts(group)
    version = spec.get("Version", "$Default")
    selector = (
        {"LaunchTemplateId": spec["LaunchTemplateId"]}
        if "LaunchTemplateId" in spec
        else {"LaunchTemplateName": spec["LaunchTemplateName"]}
    )
    try:
        (found,) = ec2.describe_launch_template_versions(**selector, Versions=[version])["LaunchTemplateVersions"]
    except ec2.exceptions.ClientError as error:
        raise OpsError(
            f"launch template {shown(selector)} version {shown(version)}: {error.response['Error']['Code']}"
        ) from None
    template_id, data = found["LaunchTemplateId"], found.get("LaunchTemplateData", {})
    template_arn = f"arn:{partition}:ec2:{region}:{account}:launch-template/{template_id}"
    what = (
        f"launch template {shown(template_id)} ({shown(found.get('LaunchTemplateName', ''))}) version {shown(version)}"
    )
    notes = []
    if version in ("$Latest", "$Default"):
        notes.append(
            f"version {version}: AWS rolls back only to a numbered version, so this group cannot be rolled back"
        )
    run = tuple(f"arn:{partition}:ec2:{region}:{account}:{kind}/*" for kind in RUN_INSTANCES_TYPES)
    checks = [
        Check(
            "ec2:RunInstances",
            (*run, f"arn:{partition}:ec2:{region}::image/*", template_arn),
            {"ec2:LaunchTemplate": template_arn},
        )
    ]
    if "IamInstanceProfile" in data:
        role_arn = _instance_profile_role(iam, data["IamInstanceProfile"])
        if role_arn is None:
            notes.append("its instance profile has no role: nothing to pass")
        else:
            checks.append(Check("iam:PassRole", (role_arn,), {"iam:PassedToService": EC2_SERVICE}))
    tagged = sorted({item["ResourceType"] for item in data.get("TagSpecifications", []) if "ResourceType" in item})
    if tagged:
        resources = tuple(f"arn:{partition}:ec2:{region}:{account}:{kind}/*" for kind in tagged)
        checks.append(Check("ec2:CreateTags", resources, {"ec2:CreateAction": "RunInstances"}))
    return what, checks, notes


def simulate(iam: Any, role_arn: str, check: Check) -> Check:
    """IAM's decision for the check: ``allowed`` only when every resource is allowed."""
    decisions: set[str] = set()
    request = {
        "PolicySourceArn": role_arn,
        "ActionNames": [check.action],
        "ResourceArns": list(check.resources),
        "ContextEntries": [
            {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
            for key, value in check.context.items()
        ],
    }
    try:
        pages = list(iam.get_paginator("simulate_principal_policy").paginate(**request))
    except iam.exceptions.ClientError as error:
        # AccessDenied here is the operator's own credentials lacking iam:SimulatePrincipalPolicy on the role.
        raise OpsError(
            f"IAM refused to simulate {check.action} for {shown(role_arn, 200)}: "
            f"{shown(error.response['Error'].get('Code', ''))} {shown(error.response['Error'].get('Message', ''), 300)}"
        ) from None
    for page in pages:
        for result in page["EvaluationResults"]:
            specific = result.get("ResourceSpecificResults") or []
            # AWS now documents EvalResourceName as the resource type's ARN template: the decision per
            # resource is in ResourceSpecificResults when present.
            decisions.update(item["EvalResourceDecision"] for item in specific)
            if not specific:
                decisions.add(result["EvalDecision"])
    for worst in ("explicitDeny", "implicitDeny"):
        if worst in decisions:
            return Check(check.action, check.resources, check.context, worst)
    return Check(check.action, check.resources, check.context, "allowed" if decisions == {"allowed"} else "?")


def report_group(ec2: Any, iam: Any, role_arn: str, group: Mapping[str, Any]) -> GroupReport:
    mode = next((tag["Value"] for tag in group.get("Tags", []) if tag["Key"] == OPT_IN_TAG), OPT_IN_VALUE)
    report = GroupReport(group["AutoScalingGroupName"], mode)
    if "LaunchConfigurationName" in group:
        report.template = f"launch configuration {shown(group['LaunchConfigurationName'])}"
        report.notes.append(
            "AWS documents instance-refresh rollback for launch templates only (a numbered version); "
            "nothing to check here"
        )
        return report
    specs = _template_specs(group)
    if not specs:
        report.problems.append("no launch template or launch configuration found on the group")
        return report
    described = []
    for spec in specs:
        try:
            what, checks, notes = checks_for_template(ec2, iam, group, spec)
        except OpsError as error:
            report.problems.append(str(error))
            continue
        described.append(what)
        report.notes.extend(notes)
        report.checks.extend(simulate(iam, role_arn, check) for check in checks)
    report.template = "; ".join(described)
    return report


def missing_policy(reports: Sequence[GroupReport]) -> dict[str, Any]:
    """One policy document granting, scoped, every check IAM did not allow."""
    templates: set[str] = set()
    roles: set[str] = set()
    tag_resources: set[str] = set()
    run_resources: set[str] = set()
    for report in reports:
        for check in report.checks:
            if check.allowed:
                continue
            if check.action == "ec2:RunInstances":
                templates.add(check.context["ec2:LaunchTemplate"])
                _, partition, _, region, account = check.context["ec2:LaunchTemplate"].split(":")[:5]
                run_resources.update(
                    (f"arn:{partition}:ec2:{region}:{account}:*", f"arn:{partition}:ec2:{region}::image/*")
                )
            elif check.action == "iam:PassRole":
                roles.update(check.resources)
            elif check.action == "ec2:CreateTags":
                tag_resources.update(check.resources)
    statements: list[dict[str, Any]] = []
    if templates:
        statements.append(
            {
                "Sid": "AutoRollbackRunInstancesFromTemplates",
                "Effect": "Allow",
                "Action": "ec2:RunInstances",
                "Resource": sorted(run_resources),
                "Condition": {"ArnEquals": {"ec2:LaunchTemplate": sorted(templates)}},
            }
        )
    if roles:
        statements.append(
            {
                "Sid": "AutoRollbackPassInstanceRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": sorted(roles),
                "Condition": {"StringEquals": {"iam:PassedToService": EC2_SERVICE}},
            }
        )
    if tag_resources:
        statements.append(
            {
                "Sid": "AutoRollbackTagAtLaunch",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": sorted(tag_resources),
                "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def function_role(lambda_client: Any, function_name: str) -> str:
    return str(lambda_client.get_function(FunctionName=function_name)["Configuration"]["Role"])


def run(
    aws: Callable[..., Any],
    function_name: str | None,
    *,
    policy_only: bool,
    out: Callable[[str], None],
    role_name: str | None = None,
) -> int:
    """Check every enabled and dry-run group; print the report (or only the policy); the number needing more.

    The role is the function's, or ``role_name`` (organization mode: each member account's role, which
    makes the rollback call; run with that account's credentials). NothingCheckedError when no group
    is tagged either way.
    """
    ec2, iam = aws("ec2"), aws("iam")
    if role_name is not None:
        role_arn = str(iam.get_role(RoleName=role_name)["Role"]["Arn"])
        owner = f"role {shown(role_name)}"
    else:
        assert function_name is not None
        variables = aws("lambda").get_function_configuration(FunctionName=function_name).get("Environment", {})
        member_role = variables.get("Variables", {}).get("MEMBER_ROLE_NAME")
        if member_role:
            raise OpsError(
                "organization mode: the hub's role never calls RollbackInstanceRefresh, each member account's "
                f"role does. Run this in each member account, with its credentials: --role {shown(member_role)}"
            )
        role_arn = function_role(aws("lambda"), function_name)
        owner = f"function {shown(function_name)}"
    reports = [report_group(ec2, iam, role_arn, group) for group in opted_in_groups(aws("autoscaling"))]
    if not reports:
        # Exiting 0 here read as "every group passes" when nothing was looked at.
        raise NothingCheckedError(
            f"no group is tagged {OPT_IN_TAG}={OPT_IN_VALUE} or {OPT_IN_TAG}={DRY_RUN_VALUE}: nothing was checked. "
            f"Tag the groups to protect {DRY_RUN_VALUE} first (docs/RUNBOOK.md, section 1), then run it again"
        )
    document = missing_policy(reports)
    failing = sum(not report.passed for report in reports)
    if policy_only:
        out(json.dumps(document, indent=2))
        return failing
    out(f"role {shown(role_arn, 200)} of {owner}")
    out(f"NOTE  {CAVEAT}")
    for report in reports:
        mode = "" if report.mode == OPT_IN_VALUE else f" ({shown(report.mode)}, checked before it goes live)"
        out(f"{'PASS ' if report.passed else 'NEEDS'} {shown(report.name)}{mode}: {report.template}")
        for check in report.checks:
            target = check.resources[-1] if check.action != "ec2:CreateTags" else ", ".join(check.resources)
            out(f"      {check.decision:<12} {check.action} on {shown(target, 200)}")
        for note in report.notes:
            out(f"      note: {note}")
        for problem in report.problems:
            out(f"      problem: {problem}")
    if document["Statement"]:
        name = role_arn.rsplit("/", 1)[-1]
        out("Add to that role (--policy prints only this document):")
        out(f"  aws iam put-role-policy --role-name {shown(name)} --policy-name auto-rollback-launch-templates \\")
        out("    --policy-document file://preflight-policy.json")
        out(json.dumps(document, indent=2))
    return failing


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.ops.preflight", description=__doc__.split("\n")[0])
    add_stack_options(parser)
    parser.add_argument(
        "--policy", action="store_true", help="print only the policy document of the missing statements (JSON)"
    )
    parser.add_argument(
        "--role",
        help="organization mode: check this role of the current account (auto-rollback-member-<region>) "
        "instead of the stack's function's role",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    aws = session(args.region)
    try:
        # A member account has no auto-rollback stack of its own: only its role (the spoke's) is checked.
        function_name = None if args.role else read_outputs(aws.client("cloudformation"), args.stack).function_name
        failing = run(aws.client, function_name, policy_only=args.policy, out=print, role_name=args.role)
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
