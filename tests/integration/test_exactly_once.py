"""One rollback per refresh whatever arrives; every outcome published at least once."""

from __future__ import annotations

import boto3
import pytest

from devkit.aws import refresh_api
from devkit.scenarios.events import alarm_event, refresh_event
from devkit.scenarios.fleet import start_refresh
from devkit.scenarios.harness import invoke, invoke_concurrently
from tests.integration.conftest import World

LINK = {"auto-rollback:group": "web-prod"}


def test_duplicate_delivery_is_deduplicated_and_not_renotified(world: World) -> None:
    # Given a rollback already started by one alarm event
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    event = alarm_event("web-prod-5xx", tags=LINK)
    first = invoke(event)
    # When the same event is delivered again, and another alarm fires for the same refresh
    again = invoke(event)
    other = invoke(alarm_event("web-prod-latency", tags=LINK))
    # Then only the first reports ROLLBACK_STARTED; nothing is called or published twice
    assert first["outcome"] == "ROLLBACK_STARTED"
    assert again["outcome"] == other["outcome"] == "DEDUPLICATED"
    assert len(world.rollback_calls()) == 1
    assert len(world.published()) == 1


def test_duplicate_answered_from_the_idempotency_record(world: World) -> None:
    # Given a rollback recorded, and the refresh still reported active (AWS is eventually consistent)
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    invoke(alarm_event("web-prod-5xx", tags=LINK))
    refresh_api.advance("web-prod", "InProgress")
    # When another alarm arrives
    duplicate = invoke(alarm_event("web-prod-latency", tags=LINK))
    # Then the stored record answers: no second call, and the original outcome is reported
    assert (duplicate["outcome"], duplicate["reason"]) == ("DEDUPLICATED", "already-handled")
    assert duplicate["details"]["originalOutcome"] == "ROLLBACK_STARTED"
    assert duplicate["details"]["originalTrigger"]["alarmName"] == "web-prod-5xx"
    assert len(world.rollback_calls()) == 1
    assert len(world.published()) == 1


def test_failed_publish_fails_the_invocation_and_the_retry_publishes_the_stored_outcome(world: World) -> None:
    # Given the outcome topic is unreachable (deleted) when the rollback succeeds
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    sns = boto3.client("sns")
    sns.delete_topic(TopicArn=world.deployment.topic_arn)
    event = alarm_event("web-prod-5xx", tags=LINK)
    # When the alarm is handled
    with pytest.raises(Exception, match=r"NotFound|does not exist"):
        invoke(event)
    assert len(world.rollback_calls()) == 1
    # And the topic comes back before Lambda retries the same event
    sns.create_topic(Name="auto-rollback-outcomes")
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=world.deployment.queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=world.deployment.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    retried = invoke(event)
    # Then the retry makes no second call and publishes the original outcome exactly once
    assert len(world.rollback_calls()) == 1
    [message] = world.published()
    assert message.attributes["outcome"] == "ROLLBACK_STARTED"
    assert message.body["trigger"]["alarmName"] == "web-prod-5xx"
    assert retried["outcome"] == "DEDUPLICATED"
    # And later duplicates publish nothing more
    invoke(alarm_event("web-prod-latency", tags=LINK))
    assert world.published() == []


@pytest.mark.parametrize("code", ["ResourceContention", "LimitExceeded", "Throttling"])
def test_transient_refusals_are_retried_within_the_invocation(world: World, code: str) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    refresh_api.inject_fault(refresh_api.ROLLBACK, code, times=3)
    result = invoke(alarm_event("web-prod-5xx", tags=LINK))
    assert result["outcome"] == "ROLLBACK_STARTED"
    accepted = [call for call in world.rollback_calls() if call.ok]
    assert len(accepted) == 1
    assert len(world.rollback_calls()) == 4


def test_retries_stop_with_the_invocations_time_then_failed_is_published_and_raised(world: World) -> None:
    # Given AWS keeps answering LimitExceeded and the invocation has little time left
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    refresh_api.inject_fault(refresh_api.ROLLBACK, "LimitExceeded", times=1000)
    event = alarm_event("web-prod-5xx", tags=LINK)
    # When the alarm is handled
    with pytest.raises(Exception, match="LimitExceeded"):
        invoke(event, timeout_seconds=7)
    # Then FAILED is published so people know, and the event is left to Lambda's retry
    [message] = world.published()
    assert message.attributes == {"outcome": "FAILED", "autoScalingGroupName": "web-prod", "severity": "high"}
    assert not any(call.ok for call in world.rollback_calls())
    # And once AWS recovers, the retried event rolls back
    refresh_api.clear_faults()
    assert invoke(event)["outcome"] == "ROLLBACK_STARTED"


@pytest.mark.slow
def test_alarm_storm_from_several_processes_rolls_back_each_group_once(world: World) -> None:
    # Given four groups mid-refresh (three opted in, one not)
    groups = ["web-a", "web-b", "web-c"]
    for name in groups:
        start_refresh(world.autoscaling, world.fleet(name))
    start_refresh(world.autoscaling, world.fleet("not-opted-in", mode=None))
    # And a storm: five alarms per group, each delivered twice, plus a checkpoint per group
    events = []
    for name in [*groups, "not-opted-in"]:
        for index in range(5):
            event = alarm_event(f"{name}-alarm-{index}", tags={"auto-rollback:group": name})
            events += [event, event]
    refresh_ids = {name: refresh_api.refreshes(name)[0]["InstanceRefreshId"] for name in groups}
    events += [refresh_event("checkpoint-reached", name, refresh_ids[name]) for name in groups]
    # When three separate processes (three Lambda containers) handle them all at once
    outcomes = invoke_concurrently(world.deployment.environment, events, processes=3)
    # Then each opted-in group was rolled back exactly once, the other never, and nothing errored
    assert [o for o in outcomes if o["outcome"] == "ERROR"] == []
    for name in groups:
        assert len([call for call in world.rollback_calls(name) if call.ok]) == 1
    assert world.rollback_calls("not-opted-in") == []
    started = [o for o in outcomes if o["outcome"] == "ROLLBACK_STARTED"]
    assert sorted(o["autoScalingGroupName"] for o in started) == groups
    published = [m for m in world.published() if m.attributes["outcome"] == "ROLLBACK_STARTED"]
    assert sorted(m.attributes["autoScalingGroupName"] for m in published) == groups
