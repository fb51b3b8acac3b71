"""The embedded AWS authorizes assumed-role sessions as IAM does, for the calls a member role is used for.

Every call goes over HTTP to the moto server (AWS_ENDPOINT_URL). A role is created
in a member account with the policy under test and assumed with moto's default
credentials; its session's calls to Auto Scaling, CloudWatch and the Tagging API
are refused where IAM would refuse them, with the error botocore parses on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from auto_rollback.actions import ActionFailedError
from auto_rollback.vocabulary import HUB_BUS_NAME, member_role_name
from devkit.aws import events_rules, refresh_api, sts_api
from devkit.aws.aws_server import REGION, AwsEmulator
from devkit.scenarios import organization as org
from devkit.scenarios.events import alarm_event, from_account, refresh_event
from devkit.scenarios.fleet import Fleet, make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import invoke

ROLE = "member-under-test"
SESSION = "auto-rollback"
SESSION_ARN = f"arn:aws:sts::{org.WORKLOAD}:assumed-role/{ROLE}/{SESSION}"
GROUP_ARNS = f"arn:aws:autoscaling:{REGION}:{org.WORKLOAD}:autoScalingGroup:*:autoScalingGroupName/*"
ROLLBACK_IF_OPTED_IN = {
    "Effect": "Allow",
    "Action": ["autoscaling:RollbackInstanceRefresh", "autoscaling:CancelInstanceRefresh"],
    "Resource": GROUP_ARNS,
    "Condition": {"StringEquals": {"autoscaling:ResourceTag/auto-rollback": "enabled"}},
}
DESCRIBE_GROUPS = {"Effect": "Allow", "Action": "autoscaling:DescribeAutoScalingGroups", "Resource": "*"}


def _document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _session(*statements: Mapping[str, Any], account: str = org.WORKLOAD, session_policy: str | None = None) -> Any:
    """A boto3 session of a new role of ``account`` whose only policy holds ``statements``."""
    iam = org.client("iam", account)
    trust = _document({"Effect": "Allow", "Principal": {"AWS": org.HUB}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="UnderTest", PolicyDocument=_document(*statements))
    extra: dict[str, Any] = {"Policy": session_policy} if session_policy else {}
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=SESSION, **extra)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def _refused(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    error: dict[str, Any] = dict(raised.value.response["Error"])
    error["Status"] = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error


def _not_authorized(action: str, resource: str = "*") -> str:
    return (
        f"User: {SESSION_ARN} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )


def _workload_fleet(name: str, mode: str) -> Fleet:
    autoscaling = org.client("autoscaling", org.WORKLOAD)
    fleet = make_fleet(org.client("ec2", org.WORKLOAD), autoscaling, name, tags={"auto-rollback": mode})
    start_refresh(autoscaling, fleet)
    return fleet


def _group_arn(name: str) -> str:
    (group,) = org.client("autoscaling", org.WORKLOAD).describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ]
    arn: str = group["AutoScalingGroupARN"]
    return arn


# --------------------------------------------------------------------------- Auto Scaling


def test_a_member_role_without_describe_tags_is_refused_describe_tags(aws: AwsEmulator) -> None:
    # Given a member role that may list groups but not read tags
    member = _session(DESCRIBE_GROUPS).client("autoscaling")

    # When its session reads tags
    error = _refused(member.describe_tags)

    # Then Auto Scaling answers AccessDenied, 403, in its query protocol, naming the session and the action
    assert error == {
        "Type": "Sender",
        "Code": "AccessDenied",
        "Message": _not_authorized("autoscaling:DescribeTags"),
        "Status": 403,
    }
    # And the call its policy allows is still answered
    assert member.describe_auto_scaling_groups()["AutoScalingGroups"] == []


def test_a_rollback_conditioned_on_the_opt_in_tag_is_allowed_on_an_enabled_group_only(aws: AwsEmulator) -> None:
    # Given two groups mid-refresh in the workload account, one opted in, one not
    _workload_fleet("web-prod", "enabled")
    _workload_fleet("batch", "disabled")
    batch_status = refresh_api.refreshes("batch", account_id=org.WORKLOAD)[0]["Status"]
    # And a member role whose rollback is conditioned on auto-rollback = enabled
    member = _session(ROLLBACK_IF_OPTED_IN).client("autoscaling")

    # When its session rolls back the opted-in group, Then the rollback starts
    assert member.rollback_instance_refresh(AutoScalingGroupName="web-prod")["InstanceRefreshId"]
    assert refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["Status"] == "RollbackInProgress"

    # When it rolls back the group that is not opted in
    error = _refused(lambda: member.rollback_instance_refresh(AutoScalingGroupName="batch"))

    # Then IAM refuses on the group's ARN, and the refresh goes on
    action = "autoscaling:RollbackInstanceRefresh"
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == _not_authorized(action, _group_arn("batch"))
    assert [call.group_name for call in refresh_api.calls(refresh_api.ROLLBACK)] == ["web-prod"]
    assert refresh_api.refreshes("batch", account_id=org.WORKLOAD)[0]["Status"] == batch_status != "RollbackInProgress"


def test_a_tag_value_that_differs_only_in_case_does_not_opt_in(aws: AwsEmulator) -> None:
    # Given a group tagged auto-rollback = Enabled (StringEquals is case-sensitive)
    _workload_fleet("web-prod", "Enabled")
    member = _session(ROLLBACK_IF_OPTED_IN).client("autoscaling")

    # When the member session cancels its refresh, Then IAM refuses
    assert _refused(lambda: member.cancel_instance_refresh(AutoScalingGroupName="web-prod"))["Code"] == "AccessDenied"


def test_the_default_credentials_are_not_authorized_by_policies(aws: AwsEmulator) -> None:
    # Given a group that is not opted in, and a member role that may not touch it
    _workload_fleet("batch", "disabled")
    _session(ROLLBACK_IF_OPTED_IN)

    # When moto's default credentials (an administrator) roll it back in that account
    answer = org.client("autoscaling", org.WORKLOAD).rollback_instance_refresh(AutoScalingGroupName="batch")

    # Then moto answers as before: only assumed-role sessions are authorized
    assert answer["InstanceRefreshId"]
    assert boto3.client("autoscaling").describe_tags()["Tags"] == []


def test_the_hub_roles_own_session_may_not_read_auto_scaling(aws: AwsEmulator) -> None:
    # Given the hub function's session (its role may only assume member roles)
    hub = org.hub_credentials()
    autoscaling = boto3.client(
        "autoscaling",
        aws_access_key_id=hub["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=hub["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=hub["AWS_SESSION_TOKEN"],
    )

    # When it reads groups in its own account, Then IAM refuses: it acts only through member roles
    error = _refused(autoscaling.describe_auto_scaling_groups)
    assert error["Code"] == "AccessDenied"
    assert error["Message"].startswith(f"User: arn:aws:sts::{org.HUB}:assumed-role/auto-rollback-hub-{REGION}/")


# --------------------------------------------------------------------------- CloudWatch and tagging


def test_a_member_role_without_describe_alarms_is_refused_in_cloudwatchs_protocol(aws: AwsEmulator) -> None:
    # Given a member role that may read Auto Scaling only
    cloudwatch = _session(DESCRIBE_GROUPS).client("cloudwatch")

    # When its session describes alarms (CloudWatch speaks JSON, query-compatible, to this botocore)
    error = _refused(cloudwatch.describe_alarms)

    # Then botocore reads CloudWatch's AccessDenied and 403
    assert cloudwatch.meta.service_model.resolved_protocol == "json"
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == _not_authorized("cloudwatch:DescribeAlarms")


def test_alarm_tags_are_authorized_on_the_alarms_arn(aws: AwsEmulator) -> None:
    # Given an alarm in the workload account, and a role that may read the tags of that account's alarms only
    alarm_arn = make_alarm(org.client("cloudwatch", org.WORKLOAD), "web-prod-5xx", group="web-prod")
    alarms_here = f"arn:aws:cloudwatch:{REGION}:{org.WORKLOAD}:alarm:*"
    cloudwatch = _session(
        {"Effect": "Allow", "Action": "cloudwatch:ListTagsForResource", "Resource": alarms_here}
    ).client("cloudwatch")

    # When its session reads the alarm's tags, Then they are answered
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm_arn)["Tags"]
    assert {"Key": "auto-rollback:group", "Value": "web-prod"} in tags
    # And an alarm ARN of another account is refused, naming that ARN
    elsewhere = alarm_arn.replace(org.WORKLOAD, org.MONITORING)
    error = _refused(lambda: cloudwatch.list_tags_for_resource(ResourceARN=elsewhere))
    assert error["Message"] == _not_authorized("cloudwatch:ListTagsForResource", elsewhere)


def test_a_member_role_without_get_resources_is_refused_in_the_tagging_apis_protocol(aws: AwsEmulator) -> None:
    # Given a member role without tag:GetResources
    tagging = _session(DESCRIBE_GROUPS).client("resourcegroupstaggingapi")

    # When its session looks alarms up by tag
    error = _refused(lambda: tagging.get_resources(ResourceTypeFilters=["cloudwatch:alarm"]))

    # Then the Tagging API answers AccessDeniedException, 400, as its JSON protocol does
    assert (error["Code"], error["Status"]) == ("AccessDeniedException", 400)
    assert error["Message"] == _not_authorized("tag:GetResources")


# --------------------------------------------------------------------------- what is refused on principle


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        pytest.param(
            [
                {"Effect": "Allow", "Action": "autoscaling:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "autoscaling:DescribeTags", "Resource": "*"},
            ],
            "with an explicit deny in an identity-based policy",
            id="an explicit deny wins",
        ),
        pytest.param(
            [
                {
                    "Effect": "Allow",
                    "Action": "autoscaling:DescribeTags",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                }
            ],
            "because no identity-based policy allows",
            id="an unknown operator fails closed",
        ),
        pytest.param(
            [
                {"Effect": "Allow", "Action": "autoscaling:DescribeTags", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "autoscaling:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalAccount": org.WORKLOAD}},
                },
            ],
            "because no identity-based policy allows",
            id="a negated operator on a deny fails closed",
        ),
        pytest.param(
            [
                {
                    "Effect": "Allow",
                    "Action": "autoscaling:DescribeTags",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
                }
            ],
            "because no identity-based policy allows",
            id="an unknown condition key fails closed",
        ),
        pytest.param(
            [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
            "because no identity-based policy allows",
            id="NotAction fails closed",
        ),
    ],
)
def test_policies_refuse_what_they_deny_or_what_is_not_understood(
    aws: AwsEmulator, statements: list[dict[str, Any]], reason: str
) -> None:
    # Given a member role with such a policy
    member = _session(*statements).client("autoscaling")

    # When its session reads tags, Then it is refused, saying why
    error = _refused(member.describe_tags)
    assert error["Code"] == "AccessDenied"
    assert reason in error["Message"]


def test_a_session_policy_narrows_what_the_role_allows(aws: AwsEmulator) -> None:
    # Given a role that may read everything in Auto Scaling, assumed with a session policy for groups only
    member = _session(
        {"Effect": "Allow", "Action": "autoscaling:Describe*", "Resource": "*"},
        session_policy=_document(DESCRIBE_GROUPS),
    ).client("autoscaling")

    # When the session reads tags, Then the session policy refuses it
    error = _refused(member.describe_tags)
    assert error["Message"].endswith("because no session policy allows the autoscaling:DescribeTags action")
    assert member.describe_auto_scaling_groups()["AutoScalingGroups"] == []


def test_a_role_deleted_after_the_session_began_allows_nothing(aws: AwsEmulator) -> None:
    # Given a session of a role that may read tags, whose role is then deleted
    member = _session({"Effect": "Allow", "Action": "autoscaling:DescribeTags", "Resource": "*"}).client("autoscaling")
    iam = org.client("iam", org.WORKLOAD)
    iam.delete_role_policy(RoleName=ROLE, PolicyName="UnderTest")
    iam.delete_role(RoleName=ROLE)

    # When the session reads tags, Then it is refused
    assert _refused(member.describe_tags)["Code"] == "AccessDenied"


READ_TAGS = {"Effect": "Allow", "Action": "autoscaling:DescribeTags", "Resource": "*"}


def _recreate_role(*statements: Mapping[str, Any]) -> str:
    """An administrator deletes the role under test and creates one of the same name, trust and policy."""
    iam = org.client("iam", org.WORKLOAD)
    old_id: str = iam.get_role(RoleName=ROLE)["Role"]["RoleId"]
    iam.delete_role_policy(RoleName=ROLE, PolicyName="UnderTest")
    iam.delete_role(RoleName=ROLE)
    trust = _document({"Effect": "Allow", "Principal": {"AWS": org.HUB}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName=ROLE, PolicyName="UnderTest", PolicyDocument=_document(*statements))
    return old_id


def _assumed(role_arn: str) -> Any:
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=SESSION)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def test_a_session_of_a_role_re_created_with_the_same_name_allows_nothing(aws: AwsEmulator) -> None:
    # Given a session of a role that may read tags, whose role is then deleted and re-created with the
    # same name, trust and policy (a new principal on AWS: sessions belong to the RoleId, AROA...)
    member = _session(READ_TAGS).client("autoscaling")
    assert member.describe_tags()["Tags"] == []
    old_id = _recreate_role(READ_TAGS)
    role = org.client("iam", org.WORKLOAD).get_role(RoleName=ROLE)["Role"]
    assert role["RoleId"] != old_id

    # When the old session reads tags
    error = _refused(member.describe_tags)

    # Then it is refused as a deleted role's session is, naming the session and the action
    assert error == {
        "Type": "Sender",
        "Code": "AccessDenied",
        "Message": _not_authorized("autoscaling:DescribeTags"),
        "Status": 403,
    }
    # And a session of the re-created role is answered
    assert _assumed(role["Arn"]).client("autoscaling").describe_tags()["Tags"] == []


def test_an_expired_session_is_refused_with_expired_token_by_each_service_in_its_protocol(aws: AwsEmulator) -> None:
    # Given a session whose role may make the reads, which answer while it is valid
    boto_session = _session(
        {
            "Effect": "Allow",
            "Action": ["autoscaling:DescribeTags", "cloudwatch:DescribeAlarms", "tag:GetResources"],
            "Resource": "*",
        }
    )
    autoscaling, cloudwatch = boto_session.client("autoscaling"), boto_session.client("cloudwatch")
    tagging = boto_session.client("resourcegroupstaggingapi")
    assert autoscaling.describe_tags()["Tags"] == []

    # When its Expiration passes
    credentials = boto_session.get_credentials()
    assert credentials is not None
    sts_api.expire(credentials.access_key)

    # Then every call is refused before any policy is read, with AWS's ExpiredToken in each protocol
    expired = "The security token included in the request is expired"
    assert _refused(autoscaling.describe_tags) == {
        "Type": "Sender",
        "Code": "ExpiredToken",
        "Message": expired,
        "Status": 403,
    }
    error = _refused(cloudwatch.describe_alarms)
    assert (error["Code"], error["Message"], error["Status"]) == ("ExpiredToken", expired, 403)
    error = _refused(tagging.get_resources)
    assert (error["Code"], error["Message"], error["Status"]) == ("ExpiredTokenException", expired, 400)


def test_a_session_assumed_again_after_expiry_is_answered(aws: AwsEmulator) -> None:
    # Given a session of a role that may read tags, expired by expire_all for that role only,
    # and a session of another account's role, left alone
    expired_session = _session(READ_TAGS)
    other = _session(READ_TAGS, account=org.MONITORING).client("autoscaling")
    role_arn = f"arn:aws:iam::{org.WORKLOAD}:role/{ROLE}"
    assert sts_api.expire_all(role_arn=role_arn) == 1
    assert _refused(expired_session.client("autoscaling").describe_tags)["Code"] == "ExpiredToken"

    # When the caller refreshes (assumes the role again), Then the new session is answered
    assert _assumed(role_arn).client("autoscaling").describe_tags()["Tags"] == []
    # And the other role's session was never expired
    assert other.describe_tags()["Tags"] == []


def test_expiring_a_key_no_session_holds_is_an_error_naming_it(aws: AwsEmulator) -> None:
    # Given moto's default credentials (an administrator, not a session)
    credentials = boto3.Session().get_credentials()
    assert credentials is not None
    key = credentials.access_key

    # When a test expires them, Then it is told that key is no session's
    with pytest.raises(sts_api.UnknownSessionError, match=key):
        sts_api.expire(key)


# --------------------------------------------------------------------------- the function in hub mode


def _strip_member_role(account: str) -> None:
    """An administrator deletes every policy of the member role of ``account`` (its trust stays)."""
    iam = org.client("iam", account)
    role = member_role_name(REGION)
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=attached["PolicyArn"])


def test_the_spokes_member_role_allows_every_call_of_a_hub_rollback(hub: Any) -> None:
    # Given a workload group mid-refresh and its alarm, with the spoke's member role as deployed
    hub()
    _workload_fleet("web-prod", "enabled")
    make_alarm(org.client("cloudwatch", org.WORKLOAD), "web-prod-5xx", group="web-prod")

    # When the alarm's event reaches the hub
    tags = {"auto-rollback:group": "web-prod"}
    result = invoke(from_account(alarm_event("web-prod-5xx", tags=tags), org.WORKLOAD))

    # Then the rollback is made through the member role, every call authorized
    assert (result["outcome"], result["account"]) == ("ROLLBACK_STARTED", org.WORKLOAD)


def test_a_member_role_stripped_of_its_policies_fails_the_invocation_on_its_first_read(hub: Any) -> None:
    # Given a workload group mid-refresh, and a member role whose policies an administrator deleted
    # (its trust kept, so the hub still assumes it)
    world = hub()
    _workload_fleet("web-prod", "enabled")
    _strip_member_role(org.WORKLOAD)
    refresh_id = refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["InstanceRefreshId"]

    # When the refresh reaches a checkpoint and its event reaches the hub
    event = from_account(refresh_event("checkpoint-reached", "web-prod", refresh_id), org.WORKLOAD)
    with pytest.raises(ActionFailedError) as raised:
        invoke(event)

    # Then the invocation fails (Lambda retries it, then keeps it in the failure destination) on the first read,
    # AWS's refusal naming the member role's session and the missing action; nothing is rolled back
    member_session = f"arn:aws:sts::{org.WORKLOAD}:assumed-role/{member_role_name(REGION)}/{SESSION}"
    cause = raised.value.__cause__
    assert isinstance(cause, ClientError)
    assert cause.response["Error"]["Code"] == "AccessDenied"
    assert str(cause).endswith(
        f"User: {member_session} is not authorized to perform: autoscaling:DescribeTags on resource: * "
        "because no identity-based policy allows the autoscaling:DescribeTags action"
    )
    assert refresh_api.calls(refresh_api.ROLLBACK) == []
    # And a FAILED outcome tells the on-call which account's role refused what: never a silent failure
    [message] = world.published()
    assert (message.body["outcome"], message.body["reason"]) == ("FAILED", "member-access-denied")
    assert (message.body["account"], message.body["autoScalingGroupName"]) == (org.WORKLOAD, "web-prod")
    assert "autoscaling:DescribeTags" in message.body["summary"]


# --------------------------------------------------------------------------- EventBridge: one hop only


def test_an_event_received_from_another_accounts_bus_is_not_routed_on_to_a_third_bus(aws: AwsEmulator) -> None:
    # Given the hub bus, open to the workload account, whose rules deliver to the function and on to a
    # bus of the monitoring account (open to the hub account), which delivers to a function of its own
    events_rules.reset()
    hub_bus = org.create_hub_bus(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Workload",
                    "Effect": "Allow",
                    "Principal": {"AWS": org.WORKLOAD},
                    "Action": "events:PutEvents",
                    "Resource": f"arn:aws:events:{REGION}:{org.HUB}:event-bus/{HUB_BUS_NAME}",
                }
            ],
        }
    )
    monitoring = org.client("events", org.MONITORING)
    third_bus = monitoring.create_event_bus(Name="onward")["EventBusArn"]
    monitoring.put_permission(EventBusName="onward", Action="events:PutEvents", Principal=org.HUB, StatementId="Hub")
    third_function = f"arn:aws:lambda:{REGION}:{org.MONITORING}:function:third"
    monitoring.put_rule(Name="all", EventBusName="onward", EventPattern=json.dumps({"source": ["devkit.test"]}))
    monitoring.put_targets(Rule="all", EventBusName="onward", Targets=[{"Id": "F", "Arn": third_function}])
    hub_function = f"arn:aws:lambda:{REGION}:{org.HUB}:function:auto-rollback"
    hub_events = org.client("events", org.HUB)
    hub_events.put_rule(Name="all", EventBusName=HUB_BUS_NAME, EventPattern=json.dumps({"source": ["devkit.test"]}))
    hub_events.put_targets(
        Rule="all", EventBusName=HUB_BUS_NAME, Targets=[{"Id": "F", "Arn": hub_function}, {"Id": "B", "Arn": third_bus}]
    )
    workload = org.client("events", org.WORKLOAD)
    workload.put_rule(Name="forward", EventPattern=json.dumps({"source": ["devkit.test"]}))
    workload.put_targets(Rule="forward", Targets=[{"Id": "Hub", "Arn": hub_bus}])
    entry = {"Source": "devkit.test", "DetailType": "probe", "Detail": "{}"}

    # When an event put on the hub bus itself, and one sent by the workload account, match the rules
    hub_events.put_events(Entries=[{**entry, "EventBusName": HUB_BUS_NAME}])
    workload.put_events(Entries=[entry])

    # Then both reach the hub function, but only the hub's own event goes on to the third bus
    assert [item.event["account"] for item in events_rules.deliveries(hub_function)] == [org.HUB, org.WORKLOAD]
    assert [item.event["account"] for item in events_rules.deliveries(third_function)] == [org.HUB]
    # And the workload's second hop is recorded as a failed delivery of the hub's rule
    (failed,) = events_rules.failed_deliveries()
    assert (failed.rule, failed.target_arn, failed.event["account"]) == ("all", third_bus, org.WORKLOAD)
    assert failed.reason == events_rules.SECOND_HOP
