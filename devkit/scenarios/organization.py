"""An AWS Organization in the emulator: accounts, a spoke in a member account, the hub's bus and role.

Everything goes through boto3 against the emulator (``AWS_ENDPOINT_URL``), as the
function would see AWS, except the organization's membership, which AWS keeps in
Organizations and the emulator keeps in :mod:`devkit.aws.organization`.

Accounts are chosen with moto's ``x-moto-account-id`` request header
(:func:`client`), added to every request before it is signed. Credentials from an
AssumeRole into each account would route too, but they would need a role trusting
the caller in every account before anything else exists there, so that setting up
a scenario would already depend on the trust checks the scenario is meant to test.
The header leaves the caller moto's own user; only :func:`hub_credentials` hands
out a real role session, the one the function runs as.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from auto_rollback.vocabulary import HUB_BUS_NAME, hub_role_name, member_role_name
from devkit.aws import organization
from devkit.aws.aws_server import ACCOUNT_ID, REGION

ORGANIZATION_ID = "o-a1b2c3d4e5"
HUB = ACCOUNT_ID  # moto's default account
MONITORING = "222222222222"
WORKLOAD = "333333333333"
REFUSING = "444444444444"  # in the organization; its member role trusts nobody the hub is
OUTSIDER = "555555555555"  # not in the organization
MEMBERS = (HUB, MONITORING, WORKLOAD, REFUSING)
#: The session name Lambda gives the execution role's session is the function's name.
HUB_SESSION_NAME = "auto-rollback"

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
_IGNORED_TYPES = {"AWS::CDK::Metadata"}


class SpokeTemplateError(ValueError):
    """A spoke template this helper cannot deploy (it names the resource or intrinsic at fault)."""


def client(service: str, account: str, region: str = REGION) -> Any:
    """A boto3 client whose every request acts in ``account`` of the emulator."""
    made: Any = boto3.client(service, region_name=region)  # type: ignore[call-overload]  # named at run time

    def in_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    made.meta.events.register("before-sign.*.*", in_account)
    return made


def define_organization() -> None:
    """The hub, monitoring, workload and refusing accounts are one organization; the outsider is in none."""
    organization.define(ORGANIZATION_ID, MEMBERS)


def create_hub_bus(policy: Mapping[str, Any], region: str = REGION) -> str:
    """The hub's custom bus with ``policy`` as its resource policy (every statement needs a Sid); its ARN."""
    events = client("events", HUB, region)
    arn: str = events.create_event_bus(Name=HUB_BUS_NAME)["EventBusArn"]
    events.put_permission(EventBusName=HUB_BUS_NAME, Policy=json.dumps(policy))
    return arn


def hub_role_policy(region: str) -> dict[str, Any]:
    """The contract's hub role permission: assume the member role of ``region`` in the organization only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::*:role/{member_role_name(region)}",
                "Condition": {"StringEquals": {"aws:ResourceOrgID": ORGANIZATION_ID}},
            }
        ],
    }


def hub_credentials(region: str = REGION, policy: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Create the hub function's role in the hub account and return the environment of a session of it.

    The function runs with these variables, so member trust policies see the hub
    role as the caller, as they see the function's execution role on AWS. Its
    trust names Lambda (as the stack's does) and the hub account, which stands in
    for Lambda here. ``policy`` replaces the contract's permissions (:func:`hub_role_policy`).
    """
    iam = client("iam", HUB, region)
    name = hub_role_name(region)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HUB}:root"}, "Action": "sts:AssumeRole"},
        ],
    }
    try:
        role_arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role_arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    document = policy if policy is not None else hub_role_policy(region)
    iam.put_role_policy(RoleName=name, PolicyName="AssumeMemberRoles", PolicyDocument=json.dumps(document))
    sts = client("sts", HUB, region)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=HUB_SESSION_NAME)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


# --------------------------------------------------------------------------- spoke template


