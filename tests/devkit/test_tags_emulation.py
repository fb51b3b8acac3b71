"""Auto Scaling DescribeTags in the emulator pages and filters the way AWS documents it.

Each test would pass on AWS and fail on plain moto 5.2.5, which answers every tag in
one page, ignores MaxRecords and NextToken, ignores unknown filter names and never
matches ``propagate-at-launch`` = ``true``.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.fleet import GOOD_IMAGE_ID, make_alarm, make_group, make_launch_template

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
TAGS_PER_GROUP = 40
GROUPS = ("api-prod", "batch-prod", "web-prod")


@pytest.fixture
def autoscaling(aws: AwsEmulator) -> Any:
    return boto3.client("autoscaling", config=NO_RETRIES)


@pytest.fixture
def groups(autoscaling: Any) -> tuple[str, ...]:
    """Three groups of 40 tags each (120 tags), more than two default pages."""
    template = make_launch_template(boto3.client("ec2"), "tags-lt", image_ids=[GOOD_IMAGE_ID])
    for name in GROUPS:
        make_group(autoscaling, name, launch_template_id=template.id, version="1", instances=0)
        autoscaling.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                    "Key": f"key-{index:02d}",
                    "Value": f"value-{index % 2}",
                    "PropagateAtLaunch": index % 4 == 0,
                }
                for index in range(TAGS_PER_GROUP)
            ]
        )
    return GROUPS


def _ids(tags: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(tag["ResourceId"], tag["Key"]) for tag in tags]


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_describe_tags_answers_fifty_tags_by_default_and_the_rest_behind_next_token(
    autoscaling: Any, groups: tuple[str, ...]
) -> None:
    # Given 120 tags
    # When they are read page by page without MaxRecords
    first = autoscaling.describe_tags()
    second = autoscaling.describe_tags(NextToken=first["NextToken"])
    third = autoscaling.describe_tags(NextToken=second["NextToken"])
    # Then the pages hold 50, 50 and 20 tags, and only the last has no NextToken
    assert [len(page["Tags"]) for page in (first, second, third)] == [50, 50, 20]
    assert "NextToken" not in third
    # And together they hold every tag exactly once, in group then key order
    seen = _ids(first["Tags"] + second["Tags"] + third["Tags"])
    expected = [(group, f"key-{index:02d}") for group in groups for index in range(TAGS_PER_GROUP)]
    assert seen == expected


def test_describe_tags_answers_at_most_one_hundred_tags_per_page(autoscaling: Any, groups: tuple[str, ...]) -> None:
    # Given 120 tags
    # When a caller asks for the largest page AWS allows
    page = autoscaling.describe_tags(MaxRecords=100)
    # Then it gets 100 tags and a token for the rest
    assert len(page["Tags"]) == 100
    assert page["NextToken"]


def test_describe_tags_refuses_a_page_larger_than_one_hundred(autoscaling: Any, groups: tuple[str, ...]) -> None:
    # Given tags to describe
    # When a caller asks for 101 per page
    with pytest.raises(ClientError) as error:
        autoscaling.describe_tags(MaxRecords=101)
    # Then AWS's validation error comes back
    assert _error_code(error) == "ValidationError"
    assert "less than or equal to 100" in error.value.response["Error"]["Message"]


def test_describe_tags_refuses_a_next_token_it_did_not_issue(autoscaling: Any, groups: tuple[str, ...]) -> None:
    # Given tags to describe
    # When a caller sends a token that no response carried
    with pytest.raises(ClientError) as error:
        autoscaling.describe_tags(NextToken="not-a-token")
    # Then the model's InvalidNextToken error comes back
    assert _error_code(error) == "InvalidNextToken"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_describe_tags_paginator_collects_every_matching_tag(autoscaling: Any, groups: tuple[str, ...]) -> None:
    # Given 120 tags, 60 of them with value "value-0"
    # When the paginator reads them in pages of 7
    pages = autoscaling.get_paginator("describe_tags").paginate(
        Filters=[{"Name": "value", "Values": ["value-0"]}], PaginationConfig={"PageSize": 7}
    )
    tags = [tag for page in pages for tag in page["Tags"]]
    # Then it sees each matching tag once and no other
    assert len(tags) == 60
    assert len(set(_ids(tags))) == 60
    assert {tag["Value"] for tag in tags} == {"value-0"}


def test_values_within_a_filter_are_ored_and_filters_are_anded(autoscaling: Any, groups: tuple[str, ...]) -> None:
    # Given three groups with the same 40 keys
    # When asking for two keys of two groups
    tags = autoscaling.describe_tags(
        Filters=[
            {"Name": "auto-scaling-group", "Values": ["api-prod", "web-prod"]},
            {"Name": "key", "Values": ["key-01", "key-02"]},
        ]
    )["Tags"]
    # Then exactly those four tags come back
    assert _ids(tags) == [
        ("api-prod", "key-01"),
        ("api-prod", "key-02"),
        ("web-prod", "key-01"),
        ("web-prod", "key-02"),
    ]


def test_propagate_at_launch_filters_on_the_documented_boolean_values(
    autoscaling: Any, groups: tuple[str, ...]
) -> None:
    # Given every fourth key of each group propagates at launch
    # When asking for the tags that propagate, of one group
    tags = autoscaling.describe_tags(
        Filters=[
            {"Name": "propagate-at-launch", "Values": ["true"]},
            {"Name": "auto-scaling-group", "Values": ["web-prod"]},
        ]
    )["Tags"]
    # Then exactly those ten come back, flagged as propagating
    assert _ids(tags) == [("web-prod", f"key-{index:02d}") for index in range(0, TAGS_PER_GROUP, 4)]
    assert all(tag["PropagateAtLaunch"] is True for tag in tags)


def test_describe_tags_refuses_a_filter_name_it_does_not_know(autoscaling: Any, groups: tuple[str, ...]) -> None:
    # Given tags to describe
    # When a caller filters on DescribeAutoScalingGroups' "tag-key" instead of "key"
    with pytest.raises(ClientError) as error:
        autoscaling.describe_tags(Filters=[{"Name": "tag-key", "Values": ["key-01"]}])
    # Then the request is refused rather than answered with every tag
    assert _error_code(error) == "ValidationError"


def test_a_value_filter_matches_whole_values_only_and_takes_at_most_a_thousand(
    autoscaling: Any, groups: tuple[str, ...]
) -> None:
    # Given tags whose values are "value-0" or "value-1"
    # When asked for values by their prefixes (how the function finds groups linked by an alarm name's prefix)
    prefixes = ["value-1"[:end] for end in range(1, len("value-1") + 1)]
    tags = autoscaling.describe_tags(Filters=[{"Name": "value", "Values": prefixes[:-1]}])["Tags"]
    # Then a prefix of a value is not that value: only whole values match
    assert tags == []
    whole = autoscaling.describe_tags(Filters=[{"Name": "value", "Values": prefixes}])["Tags"]
    assert whole and {tag["Value"] for tag in whole} == {"value-1"}
    # And the documented maximum of 1,000 values per filter type holds; one more is refused
    autoscaling.describe_tags(Filters=[{"Name": "value", "Values": [f"v{index}" for index in range(1000)]}])
    with pytest.raises(ClientError) as error:
        autoscaling.describe_tags(Filters=[{"Name": "value", "Values": [f"v{index}" for index in range(1001)]}])
    assert _error_code(error) == "ValidationError"


def test_get_resources_pages_tagged_alarms_at_most_one_hundred_at_a_time(aws: AwsEmulator) -> None:
    # Given three alarms tagged for a group, and one for another
    cloudwatch = boto3.client("cloudwatch")
    for name, group in (("a", "web-prod"), ("b", "web-prod"), ("c", "web-prod"), ("d", "api-prod")):
        make_alarm(cloudwatch, name, group=group, state=None)
    tagging = boto3.client("resourcegroupstaggingapi", config=NO_RETRIES)
    asked: dict[str, Any] = {
        "TagFilters": [{"Key": "auto-rollback:group", "Values": ["web-prod"]}],
        "ResourceTypeFilters": ["cloudwatch:alarm"],
    }
    # When they are asked for two at a time
    first = tagging.get_resources(**asked, ResourcesPerPage=2)
    rest = tagging.get_resources(**asked, ResourcesPerPage=2, PaginationToken=first["PaginationToken"])
    # Then the group's alarms come in two pages, exactly matching the tag's value
    arns = [item["ResourceARN"] for item in [*first["ResourceTagMappingList"], *rest["ResourceTagMappingList"]]]
    assert sorted(arn.rsplit(":", 1)[1] for arn in arns) == ["a", "b", "c"]
    assert not rest.get("PaginationToken")
    # And a page larger than the API's maximum of 100 is refused
    with pytest.raises(ClientError) as error:
        tagging.get_resources(**asked, ResourcesPerPage=101)
    assert _error_code(error) == "InvalidParameterException"
