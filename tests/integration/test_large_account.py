"""The AWS calls one event costs do not grow with the account: the same beside a few groups as among hundreds.

The emulator pages as AWS does (DescribeTags and DescribeAlarms at most 100 a page,
GetResources 100), so a read that listed the account would cost more pages here.
The suite's "large" account is smaller than ``make bench``'s (5,000 groups, 2,000
alarms) to stay quick, and is still several pages of everything.
"""

from __future__ import annotations

import pytest

from devkit.scenarios.calls import CallRecorder, critical_path, tally
from devkit.scenarios.harness import invoke
from devkit.scenarios.large_account import EVENT_KINDS, LargeAccount, Subjects
from tests.integration.conftest import World

#: Bulk groups have two tags each: 600 tag rows, six DescribeTags pages if every group were listed.
LARGE_GROUPS = 300
#: Half in ALARM: two DescribeAlarms pages, and 75 tagged alarms, if every alarm were listed.
LARGE_ALARMS = 250

#: What each event costs before RollbackInstanceRefresh, by kind of link (README, "What it costs").
EXPECTED_BEFORE_ROLLBACK: dict[str, dict[str, int]] = {
    "alarm event, alarmTags name the group": {
        "autoscaling:DescribeTags": 2,  # the groups linked by prefix; the named group's tags
        "autoscaling:DescribeInstanceRefreshes": 1,
        "dynamodb:PutItem": 1,
    },
    "alarm event without alarmTags, linked by tag": {
        "autoscaling:DescribeInstanceRefreshes": 1,
        "autoscaling:DescribeTags": 2,
        "dynamodb:PutItem": 1,
        "cloudwatch:ListTagsForResource": 1,
    },
    "alarm event without alarmTags, linked by prefix": {
        "autoscaling:DescribeInstanceRefreshes": 1,
        "autoscaling:DescribeTags": 2,
        "dynamodb:PutItem": 1,
        "cloudwatch:ListTagsForResource": 1,
    },
    "checkpoint, alarm linked by prefix": {
        "autoscaling:DescribeInstanceRefreshes": 1,
        "autoscaling:DescribeTags": 1,
        "dynamodb:PutItem": 1,
        "cloudwatch:DescribeAlarms": 1,
        "cloudwatch:ListAlarmMuteRules": 1,
    },
    "checkpoint, alarm linked by tag": {
        "autoscaling:DescribeInstanceRefreshes": 1,
        "autoscaling:DescribeTags": 1,
        "dynamodb:PutItem": 1,
        "cloudwatch:DescribeAlarms": 1,
        "cloudwatch:ListAlarmMuteRules": 1,
        "resourcegroupstaggingapi:GetResources": 1,
    },
    "checkpoint, group with both links, alarm linked by tag": {
        "autoscaling:DescribeInstanceRefreshes": 1,
        "autoscaling:DescribeTags": 1,
        "dynamodb:PutItem": 1,
        "cloudwatch:DescribeAlarms": 2,  # the prefix's alarms in ALARM (none), then the tagged ones
        "cloudwatch:ListAlarmMuteRules": 1,
        "resourcegroupstaggingapi:GetResources": 1,
    },
}


@pytest.fixture
def recorder() -> CallRecorder:
    recorder = CallRecorder()
    recorder.install()
    return recorder


def _measure(subjects: Subjects, recorder: CallRecorder, round_: int) -> dict[str, tuple[dict[str, int], int]]:
    measured: dict[str, tuple[dict[str, int], int]] = {}
    for title in EVENT_KINDS:
        event = subjects.event(title, round_)
        with recorder.recording() as calls:
            result = invoke(event)
        assert result["outcome"] == "ROLLBACK_STARTED", (title, result)
        measured[title] = (tally(critical_path(calls)), len(calls))
    return measured


def test_calls_per_event_are_the_same_in_a_small_and_in_a_large_account(world: World, recorder: CallRecorder) -> None:
    # Given the groups the events concern, each linked its own way, in an otherwise empty account
    subjects = Subjects.create(world.ec2, world.autoscaling, world.cloudwatch)
    # When each kind of event is handled there
    small = _measure(subjects, recorder, 1)
    # And again once the account holds hundreds of opted-in groups and alarms, half of them in ALARM
    LargeAccount(world.ec2, world.autoscaling, world.cloudwatch).grow(groups=LARGE_GROUPS, alarms=LARGE_ALARMS)
    large = _measure(subjects, recorder, 2)
    # Then every event made exactly the same calls, before the rollback call and in all
    assert large == small
    # And exactly the calls the README promises before the rollback call
    assert {title: before for title, (before, _) in small.items()} == EXPECTED_BEFORE_ROLLBACK
    assert set(EXPECTED_BEFORE_ROLLBACK) == set(EVENT_KINDS)
