"""Instance-refresh events: checkpoints look for alarms already firing; the rest is news."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devkit.aws import refresh_api
from devkit.aws.faults import FaultKind, Injection, injected
from devkit.scenarios.events import refresh_event
from devkit.scenarios.fleet import start_refresh
from devkit.scenarios.harness import invoke
from tests.integration.conftest import World


@pytest.mark.parametrize("kind", ["checkpoint-reached", "started-baking"])
def test_checkpoint_rolls_back_when_a_linked_alarm_is_already_in_alarm(world: World, kind: str) -> None:
    # Given a refresh under way and a prefix-linked alarm that went to ALARM after it started
    fleet = world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-prod-"})
    refresh_id = start_refresh(world.autoscaling, fleet)
    refresh_api.advance("web-prod", "Baking" if kind == "started-baking" else "InProgress", percentage=50)
    world.alarm("web-prod-latency", at=world.refresh_started_at() + timedelta(seconds=20))
    # When the checkpoint event arrives (an alarm already in ALARM sends no new event)
    result = invoke(refresh_event(kind, "web-prod", refresh_id))
    # Then the function finds the firing alarm and rolls back
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["details"]["firingAlarm"]["alarmName"] == "web-prod-latency"
    assert len(world.rollback_calls("web-prod")) == 1
    [message] = world.published()
    assert message.subject.endswith(
        "web-prod - Refresh " + ("Started Baking" if kind == "started-baking" else "Checkpoint Reached")
    )


def test_checkpoint_finds_alarms_linked_by_tag(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"))
    after = world.refresh_started_at() + timedelta(seconds=20)
    world.alarm("p99 latency", group="web-prod", at=after)
    world.alarm("unrelated", group="other-group", at=after)
    result = invoke(refresh_event("checkpoint-reached", "web-prod", refresh_id))
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["details"]["firingAlarm"]["alarmName"] == "p99 latency"


def test_checkpoint_ignores_alarms_that_fired_before_the_refresh(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"))
    world.alarm("web-prod-latency", group="web-prod", at=world.refresh_started_at() - timedelta(milliseconds=1))
    result = invoke(refresh_event("checkpoint-reached", "web-prod", refresh_id))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "no-linked-alarm-in-alarm")
    assert world.mutating_calls() == []
    assert world.published() == []


def test_checkpoint_with_no_alarm_firing_changes_nothing(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-"}))
    world.alarm("web-ok", state="OK")
    result = invoke(refresh_event("checkpoint-reached", "web-prod", refresh_id))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "no-linked-alarm-in-alarm")


def test_checkpoint_of_a_disabled_group_reads_no_alarm(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod", mode="disabled"))
    world.alarm("web-prod-5xx", group="web-prod")
    result = invoke(refresh_event("checkpoint-reached", "web-prod", refresh_id))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "group-not-enabled")
    assert world.mutating_calls() == []


def test_refresh_started_is_announced_with_warnings(world: World) -> None:
    # Given a refresh to $Latest, which cannot be rolled back, and no alarm linked by prefix
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"), version="$Latest")
    # When the Started event arrives
    result = invoke(refresh_event("started", "web-prod", refresh_id))
    # Then operators are told, with both warnings
    assert (result["outcome"], result["reason"]) == ("NOTIFIED", "refresh-started")
    warnings = result["details"]["warnings"]
    assert any("cannot be rolled back" in warning for warning in warnings)
    assert any("no alarm is linked" in warning for warning in warnings)
    [message] = world.published()
    assert message.attributes["severity"] == "medium"


def test_refresh_started_without_problems_has_no_warning(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-"}))
    world.alarm("web-5xx", state="OK")
    result = invoke(refresh_event("started", "web-prod", refresh_id))
    assert result["outcome"] == "NOTIFIED"
    assert "details" not in result
    assert world.published()[0].attributes["severity"] == "info"


@pytest.mark.parametrize(
    ("kind", "status", "severity"),
    [
        ("succeeded", "Successful", "info"),
        ("failed", "Failed", "medium"),
        ("cancelled", "Cancelled", "info"),
        ("rollback-started", "RollbackInProgress", "medium"),
        ("rollback-succeeded", "RollbackSuccessful", "info"),
        ("rollback-failed", "RollbackFailed", "high"),
    ],
)
def test_lifecycle_events_are_notified_once_with_the_reconciled_status(
    world: World, kind: str, status: str, severity: str
) -> None:
    # Given a refresh that reached the status the event announces
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"))
    refresh_api.advance("web-prod", status)
    event = refresh_event(kind, "web-prod", refresh_id)
    # When the event is delivered twice (EventBridge delivers at least once)
    first = invoke(event)
    second = invoke(event)
    # Then one notification carries the status read from AWS, not assumed from the event
    assert first["outcome"] == second["outcome"] == "NOTIFIED"
    assert first["refreshStatus"] == status
    [message] = world.published()
    assert message.attributes == {"outcome": "NOTIFIED", "autoScalingGroupName": "web-prod", "severity": severity}
    assert world.mutating_calls() == []


def test_lifecycle_events_of_groups_that_did_not_opt_in_are_not_published(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod", mode=None))
    refresh_api.advance("web-prod", "RollbackFailed")
    result = invoke(refresh_event("rollback-failed", "web-prod", refresh_id))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "group-not-enabled")
    assert world.published() == []


def test_a_checkpoint_reads_no_unrelated_alarm(world: World) -> None:
    # Given an unrelated alarm and a tag-linked one, both in ALARM since the refresh started
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"))
    after = world.refresh_started_at() + timedelta(seconds=5)
    world.alarm("a-unrelated-AlarmLow", at=after)
    world.alarm("b-web-prod-5xx", group="web-prod", at=after)
    # When the checkpoint is handled while no alarm's tags could be read
    denied = Injection("cloudwatch", "ListTagsForResource", FaultKind.ACCESS_DENIED, times=100)
    with injected(denied):
        result = invoke(refresh_event("checkpoint-reached", "web-prod", refresh_id))
    # Then the tag-linked alarm was found without reading any alarm's tags, and the refresh rolled back
    assert denied.seen == 0
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["details"]["firingAlarm"]["alarmName"] == "b-web-prod-5xx"


def test_a_checkpoint_that_cannot_find_the_tagged_alarms_fails_rather_than_say_none_fired(world: World) -> None:
    # Given a tag-linked alarm in ALARM since the refresh started
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"))
    world.alarm("web-prod-5xx", group="web-prod", at=world.refresh_started_at() + timedelta(seconds=5))
    # When the Resource Groups Tagging API refuses to say which alarms are tagged for the group
    denied = Injection("tagging", "GetResources", FaultKind.ACCESS_DENIED, times=100)
    with injected(denied), pytest.raises(Exception, match="AccessDenied"):
        invoke(refresh_event("checkpoint-reached", "web-prod", refresh_id))
    # Then the invocation fails (Lambda retries it), and nothing was changed
    assert world.mutating_calls() == []


@pytest.mark.parametrize("desired_version", [None, "$Default"])
def test_a_refresh_to_the_templates_default_version_is_announced_as_irreversible(
    world: World, desired_version: str | None
) -> None:
    # Given a refresh whose desired launch template names no version (AWS reads that as $Default)
    fleet = world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-"})
    desired: dict[str, str] = {"LaunchTemplateId": fleet.launch_template_id}
    if desired_version:
        desired["Version"] = desired_version
    refresh_id = world.autoscaling.start_instance_refresh(
        AutoScalingGroupName="web-prod", DesiredConfiguration={"LaunchTemplate": desired}
    )["InstanceRefreshId"]
    # When it starts
    result = invoke(refresh_event("started", "web-prod", refresh_id))
    # Then operators are warned that it cannot be rolled back
    [irreversible, *_] = result["details"]["warnings"]
    assert irreversible == "cannot be rolled back: the refresh uses launch template version $Default"


def test_a_prefix_tag_longer_than_any_alarm_name_gets_the_no_alarm_warning_not_a_failure(world: World) -> None:
    # Given a group whose prefix tag is 256 characters (a valid tag value; no alarm name is that long)
    fleet = world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "p" * 256})
    refresh_id = start_refresh(world.autoscaling, fleet)
    # When its refresh starts
    result = invoke(refresh_event("started", "web-prod", refresh_id))
    # Then the function does not ask CloudWatch for an impossible prefix (AWS would refuse it), and warns
    assert result["outcome"] == "NOTIFIED"
    assert any("no alarm is linked" in warning for warning in result["details"]["warnings"])
