"""Alarm state changes, decision row by decision row, against the emulator over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from auto_rollback.events import InvalidEventError
from devkit.aws import refresh_api
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import SSM_IMAGE_ID, make_alarm, start_refresh
from devkit.scenarios.harness import invoke
from tests.integration.conftest import World


def test_alarm_rolls_back_the_refresh_once_and_notifies(world: World) -> None:
    # Given an opted-in group mid-refresh and an alarm tagged to it
    fleet = world.fleet("web-prod")
    refresh_id = start_refresh(world.autoscaling, fleet)
    refresh_api.advance("web-prod", "InProgress", percentage=40)
    world.alarm("web-prod-5xx", group="web-prod")
    # When the alarm's state change arrives (no propagated tags: the function looks them up)
    result = invoke(alarm_event("web-prod-5xx"))
    # Then exactly one rollback reached AWS and the group is going back to the good version
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert (result["autoScalingGroupName"], result["instanceRefreshId"]) == ("web-prod", refresh_id)
    assert result["trigger"]["alarmName"] == "web-prod-5xx"
    assert len(world.rollback_calls("web-prod")) == 1
    assert refresh_api.refreshes("web-prod")[0]["Status"] == "RollbackInProgress"
    group = world.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web-prod"])["AutoScalingGroups"][0]
    assert group["LaunchTemplate"]["Version"] == fleet.good_version
    # And operators received one notification they can filter on
    [message] = world.published()
    assert message.subject == "[auto-rollback] ROLLBACK_STARTED web-prod - alarm web-prod-5xx"
    assert message.attributes == {"outcome": "ROLLBACK_STARTED", "autoScalingGroupName": "web-prod", "severity": "high"}
    assert message.body["instanceRefreshId"] == refresh_id
    assert message.body["schemaVersion"] == "1.0"


def test_propagated_alarm_tags_are_used_without_a_look_up(world: World) -> None:
    # Given an alarm CloudWatch does not know, tagged (in the event only) to a group mid-refresh
    start_refresh(world.autoscaling, world.fleet("api-prod"))
    # When the event carries the alarm's tags
    result = invoke(alarm_event("ghost-alarm", tags={"auto-rollback:group": "api-prod"}))
    # Then the tags in the event link it
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["autoScalingGroupName"] == "api-prod"


def test_alarm_linked_by_group_prefix_with_spaces_in_its_name(world: World) -> None:
    fleet = world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-prod "})
    start_refresh(world.autoscaling, fleet)
    world.alarm("web-prod error rate")
    result = invoke(alarm_event("web-prod error rate"))
    assert result["outcome"] == "ROLLBACK_STARTED"


@pytest.mark.parametrize("tags", [None, {"auto-rollback:group": "web-prod"}], ids=["by-prefix", "by-tag"])
def test_composite_alarm_rolls_back(world: World, tags: dict[str, str] | None) -> None:
    # The composite alarm is not created here: it exists only in its event.
    start_refresh(world.autoscaling, world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-prod "}))
    result = invoke(alarm_event("web-prod health" if tags is None else "health", composite=True, tags=tags))
    assert result["outcome"] == "ROLLBACK_STARTED"


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_states_other_than_alarm_change_nothing(world: World, state: str) -> None:
    fleet = world.fleet("web-prod")
    start_refresh(world.autoscaling, fleet)
    result = invoke(alarm_event("web-prod-5xx", state=state, tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "not-alarm-state")
    assert world.mutating_calls() == []
    assert world.published() == []


def test_insufficient_data_rolls_back_when_configured(configure: Callable[..., World]) -> None:
    world = configure(INSUFFICIENT_DATA_ACTION="rollback")
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    result = invoke(alarm_event("web-prod-5xx", state="INSUFFICIENT_DATA", tags={"auto-rollback:group": "web-prod"}))
    assert result["outcome"] == "ROLLBACK_STARTED"


@pytest.mark.parametrize("mode", [None, "disabled", "Enabled please"])
def test_group_that_did_not_opt_in_is_never_touched(world: World, mode: str | None) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod", mode=mode))
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "group-not-enabled")
    assert world.mutating_calls() == []
    assert world.published() == []


def test_alarm_linked_to_no_group(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-"}))
    world.alarm("TargetTracking-web-prod-AlarmHigh")
    result = invoke(alarm_event("TargetTracking-web-prod-AlarmHigh"))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "no-linked-group")
    assert world.mutating_calls() == []


@pytest.mark.parametrize(
    ("history", "outcome", "reason"),
    [
        ([], "SKIPPED", "no-active-refresh"),
        (["Successful"], "SKIPPED", "no-active-refresh"),
        (["Failed"], "SKIPPED", "no-active-refresh"),
        (["Cancelling"], "SKIPPED", "refresh-cancelling"),
        (["RollbackInProgress"], "DEDUPLICATED", "rollback-in-progress"),
    ],
)
def test_refresh_that_is_not_active_is_left_alone(world: World, history: list[str], outcome: str, reason: str) -> None:
    fleet = world.fleet("web-prod")
    if history:
        start_refresh(world.autoscaling, fleet)
        for status in history:
            refresh_api.advance("web-prod", status)
    refresh_api.clear_calls()
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"]) == (outcome, reason)
    assert world.mutating_calls() == []


@pytest.mark.parametrize("status", ["Pending", "InProgress", "Baking"])
def test_every_active_status_can_be_rolled_back(world: World, status: str) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    if status != "Pending":
        refresh_api.advance("web-prod", status)
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert result["outcome"] == "ROLLBACK_STARTED"


def test_alarm_that_fired_before_the_refresh_started_is_skipped(world: World) -> None:
    # Given a refresh, and an alarm that entered ALARM one millisecond before its StartTime
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    before = world.refresh_started_at() - timedelta(milliseconds=1)
    # When the alarm's event arrives
    result = invoke(alarm_event("web-prod-5xx", at=before, tags={"auto-rollback:group": "web-prod"}))
    # Then it is not blamed on the refresh
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "alarm-predates-refresh")
    assert world.mutating_calls() == []


def test_alarm_that_fired_in_the_refreshs_first_second_is_blamed_on_it(world: World) -> None:
    # AWS reports StartTime in whole seconds; an alarm at that very second counts as after the start
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    started = world.refresh_started_at()
    assert started.microsecond == 0
    result = invoke(alarm_event("web-prod-5xx", at=started, tags={"auto-rollback:group": "web-prod"}))
    assert result["outcome"] == "ROLLBACK_STARTED"


def test_dry_run_setting_publishes_and_changes_nothing(configure: Callable[..., World]) -> None:
    world = configure(DRY_RUN="true")
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"], result["dryRun"]) == ("DRY_RUN", "dry-run", True)
    assert world.mutating_calls() == []
    [message] = world.published()
    assert message.attributes["outcome"] == "DRY_RUN"
    assert refresh_api.refreshes("web-prod")[0]["Status"] == "Pending"


def test_dry_run_group_tag(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod", mode="dry-run"))
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"]) == ("DRY_RUN", "group-dry-run")
    assert world.mutating_calls() == []
    assert len(world.published()) == 1


@pytest.mark.parametrize(
    ("fleet_options", "refresh_options"),
    [
        ({"version": "$Latest"}, {}),
        ({"version": "$Default"}, {}),
        ({}, {"with_desired_configuration": False}),
        ({"new_image_id": SSM_IMAGE_ID}, {}),
    ],
    ids=["latest", "default", "no-desired-configuration", "ssm-image-id"],
)
def test_irreversible_refresh_is_cancelled_by_default(
    world: World, fleet_options: dict[str, str], refresh_options: dict[str, bool]
) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod", **fleet_options), **refresh_options)
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"]) == ("CANCELLED", "rollback-irreversible")
    assert len(refresh_api.calls(refresh_api.CANCEL)) == 1
    assert refresh_api.refreshes("web-prod")[0]["Status"] == "Cancelling"
    [message] = world.published()
    assert message.attributes["outcome"] == "CANCELLED"


def test_irreversible_refresh_with_notify_fallback_keeps_running(configure: Callable[..., World]) -> None:
    world = configure(IRREVERSIBLE_FALLBACK="notify")
    start_refresh(world.autoscaling, world.fleet("web-prod", version="$Latest"))
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"]) == ("ROLLBACK_UNSUPPORTED", "rollback-irreversible")
    assert refresh_api.calls(refresh_api.CANCEL) == []
    assert refresh_api.refreshes("web-prod")[0]["Status"] == "Pending"
    assert world.published()[0].attributes["severity"] == "high"


def test_refresh_that_ends_meanwhile_is_skipped(world: World) -> None:
    # Given AWS answers that the refresh is no longer active when the rollback arrives
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    refresh_api.inject_fault(refresh_api.ROLLBACK, "ActiveInstanceRefreshNotFound")
    result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "refresh-ended")
    assert world.published() == []


def test_alarm_linked_to_several_groups_reports_each(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet("web-a", tags={"auto-rollback:alarm-prefix": "shared-"}))
    world.fleet("web-b", tags={"auto-rollback:alarm-prefix": "shared-"})
    result = invoke(alarm_event("shared-latency", tags={}))
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert {(r["autoScalingGroupName"], r["outcome"]) for r in result["results"]} == {
        ("web-a", "ROLLBACK_STARTED"),
        ("web-b", "SKIPPED"),
    }


def test_event_for_another_region_is_refused(world: World) -> None:
    event = alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"})
    event["region"] = "eu-west-1"
    with pytest.raises(InvalidEventError, match="region"):
        invoke(event)
    assert world.mutating_calls() == []


def test_one_groups_failure_does_not_keep_the_alarms_other_groups_from_rolling_back(world: World) -> None:
    # Given an alarm linked to two groups mid-refresh, and AWS refusing the first group's rollback once
    start_refresh(world.autoscaling, world.fleet("api-prod"))
    start_refresh(world.autoscaling, world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "svc-"}))
    refresh_api.inject_fault(refresh_api.ROLLBACK, "ValidationError", times=1)
    # When the alarm fires
    with pytest.raises(Exception, match="ValidationError"):
        invoke(alarm_event("svc-5xx", tags={"auto-rollback:group": "api-prod"}))
    # Then the other group was still rolled back, and the invocation failed so that Lambda retries the first
    assert [(call.group_name, call.ok) for call in world.rollback_calls()] == [
        ("api-prod", False),
        ("web-prod", True),
    ]
    # And the retry rolls the first group back and answers from its record for the second
    retried = invoke(alarm_event("svc-5xx", tags={"auto-rollback:group": "api-prod"}))
    assert {(r["autoScalingGroupName"], r["outcome"]) for r in retried["results"]} == {
        ("api-prod", "ROLLBACK_STARTED"),
        ("web-prod", "DEDUPLICATED"),
    }


@pytest.mark.parametrize("tags", [None, {"auto-rollback:group": "web-prod "}], ids=["looked-up", "in-event"])
def test_a_group_tag_with_spaces_around_the_name_is_refused_by_name_not_silently(
    world: World, tags: dict[str, str] | None
) -> None:
    # Given an opted-in group mid-refresh, and an alarm tagged with its name and a trailing space
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    make_alarm(world.cloudwatch, "latency-high", group="web-prod ")
    # When the alarm fires
    result = invoke(alarm_event("latency-high", tags=tags))
    # Then nothing is rolled back (the tag is exact, as the Tagging API a checkpoint asks matches it), and the
    # outcome says why and how to fix it, instead of "group-not-enabled" for a group that does not exist
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "group-tag-not-exact")
    assert result["details"]["groupTag"] == "web-prod "
    assert "remove the spaces to link 'web-prod'" in result["summary"]
    assert world.rollback_calls() == []


@pytest.mark.parametrize("tags", [None, {"auto-rollback:group": "web-prod-old"}], ids=["looked-up", "in-event"])
def test_an_alarm_tagged_for_a_deleted_group_still_rolls_back_the_group_it_is_linked_to_by_prefix(
    world: World, tags: dict[str, str] | None
) -> None:
    # Given a group linked by prefix mid-refresh, and its alarm also tagged for a group that no longer exists
    # (AWS refuses DescribeInstanceRefreshes for it with ValidationError)
    start_refresh(world.autoscaling, world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-prod-"}))
    make_alarm(world.cloudwatch, "web-prod-5xx", group="web-prod-old")
    # When the alarm fires
    result = invoke(alarm_event("web-prod-5xx", tags=tags))
    # Then the linked group is rolled back, and the deleted one is skipped as not opted in
    outcomes = {entry["autoScalingGroupName"]: (entry["outcome"], entry["reason"]) for entry in result["results"]}
    assert outcomes == {"web-prod": ("ROLLBACK_STARTED", "alarm"), "web-prod-old": ("SKIPPED", "group-not-enabled")}
    assert len(world.rollback_calls("web-prod")) == 1


def test_one_linked_groups_unreadable_refresh_does_not_hold_back_the_others_rollback(world: World) -> None:
    # Given two groups linked by the same prefix, both mid-refresh
    for name in ("web-prod", "api-prod"):
        start_refresh(world.autoscaling, world.fleet(name, tags={"auto-rollback:alarm-prefix": "svc-"}))
    world.alarm("svc-5xx")
    # When one group's refresh cannot be read (refused past botocore's retries)
    refresh_api.inject_fault(refresh_api.DESCRIBE, "ResourceContention", times=100, group_name="api-prod")
    with pytest.raises(Exception, match="ResourceContention"):
        invoke(alarm_event("svc-5xx"))
    # Then the other group was still rolled back, and the invocation failed so that Lambda retries it
    assert len(world.rollback_calls("web-prod")) == 1
    assert world.rollback_calls("api-prod") == []
    # And once AWS answers again, the retried event rolls the second group back too
    refresh_api.clear_faults()
    outcomes = {entry["autoScalingGroupName"]: entry["outcome"] for entry in invoke(alarm_event("svc-5xx"))["results"]}
    assert outcomes == {"web-prod": "DEDUPLICATED", "api-prod": "ROLLBACK_STARTED"}
