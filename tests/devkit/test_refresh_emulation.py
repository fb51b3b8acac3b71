"""The instance-refresh emulation behaves like the EC2 Auto Scaling API, over HTTP.

Every test talks to the moto server through boto3, as the function does, and drives
time with ``refresh_api.advance``. The clients do not retry, so each call reaches
the server exactly once (except in the test about retries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import ListShape, Shape, StructureShape

from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.fleet import (
    BAD_IMAGE_ID,
    GOOD_IMAGE_ID,
    SSM_IMAGE_ID,
    Fleet,
    make_fleet,
    start_refresh,
)

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
GROUP = "web-asg"


@pytest.fixture
def ec2(aws: AwsEmulator) -> Any:
    return boto3.client("ec2", config=NO_RETRIES)


@pytest.fixture
def autoscaling(aws: AwsEmulator) -> Any:
    return boto3.client("autoscaling", config=NO_RETRIES)


@pytest.fixture
def fleet(ec2: Any, autoscaling: Any) -> Fleet:
    return make_fleet(ec2, autoscaling, GROUP, tags={"team": "web"})


def latest(autoscaling: Any, group_name: str = GROUP) -> dict[str, Any]:
    refreshes: list[dict[str, Any]] = autoscaling.describe_instance_refreshes(AutoScalingGroupName=group_name)[
        "InstanceRefreshes"
    ]
    return refreshes[0]


def group_launch_template(autoscaling: Any, group_name: str = GROUP) -> dict[str, Any]:
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])["AutoScalingGroups"][0]
    spec: dict[str, Any] = group["LaunchTemplate"]
    return spec


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------------- fleet builders


def test_make_fleet_builds_a_group_on_a_numbered_good_version(ec2: Any, autoscaling: Any, fleet: Fleet) -> None:
    # Given a fleet built with the defaults (the `fleet` fixture)
    # When we look at it through the EC2 and Auto Scaling APIs
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=fleet.launch_template_id)[
        "LaunchTemplateVersions"
    ]
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]

    # Then the group runs version 1 (good AMI) and version 2 carries the new AMI
    images = {str(v["VersionNumber"]): v["LaunchTemplateData"]["ImageId"] for v in versions}
    assert images == {fleet.good_version: GOOD_IMAGE_ID, fleet.bad_version: BAD_IMAGE_ID}
    assert group["LaunchTemplate"]["Version"] == "1"
    assert len(group["Instances"]) == fleet.instances == 2
    assert {"Key": "team", "Value": "web"}.items() <= group["Tags"][0].items()
    assert ec2.describe_images(ImageIds=[GOOD_IMAGE_ID, BAD_IMAGE_ID])["Images"]


# --------------------------------------------------------------------------- StartInstanceRefresh


def test_start_creates_a_pending_refresh_that_echoes_the_request(autoscaling: Any, fleet: Fleet) -> None:
    # Given a fleet of two instances on version 1
    before = dt.datetime.now(dt.UTC)

    # When a refresh to version 2 starts with auto rollback on an alarm
    refresh_id = start_refresh(autoscaling, fleet, auto_rollback=True, alarms=["Web 5xx"], bake_time=300)

    # Then it is Pending, at 0 %, with every instance to update, and echoes its inputs
    refresh = latest(autoscaling)
    assert refresh["InstanceRefreshId"] == refresh_id
    assert refresh["AutoScalingGroupName"] == GROUP
    assert refresh["Status"] == "Pending"
    assert refresh["PercentageComplete"] == 0
    assert refresh["InstancesToUpdate"] == 2
    assert refresh["ProgressDetails"] == {"LivePoolProgress": {"PercentageComplete": 0, "InstancesToUpdate": 2}}
    assert refresh["StartTime"] >= before.replace(microsecond=0)
    assert refresh["Preferences"] == {
        "MinHealthyPercentage": 90,
        "InstanceWarmup": 60,
        "AutoRollback": True,
        "AlarmSpecification": {"Alarms": ["Web 5xx"]},
        "BakeTime": 300,
    }
    assert refresh["DesiredConfiguration"] == fleet.desired_configuration()
    assert refresh["Strategy"] == "Rolling"
    assert not {"EndTime", "StatusReason", "RollbackDetails"} & refresh.keys()


def test_start_leaves_the_group_on_its_launch_template(autoscaling: Any, fleet: Fleet) -> None:
    # Given a fleet on version 1
    # When a refresh to version 2 starts
    start_refresh(autoscaling, fleet)

    # Then the group still says version 1, as on AWS: only a refresh that succeeds updates the group
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version
    assert latest(autoscaling)["DesiredConfiguration"] == fleet.desired_configuration(fleet.bad_version)


def test_start_without_desired_configuration_keeps_the_group_template(autoscaling: Any, fleet: Fleet) -> None:
    # Given a fleet on version 1
    # When a refresh starts without a desired configuration (replace instances as they are)
    start_refresh(autoscaling, fleet, with_desired_configuration=False)

    # Then the group keeps version 1 and the refresh has no DesiredConfiguration
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version
    assert "DesiredConfiguration" not in latest(autoscaling)


@pytest.mark.parametrize("status", sorted(refresh_api.ACTIVE_STATUSES))
def test_start_is_refused_while_a_refresh_is_active(autoscaling: Any, fleet: Fleet, status: str) -> None:
    # Given a refresh that is still active
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, status)

    # When another refresh starts
    with pytest.raises(autoscaling.exceptions.InstanceRefreshInProgressFault) as raised:
        start_refresh(autoscaling, fleet)

    # Then AWS's InstanceRefreshInProgress (400) comes back
    assert error_of(raised) == ("InstanceRefreshInProgress", 400)


@pytest.mark.parametrize("status", sorted(refresh_api.TERMINAL_STATUSES))
def test_start_is_accepted_once_the_previous_refresh_ended(autoscaling: Any, fleet: Fleet, status: str) -> None:
    # Given a refresh that ended
    first = start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, status)

    # When another refresh starts
    second = start_refresh(autoscaling, fleet)

    # Then it is a new refresh
    assert second != first
    assert latest(autoscaling)["Status"] == "Pending"


def test_start_on_an_unknown_group_is_a_validation_error(autoscaling: Any) -> None:
    # Given no group at all
    # When a refresh starts on a group that does not exist
    with pytest.raises(ClientError) as raised:
        autoscaling.start_instance_refresh(AutoScalingGroupName="nope")

    # Then it is refused as moto refuses unknown groups elsewhere
    assert error_of(raised) == ("ValidationError", 400)


def test_auto_rollback_needs_a_desired_configuration(autoscaling: Any, fleet: Fleet) -> None:
    # Given a fleet
    # When a refresh asks for auto rollback without a desired configuration
    with pytest.raises(ClientError) as raised:
        start_refresh(autoscaling, fleet, auto_rollback=True, with_desired_configuration=False)

    # Then it is a ValidationError and no refresh exists
    assert error_of(raised) == ("ValidationError", 400)
    assert autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"] == []


def test_start_refuses_a_launch_template_version_that_does_not_exist(autoscaling: Any, fleet: Fleet) -> None:
    # Given a template with two versions
    # When a refresh asks for version 9
    with pytest.raises(ClientError) as raised:
        start_refresh(autoscaling, fleet, version="9")

    # Then it is a ValidationError and the group is untouched
    assert error_of(raised) == ("ValidationError", 400)
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version


def test_start_accepts_a_mixed_instances_policy(autoscaling: Any, fleet: Fleet) -> None:
    # Given a desired configuration that is a mixed instances policy
    policy = {
        "LaunchTemplate": {
            "LaunchTemplateSpecification": {"LaunchTemplateId": fleet.launch_template_id, "Version": "2"},
            "Overrides": [{"InstanceType": "t3.micro"}, {"InstanceType": "t3a.micro"}],
        },
        "InstancesDistribution": {"OnDemandPercentageAboveBaseCapacity": 50},
    }

    # When a refresh starts with it
    autoscaling.start_instance_refresh(
        AutoScalingGroupName=GROUP, DesiredConfiguration={"MixedInstancesPolicy": policy}
    )

    # Then it is echoed back
    assert latest(autoscaling)["DesiredConfiguration"] == {"MixedInstancesPolicy": policy}


# --------------------------------------------------------------------------- the group's configuration
# AWS updates the group's settings to the desired configuration "once the instance refresh succeeds"
# (StartInstanceRefresh.DesiredConfiguration); a rollback "restores your Auto Scaling group to the
# configuration that it was using before the start of the instance refresh" (RollbackInstanceRefresh).


@pytest.mark.parametrize("status", ["Pending", "InProgress", "Baking", "Cancelling"])
def test_the_group_keeps_its_launch_template_while_a_refresh_runs(autoscaling: Any, fleet: Fleet, status: str) -> None:
    # Given a fleet on version 1 and a refresh to version 2
    start_refresh(autoscaling, fleet)

    # When the refresh is under way (or baking, or being cancelled)
    refresh_api.advance(GROUP, status, percentage=100 if status == "Baking" else 50)

    # Then DescribeAutoScalingGroups still shows version 1
    assert latest(autoscaling)["Status"] == status
    assert group_launch_template(autoscaling) == {
        "LaunchTemplateId": fleet.launch_template_id,
        "LaunchTemplateName": fleet.launch_template_name,
        "Version": fleet.good_version,
    }


def test_a_successful_refresh_moves_the_group_to_the_desired_launch_template(autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh to version 2 that has replaced every instance and is baking
    start_refresh(autoscaling, fleet, bake_time=300)
    refresh_api.advance(GROUP, "Baking", percentage=100)

    # When it succeeds
    refresh_api.advance(GROUP, "Successful")

    # Then the group now launches version 2
    assert group_launch_template(autoscaling)["Version"] == fleet.bad_version


def test_a_successful_refresh_applies_a_desired_mixed_instances_policy(autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh whose desired configuration is a mixed instances policy on version 2
    spec = {"LaunchTemplateId": fleet.launch_template_id, "Version": fleet.bad_version}
    policy = {"LaunchTemplate": {"LaunchTemplateSpecification": spec, "Overrides": [{"InstanceType": "t3.micro"}]}}
    autoscaling.start_instance_refresh(
        AutoScalingGroupName=GROUP, DesiredConfiguration={"MixedInstancesPolicy": policy}
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    assert "MixedInstancesPolicy" not in group

    # When it succeeds
    refresh_api.advance(GROUP, "Successful")

    # Then the group uses the policy, on version 2
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    assert (
        group["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]["Version"] == fleet.bad_version
    )


@pytest.mark.parametrize("outcome", ["RollbackSuccessful", "RollbackFailed"])
def test_a_rolled_back_refresh_leaves_the_group_on_its_previous_launch_template(
    autoscaling: Any, fleet: Fleet, outcome: str
) -> None:
    # Given a refresh to version 2, halfway through
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "InProgress", percentage=50)

    # When it is rolled back, and the rollback ends
    autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
    during = group_launch_template(autoscaling)["Version"]
    refresh_api.advance(GROUP, outcome)

    # Then the group was on version 1 during the rollback and still is after it
    assert (during, group_launch_template(autoscaling)["Version"]) == (fleet.good_version, fleet.good_version)


def test_an_auto_rollback_after_a_failure_leaves_the_group_on_its_previous_launch_template(
    autoscaling: Any, fleet: Fleet
) -> None:
    # Given a refresh to version 2 with auto rollback, halfway through
    start_refresh(autoscaling, fleet, auto_rollback=True)
    refresh_api.advance(GROUP, "InProgress", percentage=50)

    # When AWS rolls it back by itself and the rollback succeeds
    refresh_api.advance(GROUP, "RollbackInProgress", rollback_reason="Instances failed health checks")
    refresh_api.advance(GROUP, "RollbackSuccessful")

    # Then the group is on version 1
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version


def test_a_cancelled_refresh_leaves_the_group_on_its_previous_launch_template(autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh to version 2, halfway through
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "InProgress", percentage=50)

    # When it is cancelled and the cancellation ends
    autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)
    refresh_api.advance(GROUP, "Cancelled")

    # Then the group is still on version 1 (a cancel keeps the instances already replaced, not the settings)
    assert latest(autoscaling)["Status"] == "Cancelled"
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version


def test_a_failed_refresh_leaves_the_group_on_its_previous_launch_template(autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh to version 2, halfway through
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "InProgress", percentage=50)

    # When it fails
    refresh_api.advance(GROUP, "Failed", status_reason="Instances failed to launch")

    # Then the group is still on version 1
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version


def test_a_rollback_returns_to_the_version_the_last_successful_refresh_installed(
    autoscaling: Any, fleet: Fleet
) -> None:
    # Given a successful refresh to version 2, then a refresh back to version 1, halfway through
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "Successful")
    start_refresh(autoscaling, fleet, version=fleet.good_version)
    refresh_api.advance(GROUP, "InProgress", percentage=50)

    # When the second refresh is rolled back
    autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
    refresh_api.advance(GROUP, "RollbackSuccessful")

    # Then the group is on version 2, the configuration it had when the second refresh started
    assert group_launch_template(autoscaling)["Version"] == fleet.bad_version


# --------------------------------------------------------------------------- DescribeInstanceRefreshes


def finished_refreshes(autoscaling: Any, fleet: Fleet, count: int) -> list[str]:
    """``count`` refreshes one after the other, oldest first."""
    ids = []
    for _ in range(count):
        ids.append(start_refresh(autoscaling, fleet))
        refresh_api.advance(GROUP, "Successful")
    return ids


def test_describe_lists_newest_first(autoscaling: Any, fleet: Fleet) -> None:
    # Given three refreshes started one after the other
    ids = finished_refreshes(autoscaling, fleet, 3)

    # When they are described
    refreshes = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"]

    # Then the newest comes first
    assert [refresh["InstanceRefreshId"] for refresh in refreshes] == ids[::-1]


def test_describe_filters_by_refresh_ids(autoscaling: Any, fleet: Fleet) -> None:
    # Given three refreshes
    ids = finished_refreshes(autoscaling, fleet, 3)

    # When two of them are asked for
    refreshes = autoscaling.describe_instance_refreshes(
        AutoScalingGroupName=GROUP, InstanceRefreshIds=[ids[0], ids[2]]
    )["InstanceRefreshes"]

    # Then only those come back, newest first
    assert [refresh["InstanceRefreshId"] for refresh in refreshes] == [ids[2], ids[0]]


def test_describe_paginates_with_max_records_and_next_token(autoscaling: Any, fleet: Fleet) -> None:
    # Given five refreshes
    ids = finished_refreshes(autoscaling, fleet, 5)

    # When they are read two at a time, following NextToken (botocore has no paginator for it)
    pages: list[list[str]] = []
    arguments: dict[str, Any] = {"AutoScalingGroupName": GROUP, "MaxRecords": 2}
    while True:
        page = autoscaling.describe_instance_refreshes(**arguments)
        pages.append([refresh["InstanceRefreshId"] for refresh in page["InstanceRefreshes"]])
        if "NextToken" not in page:
            break
        arguments["NextToken"] = page["NextToken"]

    # Then pages follow each other, newest first, and the last has no NextToken
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]


def test_describe_defaults_to_fifty_records(autoscaling: Any, fleet: Fleet) -> None:
    # Given 51 refreshes
    finished_refreshes(autoscaling, fleet, 51)

    # When they are described without MaxRecords
    response = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)

    # Then 50 come back with a token for the rest
    assert len(response["InstanceRefreshes"]) == 50
    assert "NextToken" in response


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"MaxRecords": 101}, "ValidationError"),
        ({"NextToken": "not-a-token"}, "InvalidNextToken"),
    ],
)
def test_describe_refuses_bad_paging(autoscaling: Any, fleet: Fleet, arguments: dict[str, Any], code: str) -> None:
    # Given a refresh
    start_refresh(autoscaling, fleet)

    # When the paging arguments are out of range
    with pytest.raises(ClientError) as raised:
        autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP, **arguments)

    # Then the API refuses them
    assert error_of(raised) == (code, 400)


def test_describe_of_an_unknown_group_is_refused_as_aws_refuses_it(autoscaling: Any) -> None:
    # Given no group
    # When refreshes of an unknown group are described
    with pytest.raises(ClientError) as raised:
        autoscaling.describe_instance_refreshes(AutoScalingGroupName="nope")

    # Then AWS's answer for a group that does not exist comes back: a ValidationError (400), not an empty list
    assert error_of(raised) == ("ValidationError", 400)
    assert "AutoScalingGroup name not found" in str(raised.value)


# --------------------------------------------------------------------------- CancelInstanceRefresh


@pytest.mark.parametrize("status", sorted(refresh_api.CANCELLABLE_STATUSES))
def test_cancel_moves_an_active_refresh_to_cancelling(autoscaling: Any, fleet: Fleet, status: str) -> None:
    # Given an active refresh (or rollback)
    refresh_id = start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, status)

    # When it is cancelled
    response = autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)

    # Then it is Cancelling until AWS finishes, then Cancelled with an EndTime
    assert response["InstanceRefreshId"] == refresh_id
    cancelling = latest(autoscaling)
    assert (cancelling["Status"], "EndTime" in cancelling) == ("Cancelling", False)
    assert cancelling["StatusReason"]
    refresh_api.advance(GROUP, "Cancelled")
    cancelled = latest(autoscaling)
    assert (cancelled["Status"], "EndTime" in cancelled) == ("Cancelled", True)


@pytest.mark.parametrize("status", [None, "Cancelling", *sorted(refresh_api.TERMINAL_STATUSES)])
def test_cancel_without_an_active_refresh_is_not_found(autoscaling: Any, fleet: Fleet, status: str | None) -> None:
    # Given no refresh, or one that is cancelling already or over
    if status is not None:
        start_refresh(autoscaling, fleet)
        refresh_api.advance(GROUP, status)

    # When it is cancelled
    with pytest.raises(autoscaling.exceptions.ActiveInstanceRefreshNotFoundFault) as raised:
        autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)

    # Then AWS's ActiveInstanceRefreshNotFound (400) comes back
    assert error_of(raised) == ("ActiveInstanceRefreshNotFound", 400)


# --------------------------------------------------------------------------- RollbackInstanceRefresh


@pytest.mark.parametrize("status", sorted(refresh_api.ROLLBACKABLE_STATUSES))
def test_rollback_reverses_a_refresh_in_flight(autoscaling: Any, fleet: Fleet, status: str) -> None:
    # Given a refresh to version 2 that replaced half of the two instances
    refresh_id = start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, status, percentage=50)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)

    # When it is rolled back
    response = autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)

    # Then the same refresh is rolling back the one replaced instance, to version 1
    assert response["InstanceRefreshId"] == refresh_id
    refresh = latest(autoscaling)
    assert refresh["Status"] == "RollbackInProgress"
    assert refresh["StatusReason"]
    details = refresh["RollbackDetails"]
    assert details["RollbackReason"] == refresh_api.API_ROLLBACK_REASON
    assert details["RollbackStartTime"] >= before
    assert details["PercentageCompleteOnRollback"] == 0
    assert details["InstancesToUpdateOnRollback"] == 1
    assert details["ProgressDetailsOnRollback"] == {
        "LivePoolProgress": {"PercentageComplete": 0, "InstancesToUpdate": 1}
    }
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version


def test_rollback_completes_when_advanced(autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh being rolled back
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "InProgress", percentage=100)
    autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)

    # When AWS finishes the rollback
    refresh_api.advance(GROUP, "RollbackSuccessful")

    # Then it is RollbackSuccessful with an EndTime and the rollback at 100 %
    refresh = latest(autoscaling)
    assert refresh["Status"] == "RollbackSuccessful"
    assert refresh["EndTime"] >= refresh["StartTime"]
    assert refresh["RollbackDetails"]["PercentageCompleteOnRollback"] == 100
    assert refresh["RollbackDetails"]["InstancesToUpdateOnRollback"] == 0


@pytest.mark.parametrize("status", [None, "Cancelling", "RollbackInProgress", *sorted(refresh_api.TERMINAL_STATUSES)])
def test_rollback_without_a_refresh_in_flight_is_not_found(autoscaling: Any, fleet: Fleet, status: str | None) -> None:
    # Given no refresh, or one that is no longer going forward
    if status is not None:
        start_refresh(autoscaling, fleet)
        refresh_api.advance(GROUP, status)

    # When it is rolled back
    with pytest.raises(autoscaling.exceptions.ActiveInstanceRefreshNotFoundFault) as raised:
        autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)

    # Then AWS's ActiveInstanceRefreshNotFound (400) comes back
    assert error_of(raised) == ("ActiveInstanceRefreshNotFound", 400)


@pytest.mark.parametrize(
    ("fleet_options", "refresh_options"),
    [
        pytest.param({}, {"with_desired_configuration": False}, id="no-desired-configuration"),
        pytest.param({"version": "$Latest"}, {}, id="group-on-latest"),
        pytest.param({"version": "$Default"}, {}, id="group-on-default"),
        pytest.param({"version": None}, {}, id="group-version-omitted"),
        pytest.param({}, {"version": "$Latest"}, id="desired-latest"),
        pytest.param({"new_image_id": SSM_IMAGE_ID}, {}, id="desired-image-from-ssm"),
        pytest.param({"image_id": SSM_IMAGE_ID}, {}, id="previous-image-from-ssm"),
    ],
)
def test_rollback_of_an_irreversible_refresh_is_refused(
    ec2: Any, autoscaling: Any, fleet_options: dict[str, Any], refresh_options: dict[str, Any]
) -> None:
    # Given a refresh that AWS documents as impossible to roll back
    fleet = make_fleet(ec2, autoscaling, "odd-asg", **fleet_options)
    start_refresh(autoscaling, fleet, **refresh_options)

    # When it is rolled back
    with pytest.raises(autoscaling.exceptions.IrreversibleInstanceRefreshFault) as raised:
        autoscaling.rollback_instance_refresh(AutoScalingGroupName="odd-asg")

    # Then AWS's IrreversibleInstanceRefresh (400) comes back and the refresh goes on
    assert error_of(raised) == ("IrreversibleInstanceRefresh", 400)
    assert latest(autoscaling, "odd-asg")["Status"] == "Pending"


def test_rollback_on_an_unknown_group_is_a_validation_error(autoscaling: Any) -> None:
    # Given no group
    # When a rollback is asked for an unknown group
    with pytest.raises(ClientError) as raised:
        autoscaling.rollback_instance_refresh(AutoScalingGroupName="nope")

    # Then it is a ValidationError
    assert error_of(raised) == ("ValidationError", 400)


# --------------------------------------------------------------------------- advance()


def test_advance_sets_progress_and_end_time(autoscaling: Any, fleet: Fleet) -> None:
    # Given a pending refresh
    start_refresh(autoscaling, fleet)
    started = latest(autoscaling)["StartTime"]

    # When AWS makes progress, then bakes, then succeeds
    refresh_api.advance(GROUP, "InProgress", percentage=50)
    in_progress = latest(autoscaling)
    refresh_api.advance(GROUP, "Baking", percentage=100)
    baking = latest(autoscaling)
    refresh_api.advance(GROUP, "Successful")
    successful = latest(autoscaling)

    # Then progress and instances to update follow, StartTime stays, only the end has an EndTime
    assert (in_progress["PercentageComplete"], in_progress["InstancesToUpdate"]) == (50, 1)
    assert (baking["PercentageComplete"], baking["InstancesToUpdate"]) == (100, 0)
    assert "EndTime" not in in_progress
    assert "EndTime" not in baking
    assert successful["Status"] == "Successful"
    assert successful["PercentageComplete"] == 100
    assert successful["StartTime"] == started
    assert successful["EndTime"] >= started


def test_advance_to_a_rollback_status_is_an_auto_rollback(autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh with auto rollback on an alarm, halfway through
    start_refresh(autoscaling, fleet, auto_rollback=True, alarms=["Web 5xx"])
    refresh_api.advance(GROUP, "InProgress", percentage=50)

    # When AWS rolls it back by itself because the alarm fired
    refresh_api.advance(GROUP, "RollbackInProgress", rollback_reason="Alarm Web 5xx went into ALARM")

    # Then the refresh carries rollback details and the group is back on version 1
    refresh = latest(autoscaling)
    assert refresh["Status"] == "RollbackInProgress"
    assert refresh["RollbackDetails"]["RollbackReason"] == "Alarm Web 5xx went into ALARM"
    assert refresh["RollbackDetails"]["InstancesToUpdateOnRollback"] == 1
    assert group_launch_template(autoscaling)["Version"] == fleet.good_version


def test_advance_refuses_unknown_statuses_and_groups_without_refreshes(autoscaling: Any, fleet: Fleet) -> None:
    # Given a fleet without refreshes
    # When advance is misused
    # Then it says so
    with pytest.raises(LookupError):
        refresh_api.advance(GROUP, "InProgress")
    start_refresh(autoscaling, fleet)
    with pytest.raises(ValueError, match="Done"):
        refresh_api.advance(GROUP, "Done")


# --------------------------------------------------------------------------- time


def test_times_are_whole_seconds_as_aws_returns_them(autoscaling: Any, fleet: Fleet) -> None:
    # Given a clock reading with microseconds, as the wall clock nearly always has
    refresh_api.set_clock(dt.datetime(2026, 3, 1, 10, 0, 0, 987654, tzinfo=dt.UTC))

    # When a refresh starts, is rolled back through the API and the rollback ends
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "InProgress", percentage=50)
    autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
    refresh_api.advance(GROUP, "RollbackSuccessful")

    # Then every time in the answer is cut to the second (not rounded), like AWS's 2023-06-13T16:46:52+00:00
    refresh = latest(autoscaling)
    expected = dt.datetime(2026, 3, 1, 10, 0, 0, tzinfo=dt.UTC)
    assert refresh["StartTime"] == refresh["EndTime"] == refresh["RollbackDetails"]["RollbackStartTime"] == expected


def test_wall_clock_times_have_no_fraction_of_a_second(autoscaling: Any, fleet: Fleet) -> None:
    # Given no clock set by the test
    # When a refresh starts and is cancelled
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "Cancelled")

    # Then StartTime and EndTime carry no microseconds
    refresh = latest(autoscaling)
    assert refresh["StartTime"].microsecond == refresh["EndTime"].microsecond == 0


def test_start_refresh_at_an_explicit_time(autoscaling: Any, fleet: Fleet) -> None:
    # Given a moment ten minutes ago, with milliseconds like an alarm event's timestamp
    at = dt.datetime.now(dt.UTC).replace(microsecond=250_000) - dt.timedelta(minutes=10)

    # When the refresh is started at that moment
    refresh_id = start_refresh(autoscaling, fleet, at=at)

    # Then DescribeInstanceRefreshes shows that StartTime, to the second, and nothing else changed
    refresh = latest(autoscaling)
    assert refresh["InstanceRefreshId"] == refresh_id
    assert refresh["StartTime"] == at.replace(microsecond=0)
    assert refresh["Status"] == "Pending"


def test_advance_at_an_explicit_time_stamps_the_end_and_the_auto_rollback(autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh started at 10:00:00
    started = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    start_refresh(autoscaling, fleet, auto_rollback=True, alarms=["Web 5xx"], at=started)

    # When AWS rolls it back by itself at 10:05:30.5 and the rollback ends at 10:20
    refresh_api.advance(GROUP, "RollbackInProgress", at=started + dt.timedelta(minutes=5, seconds=30.5))
    refresh_api.advance(GROUP, "RollbackSuccessful", at=started + dt.timedelta(minutes=20))

    # Then those are the rollback's start and the refresh's end, to the second
    refresh = latest(autoscaling)
    assert refresh["RollbackDetails"]["RollbackStartTime"] == started + dt.timedelta(minutes=5, seconds=30)
    assert refresh["EndTime"] == started + dt.timedelta(minutes=20)


def test_set_clock_stamps_every_refresh_until_it_is_cleared(autoscaling: Any, fleet: Fleet) -> None:
    # Given the emulation's clock set to noon
    noon = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    refresh_api.set_clock(noon)

    # When two refreshes start, one after the other, then the clock is given back to the wall
    start_refresh(autoscaling, fleet)
    refresh_api.advance(GROUP, "Successful")
    start_refresh(autoscaling, fleet, version=fleet.good_version)
    refresh_api.set_clock(None)
    refresh_api.advance(GROUP, "Successful")

    # Then both started at noon, and the second ended at the wall clock's time
    newest, oldest = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"]
    assert oldest["StartTime"] == oldest["EndTime"] == newest["StartTime"] == noon
    assert newest["EndTime"] > noon


@pytest.mark.parametrize(
    "misuse",
    [
        lambda: refresh_api.set_clock(dt.datetime(2026, 3, 1, 12, 0)),  # no time zone
        lambda: refresh_api.advance(GROUP, "Successful", at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)),  # before start
        lambda: refresh_api.set_start_time(GROUP, dt.datetime(2026, 3, 1, 12, 0)),  # no time zone
    ],
    ids=["naive clock", "end before start", "naive start"],
)
def test_times_that_cannot_be_are_refused(autoscaling: Any, fleet: Fleet, misuse: Any) -> None:
    # Given a refresh started now
    start_refresh(autoscaling, fleet)

    # When a test sets a time without a zone, or an end before the start
    # Then the control API refuses it rather than serve a history AWS could not produce
    with pytest.raises(ValueError):
        misuse()


def test_moto_reset_gives_the_clock_back_to_the_wall(aws: AwsEmulator, autoscaling: Any, fleet: Fleet) -> None:
    # Given a clock set in 2001
    refresh_api.set_clock(dt.datetime(2001, 1, 1, tzinfo=dt.UTC))

    # When moto is reset and a refresh starts on a new fleet
    aws.reset()
    again = make_fleet(boto3.client("ec2", config=NO_RETRIES), autoscaling, GROUP)
    start_refresh(autoscaling, again)

    # Then it carries this year's date
    assert latest(autoscaling)["StartTime"].year == dt.datetime.now(dt.UTC).year


# --------------------------------------------------------------------------- faults, calls, reset


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("RollbackInstanceRefresh", ("ResourceContention", 500, "ResourceContentionFault")),
        ("RollbackInstanceRefresh", ("LimitExceeded", 400, "LimitExceededFault")),
        ("RollbackInstanceRefresh", ("ActiveInstanceRefreshNotFound", 400, "ActiveInstanceRefreshNotFoundFault")),
        ("RollbackInstanceRefresh", ("IrreversibleInstanceRefresh", 400, "IrreversibleInstanceRefreshFault")),
        ("CancelInstanceRefresh", ("LimitExceeded", 400, "LimitExceededFault")),
        ("StartInstanceRefresh", ("InstanceRefreshInProgress", 400, "InstanceRefreshInProgressFault")),
        ("DescribeInstanceRefreshes", ("ResourceContention", 500, "ResourceContentionFault")),
    ],
)
def test_injected_faults_reach_boto3_as_modelled_errors(
    autoscaling: Any, fleet: Fleet, action: str, expected: tuple[str, int, str]
) -> None:
    # Given an active refresh and a fault waiting for the action
    code, status, fault_class = expected
    start_refresh(autoscaling, fleet)
    refresh_api.inject_fault(action, code)
    call = {
        "StartInstanceRefresh": lambda: start_refresh(autoscaling, fleet),
        "DescribeInstanceRefreshes": lambda: latest(autoscaling),
        "CancelInstanceRefresh": lambda: autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP),
        "RollbackInstanceRefresh": lambda: autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP),
    }[action]

    # When the action is called over HTTP
    with pytest.raises(getattr(autoscaling.exceptions, fault_class)) as raised:
        call()

    # Then boto3 raises the modelled fault with AWS's code and HTTP status, and the refresh is untouched
    assert error_of(raised) == (code, status)
    assert refresh_api.refreshes(GROUP)[0]["Status"] == "Pending"


def test_injected_throttling_is_a_sender_error(autoscaling: Any, fleet: Fleet) -> None:
    # Given an active refresh and a throttling fault
    start_refresh(autoscaling, fleet)
    refresh_api.inject_fault("RollbackInstanceRefresh", "Throttling", message="Rate exceeded")

    # When the rollback is called
    with pytest.raises(ClientError) as raised:
        autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)

    # Then it is AWS's Throttling error: 400, Sender, with the message
    error = raised.value.response["Error"]
    assert error_of(raised) == ("Throttling", 400)
    assert (error["Type"], error["Message"]) == ("Sender", "Rate exceeded")


def test_a_fault_applies_as_many_times_as_asked(autoscaling: Any, fleet: Fleet) -> None:
    # Given a fault for the next two rollbacks
    start_refresh(autoscaling, fleet)
    refresh_api.inject_fault("RollbackInstanceRefresh", "LimitExceeded", times=2)

    # When the rollback is called three times
    outcomes = []
    for _ in range(3):
        try:
            autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    # Then the first two fail and the third rolls back
    assert outcomes == ["LimitExceeded", "LimitExceeded", "ok"]
    assert [call.error_code for call in refresh_api.calls("RollbackInstanceRefresh")] == [
        "LimitExceeded",
        "LimitExceeded",
        None,
    ]


def test_boto3_retries_resource_contention_and_every_attempt_is_recorded(aws: AwsEmulator, fleet: Fleet) -> None:
    # Given a client with boto3's default retries and one ResourceContention (HTTP 500) waiting
    autoscaling = boto3.client("autoscaling")
    start_refresh(autoscaling, fleet)
    refresh_api.inject_fault("RollbackInstanceRefresh", "ResourceContention")

    # When the rollback is called once
    autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)

    # Then two calls reached the server: the failed one and the retry that rolled back
    rollbacks = refresh_api.calls("RollbackInstanceRefresh")
    assert [call.error_code for call in rollbacks] == ["ResourceContention", None]
    assert latest(autoscaling)["Status"] == "RollbackInProgress"


def test_calls_record_every_action_with_its_outcome(autoscaling: Any, fleet: Fleet) -> None:
    # Given a fleet and an empty call log
    refresh_api.clear_calls()
    before = dt.datetime.now(dt.UTC)

    # When a refresh is started, described, rolled back twice and cancelled on an unknown group
    refresh_id = start_refresh(autoscaling, fleet)
    latest(autoscaling)
    autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
    with pytest.raises(ClientError):
        autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
    with pytest.raises(ClientError):
        autoscaling.cancel_instance_refresh(AutoScalingGroupName="nope")

    # Then each call is recorded in order with group, outcome, refresh id and time
    recorded = [(c.action, c.group_name, c.error_code, c.refresh_id) for c in refresh_api.calls()]
    assert recorded == [
        ("StartInstanceRefresh", GROUP, None, refresh_id),
        ("DescribeInstanceRefreshes", GROUP, None, None),
        ("RollbackInstanceRefresh", GROUP, None, refresh_id),
        ("RollbackInstanceRefresh", GROUP, "ActiveInstanceRefreshNotFound", None),
        ("CancelInstanceRefresh", "nope", "ValidationError", None),
    ]
    assert all(call.at >= before and call.region == "us-east-1" for call in refresh_api.calls())
    assert [call.ok for call in refresh_api.calls(group_name=GROUP)] == [True, True, True, False]
    refresh_api.clear_calls()
    assert refresh_api.calls() == []


def test_moto_reset_forgets_refreshes_calls_and_faults(aws: AwsEmulator, autoscaling: Any, fleet: Fleet) -> None:
    # Given a refresh, recorded calls and a pending fault
    start_refresh(autoscaling, fleet)
    refresh_api.inject_fault("DescribeInstanceRefreshes", "ResourceContention")

    # When moto is reset over HTTP
    aws.reset()

    # Then nothing is left: no refresh, no call, no fault (the group is gone too, so AWS's "not found")
    assert refresh_api.calls() == []
    assert refresh_api.refreshes(GROUP) == []
    with pytest.raises(ClientError) as raised:
        autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)
    assert error_of(raised) == ("ValidationError", 400)


def test_refreshes_are_kept_per_region(aws: AwsEmulator, fleet: Fleet) -> None:
    # Given a refresh in us-east-1
    start_refresh(boto3.client("autoscaling", config=NO_RETRIES), fleet)

    # When the same group name is asked in another region
    west = boto3.client("autoscaling", region_name="us-west-2", config=NO_RETRIES)

    # Then that region knows neither the group nor its refresh
    with pytest.raises(ClientError) as raised:
        west.describe_instance_refreshes(AutoScalingGroupName=GROUP)
    assert error_of(raised) == ("ValidationError", 400)
    assert refresh_api.refreshes(GROUP, region="us-west-2") == []


def test_the_actions_are_served_over_plain_http(aws: AwsEmulator, fleet: Fleet, autoscaling: Any) -> None:
    # Given a refresh
    refresh_id = start_refresh(autoscaling, fleet)

    # When DescribeInstanceRefreshes is posted as a raw, SigV4-signed query-protocol request
    body = {"Action": "DescribeInstanceRefreshes", "Version": "2011-01-01", "AutoScalingGroupName": GROUP}
    request = AWSRequest(method="POST", url=aws.endpoint_url, data=body)
    credentials = boto3.Session().get_credentials()
    SigV4Auth(credentials, "autoscaling", "us-east-1").add_auth(request)
    response = requests.post(aws.endpoint_url, data=body, headers=dict(request.headers), timeout=10)

    # Then the XML document carries the refresh
    assert response.status_code == 200
    assert "<DescribeInstanceRefreshesResult>" in response.text
    assert f"<InstanceRefreshId>{refresh_id}</InstanceRefreshId>" in response.text


# ----------------------------------------------------------------- conformance to the botocore model


def shape_violations(value: Any, shape: Shape, path: str = "$") -> Iterator[str]:
    """Every way ``value`` departs from the botocore ``shape`` (unknown keys, types, required)."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            yield f"{path}: expected a structure, got {type(value).__name__}"
            return
        for name in shape.required_members:
            if name not in value:
                yield f"{path}: required member {name} is missing"
        for key, item in value.items():
            if key == "ResponseMetadata" and path == "$":
                continue
            if key not in shape.members:
                yield f"{path}: {key} is not a member of {shape.name}"
            else:
                yield from shape_violations(item, shape.members[key], f"{path}.{key}")
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            yield f"{path}: expected a list, got {type(value).__name__}"
            return
        for index, item in enumerate(value):
            yield from shape_violations(item, shape.member, f"{path}[{index}]")
    else:
        yield from scalar_violations(value, shape, path)


SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (float, int),
    "float": (float, int),
    "timestamp": (dt.datetime,),
}


def scalar_violations(value: Any, shape: Shape, path: str) -> Iterator[str]:
    expected = SCALAR_TYPES[shape.type_name]
    if not isinstance(value, expected) or (shape.type_name == "integer" and isinstance(value, bool)):
        yield f"{path}: expected {shape.type_name}, got {type(value).__name__} {value!r}"
        return
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        yield f"{path}: {value!r} is not one of {enum}"
    limits = shape.metadata
    if shape.type_name == "integer" and not limits.get("min", value) <= value <= limits.get("max", value):
        yield f"{path}: {value} is outside [{limits.get('min')}, {limits.get('max')}]"


@pytest.fixture
def autoscaling_model() -> Any:
    return botocore.session.get_session().get_service_model("autoscaling")


def test_describe_paging_matches_the_botocore_model(autoscaling_model: Any) -> None:
    # Given the model of DescribeInstanceRefreshes in the installed botocore
    operation = autoscaling_model.operation_model("DescribeInstanceRefreshes")
    inputs, outputs = operation.input_shape, operation.output_shape

    # When its paging members are read
    max_records_doc = inputs.members["MaxRecords"].documentation

    # Then the emulation reads exactly those inputs, pages with the documented sizes, and answers with NextToken
    assert set(inputs.members) == {"AutoScalingGroupName", "InstanceRefreshIds", "NextToken", "MaxRecords"}
    assert inputs.required_members == ["AutoScalingGroupName"]
    assert f"default value is <code>{refresh_api.DEFAULT_MAX_RECORDS}</code>" in max_records_doc
    assert f"maximum value is <code>{refresh_api.MAX_MAX_RECORDS}</code>" in max_records_doc
    assert set(outputs.members) == {"InstanceRefreshes", "NextToken"}


