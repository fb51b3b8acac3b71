"""Print the figures docs/DEPLOY.md quotes, read from a freshly synthesized template.

    .venv/bin/python -m infra.summary [-c key=value ...]

Reading them from the template (not from the Python constants) means the guide
can only quote what would actually be deployed with the current cdk.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from auto_rollback.vocabulary import HANDLER, MEMBER_ROLE_PREFIX
from infra.app import build_app
from infra.config import ConfigError
from infra.function import ROLLBACK_ACTIONS, powertools_version

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _resources(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [resource for resource in template["Resources"].values() if resource["Type"] == resource_type]


def _render(value: Any, template: dict[str, Any]) -> str:
    """A template value as text: pseudo parameters as <AWS::...>, SSM parameters by name."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part, template) for part in parts)
    if "Ref" in value:
        parameter = template.get("Parameters", {}).get(value["Ref"])
        if parameter is not None:
            return f"resolved at deploy time from SSM {parameter['Default']}"
        return f"<{value['Ref']}>"
    return json.dumps(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _rollback_rights(template: dict[str, Any], role: dict[str, Any]) -> str:
    """On which condition the function's role may roll back or cancel, or that it may not at all."""
    granting = [
        statement
        for policy in _resources(template, "AWS::IAM::Policy")
        if role in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if set(ROLLBACK_ACTIONS) & set(_as_list(statement["Action"]))
    ]
    if not granting:
        return "no (not in the role)"
    return "; ".join(_condition_text(statement.get("Condition", {})) for statement in granting)


def _muted_alarms(template: dict[str, Any], role: dict[str, Any], setting: str) -> str:
    """What a muted alarm does, and whether the role may read mute rules (it must exactly when they are honoured)."""
    reads = any(
        "cloudwatch:ListAlarmMuteRules" in _as_list(statement["Action"])
        for policy in _resources(template, "AWS::IAM::Policy")
        if role in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    )
    right = "ListAlarmMuteRules in the role" if reads else "no ListAlarmMuteRules in the role"
    meaning = "honoured: not acted on" if setting == "ignore" else "acted on anyway"
    return f"{meaning} ({right})"


def _condition_text(condition: dict[str, dict[str, Any]]) -> str:
    if not condition:
        return "on any group"
    return "only if " + " and ".join(
        f"{key} {operator} {value}" for operator, tests in condition.items() for key, value in tests.items()
    )


def _member_role(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Hub mode: the spoke template the StackSet deploys, and its member role (None without the StackSet)."""
    stack_sets = _resources(template, "AWS::CloudFormation::StackSet")
    if not stack_sets:
        return None
    spoke: dict[str, Any] = json.loads(stack_sets[0]["Properties"]["TemplateBody"])
    (member,) = [
        logical_id
        for logical_id, resource in spoke["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        and MEMBER_ROLE_PREFIX in json.dumps(resource["Properties"].get("RoleName"))
    ]
    return spoke, {"Ref": member}


def _hub_figures(template: dict[str, Any], variables: dict[str, Any]) -> list[tuple[str, str]]:
    stack_sets = _resources(template, "AWS::CloudFormation::StackSet")
    figures = [
        ("Mode", "hub (organization)"),
        ("Member role assumed", str(variables["MEMBER_ROLE_NAME"])),
        ("Member accounts served", str(variables.get("MEMBER_ACCOUNTS") or "every account of the organization")),
        ("Alarm accounts", str(variables.get("ALARM_ACCOUNTS") or "none")),
    ]
    if stack_sets:
        props = stack_sets[0]["Properties"]
        (group,) = props["StackInstancesGroup"]
        figures += [
            (
                "StackSet",
                f"{props['StackSetName']} ({props['PermissionModel']}, call as {props.get('CallAs', 'SELF')})",
            ),
            ("StackSet OUs", ", ".join(group["DeploymentTargets"]["OrganizationalUnitIds"])),
            ("StackSet regions", ", ".join(group["Regions"])),
        ]
    return figures


def summarise(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(figure, value) pairs for one stack's template."""
    (function,) = [
        resource
        for resource in _resources(template, "AWS::Lambda::Function")
        if resource["Properties"].get("Handler") == HANDLER
    ]
    props = function["Properties"]
    (invoke,) = _resources(template, "AWS::Lambda::EventInvokeConfig")
    (queue,) = _resources(template, "AWS::SQS::Queue")
    rules = {
        rule["Properties"]["EventPattern"]["source"][0]: rule for rule in _resources(template, "AWS::Events::Rule")
    }
    alarm_rule = rules["aws.cloudwatch"]["Properties"]
    refresh_rule = rules["aws.autoscaling"]["Properties"]
    (target,) = alarm_rule["Targets"]
    log_groups = [
        group for group in _resources(template, "AWS::Logs::LogGroup") if group.get("DeletionPolicy") == "Retain"
    ]
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    (layer,) = props["Layers"]
    tested = powertools_version()
    variables = props["Environment"]["Variables"]
    hub = "MEMBER_ROLE_NAME" in variables
    # Where the data-plane rights are: the function's role, or (hub mode) each member account's role.
    rights: tuple[dict[str, Any], dict[str, Any]] | None = (
        _member_role(template) if hub else (template, {"Ref": props["Role"]["Fn::GetAtt"][0]})
    )
    elsewhere = "in each member account's role (the spoke, deployed by the StackSet of the stackSetRegion stack)"
    member = "in each member account's role: " if hub else ""
    figures = [
        ("Runtime", f"{props['Runtime']} on {props['Architectures'][0]}"),
        ("Handler", props["Handler"]),
        ("Powertools layer", _render(layer, template)),
        ("Powertools tested (requirements.txt)", tested),
        ("Rollback/Cancel allowed", member + _rollback_rights(*rights) if rights else elsewhere),
        ("Memory (MB)", str(props["MemorySize"])),
        ("Timeout (s)", str(props["Timeout"])),
        ("Reserved concurrency", str(props.get("ReservedConcurrentExecutions", "none (unreserved pool)"))),
        ("Tracing", props["TracingConfig"]["Mode"]),
        ("Async retries", str(invoke["Properties"]["MaximumRetryAttempts"])),
        ("Async max event age (s)", str(invoke["Properties"]["MaximumEventAgeInSeconds"])),
        ("EventBridge target retries", str(target["RetryPolicy"]["MaximumRetryAttempts"])),
        ("EventBridge max event age (s)", str(target["RetryPolicy"]["MaximumEventAgeInSeconds"])),
        ("Failed-events retention (days)", str(queue["Properties"]["MessageRetentionPeriod"] // 86400)),
        ("Log retention (days)", str(log_groups[0]["Properties"]["RetentionInDays"])),
        ("Alarm states acted on", ", ".join(alarm_rule["EventPattern"]["detail"]["state"]["value"])),
        (
            "Muted alarms",
            member + _muted_alarms(*rights, variables["MUTED_ALARM_ACTION"]) if rights else elsewhere,
        ),
        ("Instance-refresh detail-types", str(len(refresh_rule["EventPattern"]["detail-type"]))),
        (
            "Self-alarms (threshold / period s)",
            ", ".join(
                f"{alarm['Properties']['MetricName']} >= {alarm['Properties']['Threshold']} / "
                f"{alarm['Properties']['Period']}"
                for alarm in alarms
            ),
        ),
        ("Email subscriptions", str(len(_resources(template, "AWS::SNS::Subscription")))),
        ("Console test events", "yes" if _resources(template, "AWS::EventSchemas::Schema") else "no"),
    ]
    return figures + (_hub_figures(template, variables) if hub else [])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.summary", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    context: dict[str, Any] = json.loads((_REPO_ROOT / "cdk.json").read_text())["context"]
    for item in args.context:
        key, _, value = item.partition("=")
        context[key] = value
    with tempfile.TemporaryDirectory() as outdir:
        app = cdk.App(outdir=outdir, context=context, analytics_reporting=False)
        try:
            stacks = build_app(app)
        except ConfigError as error:  # the same one line as `cdk synth` prints (app.py)
            print(f"auto-rollback configuration error: {error}", file=sys.stderr)
            return 1
        assembly = app.synth()
        for stack in stacks:
            template = assembly.get_stack_artifact(stack.artifact_id).template
            region = "from the CLI profile" if cdk.Token.is_unresolved(stack.region) else stack.region
            print(f"{stack.stack_name} (region: {region})")
            for figure, value in summarise(template):
                print(f"  {figure:<36} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