class _Resolver:
    """Resolves the intrinsics a spoke template uses, for one account and region."""

    def __init__(self, template: Mapping[str, Any], account: str, hub_account: str, region: str) -> None:
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.values: dict[str, str] = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "HubAccountId": hub_account,
        }
        for name, parameter in template.get("Parameters", {}).items():
            if name not in self.values and "Default" not in parameter:
                raise SpokeTemplateError(f"parameter {name} has no value here (only HubAccountId is given)")
            self.values.setdefault(name, str(parameter.get("Default")))
        self.role_names: dict[str, str] = {}  # logical id -> created role name
        self.queues: dict[str, tuple[str, str]] = {}  # logical id -> created queue's (URL, ARN)
        self.rule_arns: dict[str, str] = {}  # logical id -> created rule's ARN

    def ref(self, name: str) -> str:
        if name in self.values:
            return self.values[name]
        if name in self.role_names:
            return self.role_names[name]  # Ref of an AWS::IAM::Role is its name
        if name in self.queues:
            return self.queues[name][0]  # Ref of an AWS::SQS::Queue is its URL
        raise SpokeTemplateError(f"Ref {name} is neither a parameter nor a role or queue created before it")

    def attribute(self, logical_id: str, attribute: str) -> str:
        if logical_id in self.role_names and attribute == "Arn":
            return f"arn:aws:iam::{self.values['AWS::AccountId']}:role/{self.role_names[logical_id]}"
        if logical_id in self.queues and attribute == "Arn":
            return self.queues[logical_id][1]
        if logical_id in self.rule_arns and attribute == "Arn":
            return self.rule_arns[logical_id]
        raise SpokeTemplateError(f"Fn::GetAtt {logical_id}.{attribute} is not resolved here")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        intrinsics: dict[str, Callable[[Any], str]] = {
            "Ref": self.ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
        }
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key in intrinsics:
                return intrinsics[key](argument)
            if key.startswith("Fn::"):
                raise SpokeTemplateError(f"intrinsic {key} is not resolved here")
        return {key: self.resolve(item) for key, item in value.items()}

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.attribute(logical_id, attribute)

    def _join(self, argument: Any) -> str:
        separator, parts = argument
        return str(separator).join(str(self.resolve(part)) for part in parts)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        local = {name: str(self.resolve(item)) for name, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return local[name]
            if "." in name:
                return self.attribute(*name.split(".", 1))
            return self.ref(name)

        return _SUB_VARIABLE.sub(replace, text)


def _of_type(template: Mapping[str, Any], kind: str) -> list[tuple[str, Mapping[str, Any]]]:
    return [(key, item.get("Properties", {})) for key, item in template["Resources"].items() if item["Type"] == kind]


def deploy_spoke(template: Mapping[str, Any], account: str, *, hub_account: str = HUB, region: str = REGION) -> None:
    """Create in ``account`` the roles, policies, queues and rules of a synthesized spoke template, as StackSets do."""
    supported = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Events::Rule", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy"}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"] not in supported | _IGNORED_TYPES:
            raise SpokeTemplateError(f"resource {logical_id} of type {resource['Type']} is not deployed by this helper")
    resolver = _Resolver(template, account, hub_account, region)
    iam = client("iam", account, region)
    for logical_id, properties in _of_type(template, "AWS::IAM::Role"):
        name = str(resolver.resolve(properties.get("RoleName", logical_id)))
        iam.create_role(
            RoleName=name,
            Path=properties.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(resolver.resolve(properties["AssumeRolePolicyDocument"])),
            MaxSessionDuration=int(properties.get("MaxSessionDuration", 3600)),
        )
        resolver.role_names[logical_id] = name
        for inline in properties.get("Policies", []):
            document = json.dumps(resolver.resolve(inline["PolicyDocument"]))
            iam.put_role_policy(RoleName=name, PolicyName=inline["PolicyName"], PolicyDocument=document)
        for arn in resolver.resolve(properties.get("ManagedPolicyArns", [])):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for logical_id, properties in _of_type(template, "AWS::IAM::Policy"):
        document = json.dumps(resolver.resolve(properties["PolicyDocument"]))
        for role in resolver.resolve(properties.get("Roles", [])):
            iam.put_role_policy(RoleName=role, PolicyName=logical_id, PolicyDocument=document)
    sqs = client("sqs", account, region)
    for logical_id, properties in _of_type(template, "AWS::SQS::Queue"):
        name = str(resolver.resolve(properties.get("QueueName", logical_id)))
        url: str = sqs.create_queue(QueueName=name, Attributes=_queue_attributes(properties))["QueueUrl"]
        queue_arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        resolver.queues[logical_id] = (url, queue_arn)
    events = client("events", account, region)
    for logical_id, properties in _of_type(template, "AWS::Events::Rule"):
        name = str(resolver.resolve(properties.get("Name", logical_id)))
        bus = resolver.resolve(properties.get("EventBusName", "default"))
        resolver.rule_arns[logical_id] = events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(resolver.resolve(properties["EventPattern"])),
            State=properties.get("State", "ENABLED"),
        )["RuleArn"]
        targets = [_target(resolver.resolve(target)) for target in properties.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    # After the rules: a queue policy names them (aws:SourceArn), as CloudFormation orders it by its GetAtts.
    for _, properties in _of_type(template, "AWS::SQS::QueuePolicy"):
        document = json.dumps(resolver.resolve(properties["PolicyDocument"]))
        for url in resolver.resolve(properties["Queues"]):
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})


#: AWS::SQS::Queue properties that are queue attributes of the same name (CreateQueue, Attributes).
_QUEUE_ATTRIBUTES = ("MessageRetentionPeriod", "SqsManagedSseEnabled", "VisibilityTimeout")


def _queue_attributes(properties: Mapping[str, Any]) -> dict[str, str]:
    unsupported = set(properties) - {"QueueName", "Tags", *_QUEUE_ATTRIBUTES}
    if unsupported:
        raise SpokeTemplateError(f"queue properties {sorted(unsupported)} are not deployed by this helper")
    # CloudFormation writes booleans and numbers; SQS attributes are strings ("true", "1209600").
    return {
        key: str(properties[key]).lower() if isinstance(properties[key], bool) else str(properties[key])
        for key in _QUEUE_ATTRIBUTES
        if key in properties
    }


def _target(resolved: Mapping[str, Any]) -> dict[str, Any]:
    # Input transformations are not allowed on a bus of another account; delivery settings are passed on.
    unsupported = set(resolved) - {"Arn", "Id", "RoleArn", "RetryPolicy", "DeadLetterConfig"}
    if unsupported:
        raise SpokeTemplateError(f"rule target properties {sorted(unsupported)} are not deployed by this helper")
    return dict(resolved)


def refuse_hub(account: str, region: str = REGION) -> None:
    """Make ``account``'s member role trust only its own account, as an administrator who locked the hub out."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    client("iam", account, region).update_assume_role_policy(
        RoleName=member_role_name(region), PolicyDocument=json.dumps(trust)
    )
