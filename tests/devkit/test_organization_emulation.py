"""The embedded AWS holds an organization: AssumeRole and cross-account EventBridge as strict as AWS.

Every call goes over HTTP to the moto server (AWS_ENDPOINT_URL), with accounts chosen
by devkit.scenarios.organization. The spoke template here is a small literal shaped
like the contract's (the synthesized one lives in infra and is tested there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from auto_rollback.vocabulary import HUB_BUS_NAME, hub_role_name, member_role_name
from devkit.aws import events_rules, organization, sts_api
from devkit.aws.aws_server import REGION, AwsEmulator
from devkit.scenarios import organization as org
from devkit.scenarios.fleet import make_fleet

MEMBER_ROLE = member_role_name(REGION)
HUB_BUS_ARN = f"arn:aws:events:{REGION}:{org.HUB}:event-bus/{HUB_BUS_NAME}"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{org.HUB}:function:auto-rollback"
HUB_BUS_TARGET = {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${HubAccountId}:event-bus/auto-rollback-hub"}
ALARM_PATTERN = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}

SPOKE: dict[str, Any] = {
    "Parameters": {"HubAccountId": {"Type": "String"}},
    "Resources": {
        "MemberRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Fn::Sub": "auto-rollback-member-${AWS::Region}"},
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${HubAccountId}:root"}},
                            "Condition": {
                                "ArnEquals": {
                                    "aws:PrincipalArn": {
                                        "Fn::Sub": "arn:${AWS::Partition}:iam::${HubAccountId}:role/"
                                        "auto-rollback-hub-${AWS::Region}"
                                    }
                                },
                                "StringEquals": {"aws:PrincipalOrgID": org.ORGANIZATION_ID},
                            },
                        }
                    ],
                },
            },
        },
        "MemberRoleDefaultPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "MemberRoleDefaultPolicy",
                "Roles": [{"Ref": "MemberRole"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "autoscaling:Describe*", "Resource": "*"}],
                },
            },
        },
        "ForwarderRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "events.amazonaws.com"},
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "PutEventsOnHubBus",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Effect": "Allow", "Action": "events:PutEvents", "Resource": HUB_BUS_TARGET}
                            ],
                        },
                    }
                ],
            },
        },
        "ForwardAlarms": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": ALARM_PATTERN,
                "State": "ENABLED",
                "Targets": [
                    {"Arn": HUB_BUS_TARGET, "Id": "HubBus", "RoleArn": {"Fn::GetAtt": ["ForwarderRole", "Arn"]}}
                ],
            },
        },
        "Metadata": {"Type": "AWS::CDK::Metadata", "Properties": {}},
    },
}

#: The hub bus policy of the contract: PutEvents from principals of the organization only.
HUB_BUS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "FromTheOrganization",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": HUB_BUS_ARN,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.ORGANIZATION_ID}},
        }
    ],
}


@pytest.fixture
def organization_world(aws: AwsEmulator) -> Iterator[None]:
    events_rules.reset()
    org.define_organization()
    yield
    events_rules.reset()


def _sts(credentials: Mapping[str, str] | None = None) -> Any:
    if credentials is None:
        return boto3.client("sts")
    return boto3.client(
        "sts",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
    )


def _document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _member_role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{MEMBER_ROLE}"


def _refused(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    error: dict[str, Any] = dict(raised.value.response["Error"])
    error["Status"] = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error


def _assume(credentials: Mapping[str, str] | None, account: str, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = _sts(credentials).assume_role(
        RoleArn=_member_role_arn(account), RoleSessionName=extra.pop("RoleSessionName", "auto-rollback"), **extra
    )
    return answer


# --------------------------------------------------------------------------- the registry


def test_the_organization_holds_its_members_and_not_the_outsider(organization_world: None) -> None:
    # Given the contract's organization
    # Then its members belong to it and the outsider to none
    assert {organization.organization_of(account) for account in org.MEMBERS} == {org.ORGANIZATION_ID}
    assert organization.organization_of(org.OUTSIDER) is None


def test_the_emulator_reset_forgets_the_organization(aws: AwsEmulator) -> None:
    # Given an organization
    org.define_organization()

    # When the emulator is reset between tests
    aws.reset()

    # Then no account belongs to an organization any more
    assert organization.organization_of(org.WORKLOAD) is None


def test_a_malformed_organization_is_refused_naming_the_fault(aws: AwsEmulator) -> None:
    # When an organization id or an account id is malformed, Then the error names it
    with pytest.raises(organization.OrganizationError, match="o-123"):
        organization.define("o-123", [org.WORKLOAD])
    with pytest.raises(organization.OrganizationError, match="'12345'"):
        organization.define(org.ORGANIZATION_ID, ["12345"])


# --------------------------------------------------------------------------- AssumeRole


def test_the_hub_role_assumes_a_member_role_and_lands_in_the_member_account(organization_world: None) -> None:
    # Given a spoke in the workload account and the hub function's credentials
    org.deploy_spoke(SPOKE, org.WORKLOAD)
    hub = org.hub_credentials()

    # When the hub assumes the member role
    answer = _assume(hub, org.WORKLOAD)

    # Then STS answers with a session of the member role, in the workload account
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{org.WORKLOAD}:assumed-role/{MEMBER_ROLE}/auto-rollback"


def test_assumed_credentials_route_later_calls_to_the_member_account(organization_world: None) -> None:
    # Given a group in the workload account and a session of its member role
    make_fleet(org.client("ec2", org.WORKLOAD), org.client("autoscaling", org.WORKLOAD), "web", instances=1)
    org.deploy_spoke(SPOKE, org.WORKLOAD)
    credentials = _assume(org.hub_credentials(), org.WORKLOAD)["Credentials"]
    member = boto3.client(
        "autoscaling",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

    # When both the member session and the default credentials list groups
    seen_by_member = [
        group["AutoScalingGroupName"] for group in member.describe_auto_scaling_groups()["AutoScalingGroups"]
    ]
    seen_by_default = boto3.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]

    # Then the group is visible in the member account only
    assert seen_by_member == ["web"]
    assert seen_by_default == []


def test_a_role_that_does_not_exist_is_access_denied(organization_world: None) -> None:
    # Given the hub's credentials and no spoke in the workload account
    hub = org.hub_credentials()

    # When the hub assumes the missing member role
    error = _refused(lambda: _assume(hub, org.WORKLOAD))

    # Then STS refuses as AWS does, naming the caller's session and the role
    assert error == {
        "Type": "Sender",
        "Code": "AccessDenied",
        "Message": f"User: arn:aws:sts::{org.HUB}:assumed-role/auto-rollback-hub-{REGION}/auto-rollback "
        f"is not authorized to perform: sts:AssumeRole on resource: {_member_role_arn(org.WORKLOAD)}",
        "Status": 403,
    }


def test_another_principal_of_the_hub_account_is_not_trusted(organization_world: None) -> None:
    # Given a spoke trusting the hub role only
    org.deploy_spoke(SPOKE, org.WORKLOAD)

    # When moto's default user of the hub account assumes the member role
    error = _refused(lambda: _assume(None, org.WORKLOAD))

    # Then the ArnEquals condition on aws:PrincipalArn refuses it
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"].startswith(f"User: arn:aws:iam::{org.HUB}:user/moto is not authorized")


def test_a_member_whose_role_locked_the_hub_out_refuses(organization_world: None) -> None:
    # Given the refusing member's spoke, its role then made to trust its own account only
    org.deploy_spoke(SPOKE, org.REFUSING)
    org.refuse_hub(org.REFUSING)

    # When the hub assumes it
    error = _refused(lambda: _assume(org.hub_credentials(), org.REFUSING))

    # Then it is AccessDenied
    assert error["Code"] == "AccessDenied"
    assert error["Message"].endswith(f"on resource: {_member_role_arn(org.REFUSING)}")


def test_a_hub_outside_the_organization_fails_the_principal_org_condition(organization_world: None) -> None:
    # Given a workload spoke trusting a "hub" in the outsider account (a misconfigured HubAccountId),
    # and the outsider's role of that name with a permission to assume member roles anywhere
    org.deploy_spoke(SPOKE, org.WORKLOAD, hub_account=org.OUTSIDER)
    iam = org.client("iam", org.OUTSIDER)
    trust = _document({"Effect": "Allow", "Principal": {"AWS": org.OUTSIDER}, "Action": "sts:AssumeRole"})
    name = f"auto-rollback-hub-{REGION}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    anywhere = _document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
    iam.put_role_policy(RoleName=name, PolicyName="Anywhere", PolicyDocument=json.dumps(anywhere))
    outsider = org.client("sts", org.OUTSIDER).assume_role(
        RoleArn=f"arn:aws:iam::{org.OUTSIDER}:role/{name}", RoleSessionName="outsider"
    )["Credentials"]
    credentials = {
        "AWS_ACCESS_KEY_ID": outsider["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": outsider["SecretAccessKey"],
        "AWS_SESSION_TOKEN": outsider["SessionToken"],
    }

    # When the outsider's role assumes the workload's member role
    error = _refused(lambda: _assume(credentials, org.WORKLOAD))

    # Then aws:PrincipalOrgID (absent for an account outside the organization) refuses it
    assert error["Code"] == "AccessDenied"


def test_the_hub_role_needs_its_own_permission_to_assume(organization_world: None) -> None:
    # Given a trusting spoke, and a hub role whose policy does not allow sts:AssumeRole
    org.deploy_spoke(SPOKE, org.WORKLOAD)
    reads_only = _document({"Effect": "Allow", "Action": "autoscaling:Describe*", "Resource": "*"})
    hub = org.hub_credentials(policy=reads_only)

    # When the hub assumes the member role, Then it is AccessDenied (AWS asks both sides across accounts)
    assert _refused(lambda: _assume(hub, org.WORKLOAD))["Code"] == "AccessDenied"


def test_the_hub_role_may_not_assume_a_member_role_outside_the_organization(organization_world: None) -> None:
    # Given an outsider whose role of the member name trusts the hub account outright
    trust = _document({"Effect": "Allow", "Principal": {"AWS": org.HUB}, "Action": "sts:AssumeRole"})
    org.client("iam", org.OUTSIDER).create_role(RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))

    # When the hub assumes it, Then its aws:ResourceOrgID condition refuses
    assert _refused(lambda: _assume(org.hub_credentials(), org.OUTSIDER))["Code"] == "AccessDenied"


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param(
            [
                {"Effect": "Allow", "Principal": {"AWS": org.HUB}, "Action": "sts:AssumeRole"},
                {"Effect": "Deny", "Principal": "*", "Action": "sts:*"},
            ],
            id="an explicit deny wins",
        ),
        pytest.param(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": org.HUB},
                    "Action": "sts:AssumeRole",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                }
            ],
            id="an unknown operator fails closed",
        ),
        pytest.param(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": org.HUB},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceIp": "10.0.0.1"}},
                }
            ],
            id="an unknown condition key fails closed",
        ),
        pytest.param(
            [{"Effect": "Allow", "NotPrincipal": {"AWS": org.OUTSIDER}, "Action": "sts:AssumeRole"}],
            id="NotPrincipal fails closed",
        ),
    ],
)
def test_trust_policies_refuse_what_they_deny_or_what_is_not_understood(
    organization_world: None, statements: list[dict[str, Any]]
) -> None:
    # Given a member role whose trust policy would otherwise let the hub account in
    document = {"Version": "2012-10-17", "Statement": statements}
    org.client("iam", org.WORKLOAD).create_role(RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=json.dumps(document))

    # When the hub assumes it, Then it is AccessDenied
    assert _refused(lambda: _assume(org.hub_credentials(), org.WORKLOAD))["Code"] == "AccessDenied"


def test_a_plain_account_principal_trusts_the_hub_role(organization_world: None) -> None:
    # Given a member role trusting the hub account by its plain id, without conditions
    trust = _document({"Effect": "Allow", "Principal": {"AWS": org.HUB}, "Action": "sts:AssumeRole"})
    org.client("iam", org.WORKLOAD).create_role(RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))

    # When the hub assumes it, Then STS hands a session
    assert _assume(org.hub_credentials(), org.WORKLOAD)["Credentials"]["AccessKeyId"].startswith("ASIA")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"RoleSessionName": "auto rollback"}, "at 'roleSessionName' failed to satisfy constraint"),
        ({"RoleSessionName": "a" * 65}, "at 'roleSessionName' failed to satisfy constraint"),
        ({"DurationSeconds": 43201}, "Member must have value less than or equal to 43200"),
        ({"DurationSeconds": 7200}, "exceeds the 1 hour session limit for roles assumed by role chaining"),
    ],
    ids=["session name with a space", "session name too long", "duration over 12 hours", "chained over 1 hour"],
)
def test_bad_session_parameters_are_validation_errors(
    organization_world: None, extra: dict[str, Any], message: str
) -> None:
    # Given a spoke and the hub's credentials
    org.deploy_spoke(SPOKE, org.WORKLOAD)
    hub = org.hub_credentials()

    # When the hub asks for a bad session, Then STS answers ValidationError naming the fault
    error = _refused(lambda: _assume(hub, org.WORKLOAD, **extra))
    assert (error["Code"], error["Status"]) == ("ValidationError", 400)
    assert message in error["Message"]


def test_a_duration_over_the_roles_maximum_is_a_validation_error(organization_world: None) -> None:
    # Given a role trusting the caller's account, with the default one-hour MaxSessionDuration
    trust = _document({"Effect": "Allow", "Principal": {"AWS": org.HUB}, "Action": "sts:AssumeRole"})
    org.client("iam", org.WORKLOAD).create_role(RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))

    # When a two-hour session is asked for, Then it is refused, as AWS does
    error = _refused(lambda: _assume(None, org.WORKLOAD, DurationSeconds=7200))
    assert error["Message"] == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."


def _recreate_hub_role() -> dict[str, str]:
    """An administrator deletes the hub role and deploys it again (same name): a new RoleId; a new session of it."""
    iam = org.client("iam", org.HUB)
    name = hub_role_name(REGION)
    for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    iam.delete_role(RoleName=name)
    return org.hub_credentials()


def test_a_session_of_a_hub_role_re_created_since_may_not_assume_but_the_new_roles_may(
    organization_world: None,
) -> None:
    # Given a spoke trusting the hub role by aws:PrincipalArn, and a session of the hub role,
    # whose role is then deleted and re-created with the same name (on AWS, a new principal)
    org.deploy_spoke(SPOKE, org.WORKLOAD)
    old_hub = org.hub_credentials()
    new_hub = _recreate_hub_role()

    # When the old session assumes the member role
    error = _refused(lambda: _assume(old_hub, org.WORKLOAD))

    # Then STS refuses it as it refuses a deleted role's session, naming the session
    session_arn = f"arn:aws:sts::{org.HUB}:assumed-role/{hub_role_name(REGION)}/{org.HUB_SESSION_NAME}"
    assert error == {
        "Type": "Sender",
        "Code": "AccessDenied",
        "Message": f"User: {session_arn} is not authorized to perform: sts:AssumeRole on resource: "
        f"{_member_role_arn(org.WORKLOAD)}",
        "Status": 403,
    }
    # And a session of the re-created role is trusted (the spoke names the role by ARN in a condition,
    # which a re-created role matches, unlike a role ARN in Principal)
    assert _assume(new_hub, org.WORKLOAD)["AssumedRoleUser"]["Arn"].startswith(
        f"arn:aws:sts::{org.WORKLOAD}:assumed-role/{MEMBER_ROLE}/"
    )


def test_an_expired_session_may_not_assume_and_sts_says_its_token_expired(organization_world: None) -> None:
    # Given a trusting spoke and a session of the hub role whose Expiration has passed
    org.deploy_spoke(SPOKE, org.WORKLOAD)
    hub = org.hub_credentials()
    sts_api.expire(hub["AWS_ACCESS_KEY_ID"])

    # When it assumes the member role
    error = _refused(lambda: _assume(hub, org.WORKLOAD))

    # Then STS answers ExpiredToken, 403, in its query protocol, before any policy is read
    assert error == {
        "Type": "Sender",
        "Code": "ExpiredToken",
        "Message": "The security token included in the request is expired",
        "Status": 403,
    }
    # And a fresh session of the same role assumes it
    assert _assume(org.hub_credentials(), org.WORKLOAD)["Credentials"]["AccessKeyId"]


# --------------------------------------------------------------------------- EventBridge across accounts


def _hub_with_function_rule() -> None:
    org.create_hub_bus(HUB_BUS_POLICY)
    events = org.client("events", org.HUB)
    events.put_rule(Name="alarms", EventBusName=HUB_BUS_NAME, EventPattern=json.dumps(ALARM_PATTERN))
    events.put_targets(Rule="alarms", EventBusName=HUB_BUS_NAME, Targets=[{"Id": "Function", "Arn": FUNCTION_ARN}])


def _put_alarm(account: str, name: str) -> None:
    detail = {"alarmName": name, "state": {"value": "ALARM"}}
    org.client("events", account).put_events(
        Entries=[
            {"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change", "Detail": json.dumps(detail)}
        ]
    )


def test_a_member_spoke_forwards_its_alarm_to_the_hub_function_keeping_its_account(organization_world: None) -> None:
    # Given the hub bus with the function's rule, and a spoke in the workload account
    _hub_with_function_rule()
    org.deploy_spoke(SPOKE, org.WORKLOAD)

    # When an alarm of the workload account changes state
    _put_alarm(org.WORKLOAD, "web-5xx")

    # Then the function receives it once, still naming the workload account and its region
    (delivered,) = events_rules.deliveries(FUNCTION_ARN)
    assert (delivered.event["account"], delivered.event["region"]) == (org.WORKLOAD, REGION)
    assert delivered.event["detail"]["alarmName"] == "web-5xx"
    assert events_rules.failed_deliveries() == []


def test_an_outsiders_spoke_is_refused_by_the_bus_policy_and_counted(organization_world: None) -> None:
    # Given the hub bus and a spoke deployed in an account outside the organization
    _hub_with_function_rule()
    org.deploy_spoke(SPOKE, org.OUTSIDER)

    # When an alarm of the outsider changes state
    _put_alarm(org.OUTSIDER, "intruder")

    # Then nothing reaches the function and the failed delivery is recorded
    assert events_rules.deliveries(FUNCTION_ARN) == []
    (failed,) = events_rules.failed_deliveries(HUB_BUS_ARN)
    assert failed.event["account"] == org.OUTSIDER
    assert "does not allow events:PutEvents from account 555555555555" in failed.reason


def test_an_organization_grant_needs_a_role_on_the_rule_target(organization_world: None) -> None:
    # Given the hub bus granting the organization, and a member rule targeting it without a role
    _hub_with_function_rule()
    events = org.client("events", org.WORKLOAD)
    events.put_rule(Name="forward", EventPattern=json.dumps(ALARM_PATTERN))
    events.put_targets(Rule="forward", Targets=[{"Id": "HubBus", "Arn": HUB_BUS_ARN}])

    # When an alarm of the member changes state
    _put_alarm(org.WORKLOAD, "web-5xx")

    # Then AWS's rule (organization grants need a RoleArn) drops it
    assert events_rules.deliveries(FUNCTION_ARN) == []
    assert len(events_rules.failed_deliveries(HUB_BUS_ARN)) == 1


def test_a_forwarder_role_without_put_events_fails_the_delivery(organization_world: None) -> None:
    # Given the hub bus and a workload spoke whose forwarder role lost its permission
    _hub_with_function_rule()
    org.deploy_spoke(SPOKE, org.WORKLOAD)
    forwarder = org.client("iam", org.WORKLOAD)
    (role,) = [item for item in forwarder.list_roles()["Roles"] if item["RoleName"] == "ForwarderRole"]
    forwarder.delete_role_policy(RoleName=role["RoleName"], PolicyName="PutEventsOnHubBus")

    # When an alarm of the workload changes state
    _put_alarm(org.WORKLOAD, "web-5xx")

    # Then it is dropped, naming the role
    (failed,) = events_rules.failed_deliveries()
    assert "ForwarderRole" in failed.reason
    assert events_rules.deliveries(FUNCTION_ARN) == []
