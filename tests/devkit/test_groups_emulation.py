"""The embedded DescribeAutoScalingGroups and GetResources are at least as strict as AWS (devkit/aws/groups_api.py)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.fleet import GOOD_IMAGE_ID, make_alarm, make_group, make_launch_template

GROUPS = 120


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


@pytest.fixture
def autoscaling(aws: AwsEmulator) -> Any:
    """120 groups: even ones tagged auto-rollback=enabled, every third one team=web, the rest untagged."""
    client = boto3.client("autoscaling")
    template = make_launch_template(boto3.client("ec2"), "lt", image_ids=[GOOD_IMAGE_ID])
    for index in range(GROUPS):
        tags = {"auto-rollback": "enabled"} if index % 2 == 0 else {}
        if index % 3 == 0:
            tags["team"] = "web"
        make_group(client, f"group-{index:03d}", launch_template_id=template.id, version="1", instances=0, tags=tags)
    return client


def _names(page: dict[str, Any]) -> list[str]:
    return [group["AutoScalingGroupName"] for group in page["AutoScalingGroups"]]


def test_groups_come_fifty_a_page_by_default_and_the_token_resumes_after_the_last(autoscaling: Any) -> None:
    # Given 120 groups
    # When they are described without MaxRecords, following NextToken
    first = autoscaling.describe_auto_scaling_groups()
    second = autoscaling.describe_auto_scaling_groups(NextToken=first["NextToken"])
    third = autoscaling.describe_auto_scaling_groups(NextToken=second["NextToken"])
    # Then pages of 50 (AWS's default) come back in name order, and the last has no token
    assert [len(_names(page)) for page in (first, second, third)] == [50, 50, 20]
    assert _names(first) + _names(second) + _names(third) == [f"group-{index:03d}" for index in range(GROUPS)]
    assert "NextToken" not in third


def test_more_than_a_hundred_records_a_page_is_refused(autoscaling: Any) -> None:
    # Given groups to describe
    # When a caller asks for 101 a page
    with pytest.raises(ClientError) as error:
        autoscaling.describe_auto_scaling_groups(MaxRecords=101)
    # Then AWS's ValidationError comes back (moto raised a bare 500)
    assert _error_code(error) == "ValidationError"
    assert len(_names(autoscaling.describe_auto_scaling_groups(MaxRecords=100))) == 100


def test_a_token_this_service_did_not_issue_is_refused(autoscaling: Any) -> None:
    # Given a token that is a group's name (what moto issued) rather than one this emulation issued
    # When it is sent
    with pytest.raises(ClientError) as error:
        autoscaling.describe_auto_scaling_groups(NextToken="group-001")
    # Then it is refused as AWS refuses it
    assert _error_code(error) == "InvalidNextToken"


def test_tag_filters_match_keys_or_exact_values_and_combine(autoscaling: Any) -> None:
    # Given groups tagged auto-rollback=enabled (even), team=web (every third)
    # When filtered on the tag key, on the key with a value, and on both tags
    by_key = autoscaling.describe_auto_scaling_groups(
        Filters=[{"Name": "tag-key", "Values": ["auto-rollback"]}], MaxRecords=100
    )
    wrong_case = autoscaling.describe_auto_scaling_groups(
        Filters=[{"Name": "tag:auto-rollback", "Values": ["Enabled"]}]
    )
    both = autoscaling.describe_auto_scaling_groups(
        Filters=[{"Name": "tag:auto-rollback", "Values": ["enabled"]}, {"Name": "tag-value", "Values": ["web"]}]
    )
    # Then the key matches the 60 even groups (100 a page: all in one), values are case-sensitive,
    # and two filters keep the groups matching both
    assert len(_names(by_key)) == 60 and "NextToken" not in by_key
    assert _names(wrong_case) == []
    assert _names(both) == [f"group-{index:03d}" for index in range(0, GROUPS, 6)]


def test_an_unknown_filter_name_is_refused_rather_than_ignored(autoscaling: Any) -> None:
    # Given groups to describe
    # When a caller filters on DescribeTags' "key" instead of "tag-key"
    with pytest.raises(ClientError) as error:
        autoscaling.describe_auto_scaling_groups(Filters=[{"Name": "key", "Values": ["auto-rollback"]}])
    # Then the request is refused rather than answered with every group
    assert _error_code(error) == "ValidationError"


def test_get_resources_refuses_more_than_twenty_values_for_one_key(aws: AwsEmulator) -> None:
    # Given a tagged alarm
    cloudwatch = boto3.client("cloudwatch")
    make_alarm(cloudwatch, "web-prod 5xx", group="web-prod", state=None)
    tagging = boto3.client("resourcegroupstaggingapi")
    # When GetResources is asked for 20 values of the group tag, then 21
    twenty = tagging.get_resources(
        TagFilters=[{"Key": "auto-rollback:group", "Values": ["web-prod", *(f"g{index}" for index in range(19))]}],
        ResourceTypeFilters=["cloudwatch:alarm"],
    )
    with pytest.raises(ClientError) as error:
        tagging.get_resources(
            TagFilters=[{"Key": "auto-rollback:group", "Values": [f"g{index}" for index in range(21)]}],
            ResourceTypeFilters=["cloudwatch:alarm"],
        )
    # Then 20 are answered and 21 refused, as the model's limit says
    assert len(twenty["ResourceTagMappingList"]) == 1
    assert _error_code(error) == "InvalidParameterException"