def test_every_response_conforms_to_the_botocore_output_shapes(
    autoscaling: Any, ec2: Any, fleet: Fleet, autoscaling_model: Any
) -> None:
    # Given a history exercising every member: a successful refresh, a rolled-back one,
    # a cancelled one, and an active one with a mixed instances policy
    responses: dict[str, list[dict[str, Any]]] = {"StartInstanceRefresh": [], "RollbackInstanceRefresh": []}
    start_refresh(autoscaling, fleet, auto_rollback=True, alarms=["a"], bake_time=60)
    refresh_api.advance(GROUP, "Successful")
    start_refresh(autoscaling, fleet, version=fleet.good_version)
    refresh_api.advance(GROUP, "InProgress", percentage=50)
    responses["RollbackInstanceRefresh"].append(autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP))
    refresh_api.advance(GROUP, "RollbackFailed", percentage=40, status_reason="Instances failed health checks")
    start_refresh(autoscaling, fleet)
    cancelled = autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)
    refresh_api.advance(GROUP, "Cancelled")
    spec = {"LaunchTemplateId": fleet.launch_template_id, "Version": "1"}
    policy = {"LaunchTemplate": {"LaunchTemplateSpecification": spec, "Overrides": [{"InstanceType": "t3.micro"}]}}
    responses["StartInstanceRefresh"].append(
        autoscaling.start_instance_refresh(
            AutoScalingGroupName=GROUP,
            Strategy="Rolling",
            DesiredConfiguration={"MixedInstancesPolicy": policy},
            Preferences={"CheckpointPercentages": [50], "CheckpointDelay": 600, "SkipMatching": True},
        )
    )
    responses["CancelInstanceRefresh"] = [cancelled]
    responses["DescribeInstanceRefreshes"] = [
        autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP),
        autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP, MaxRecords=1),
    ]

    # When each response (as boto3 parsed it) and each refresh (as the emulation
    # hands it to moto's serialiser) is checked against the model
    refresh_shape = autoscaling_model.shape_for("InstanceRefresh")
    violations = [
        violation
        for action, results in responses.items()
        for result in results
        for violation in shape_violations(result, autoscaling_model.operation_model(action).output_shape)
    ]
    violations += [v for wire in refresh_api.refreshes(GROUP) for v in shape_violations(wire, refresh_shape)]

    # Then nothing departs from the model, and every InstanceRefresh member was exercised
    assert violations == []
    seen = {key for wire in refresh_api.refreshes(GROUP) for key in wire}
    assert seen == set(refresh_shape.members)


def test_a_group_name_longer_than_the_model_allows_is_refused(autoscaling: Any) -> None:
    # botocore checks no maximum before sending; Auto Scaling refuses a name over 255 characters
    with pytest.raises(ClientError) as refused:
        autoscaling.describe_instance_refreshes(AutoScalingGroupName="g" * 256)
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "autoScalingGroupName" in refused.value.response["Error"]["Message"]
