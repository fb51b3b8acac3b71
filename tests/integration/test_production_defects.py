"""The five defects AWS's documentation showed and the kind emulator hid, each reproduced against the strict one.

Every test here failed on the function as it was, and passes now. Times that
decide an outcome are set explicitly, relative to the refresh's own StartTime.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from devkit.aws import refresh_api
from devkit.aws.faults import FaultKind, Injection, injected
from devkit.scenarios.events import alarm_event, refresh_event
from devkit.scenarios.fleet import SSM_IMAGE_ID, make_alarm, make_composite_alarm, start_refresh
from devkit.scenarios.harness import invoke
from tests.integration.conftest import World

GROUP = "web-prod"


# --- 1. filtered event tags ---------------------------------------------------------------------------------


def test_an_alarm_whose_group_tag_was_filtered_out_of_the_event_still_rolls_back(world: World) -> None:
    # Given an alarm tagged to a group mid-refresh, which propagates only its "team" tag
    start_refresh(world.autoscaling, world.fleet(GROUP))
    tags = {"auto-rollback:group": GROUP, "team": "web"}
    make_alarm(world.cloudwatch, "web-prod-5xx", tags=tags, at=world.refresh_started_at() + timedelta(seconds=30))
    event = alarm_event(
        "web-prod-5xx", tags=tags, included_keys=["team"], at=world.refresh_started_at() + timedelta(seconds=30)
    )
    assert event["detail"]["alarmTags"] == {"team": "web"}
    # When its state change arrives
    result = invoke(event)
    # Then the function read the alarm's own tags and rolled the refresh back
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert len(world.rollback_calls(GROUP)) == 1


# --- 2. the timestamp that says when the alarm entered ALARM ------------------------------------------------


@pytest.mark.parametrize("kind", ["metric", "composite"])
def test_an_alarm_in_alarm_since_before_the_refresh_and_updated_since_does_not_roll_it_back(
    world: World, kind: str
) -> None:
    # Given a refresh that started while a linked alarm was already in ALARM, and the alarm updated since
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP))
    started = world.refresh_started_at()
    since, updated = started - timedelta(minutes=10), started + timedelta(seconds=40)
    if kind == "metric":
        make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=since, updated_at=updated)
    else:
        make_alarm(world.cloudwatch, "web-prod-child", state="ALARM", at=since)
        make_composite_alarm(
            world.cloudwatch, "web-prod-health", rule="ALARM(web-prod-child)", group=GROUP, at=since, updated_at=updated
        )
    # When the refresh reaches a checkpoint
    result = invoke(refresh_event("checkpoint-reached", GROUP, refresh_id))
    # Then the alarm is not news: the refresh goes on
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "no-linked-alarm-in-alarm")
    assert world.rollback_calls(GROUP) == []


def test_an_alarm_that_entered_alarm_after_the_refresh_started_rolls_it_back_at_a_checkpoint(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP))
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=world.refresh_started_at() + timedelta(milliseconds=1))
    result = invoke(refresh_event("checkpoint-reached", GROUP, refresh_id))
    assert result["outcome"] == "ROLLBACK_STARTED"


# --- 3. every answer lost -----------------------------------------------------------------------------------


def test_a_rollback_whose_every_answer_was_lost_is_reported_as_started_once(world: World) -> None:
    # Given a refresh, and a network that loses every answer to RollbackInstanceRefresh after AWS applied it
    start_refresh(world.autoscaling, world.fleet(GROUP))
    lost = Injection("autoscaling", "RollbackInstanceRefresh", FaultKind.CONNECTION, times=100)
    # When the alarm fires
    with injected(lost):
        result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": GROUP}))
    # Then every attempt lost its answer, and the refresh confirmed the rollback
    assert lost.injected >= 2
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["details"]["confirmedBy"] == "DescribeInstanceRefreshes"
    assert sum(call.ok for call in world.rollback_calls(GROUP)) == 1  # applied once; the resends were refused
    # And operators were told the rollback started, not that it failed
    assert [m.body["outcome"] for m in world.published()] == ["ROLLBACK_STARTED"]


def test_a_fallback_cancel_whose_every_answer_was_lost_is_reported_as_cancelled(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet(GROUP, new_image_id=SSM_IMAGE_ID))
    lost = Injection("autoscaling", "CancelInstanceRefresh", FaultKind.CONNECTION, times=100)
    with injected(lost):
        result = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": GROUP}))
    assert lost.injected >= 2
    assert sum(call.ok for call in world.mutating_calls() if call.action == refresh_api.CANCEL) == 1
    assert result["outcome"] == "CANCELLED"
    assert result["details"]["confirmedBy"] == "DescribeInstanceRefreshes"
    assert [m.body["outcome"] for m in world.published()] == ["CANCELLED"]


def test_a_rollback_the_refresh_does_not_show_still_fails_for_a_retry(world: World) -> None:
    # Given a rollback call that AWS refuses every time (nothing is applied)
    start_refresh(world.autoscaling, world.fleet(GROUP))
    refused = Injection("autoscaling", "RollbackInstanceRefresh", FaultKind.ACCESS_DENIED, times=100)
    # When the alarm fires
    with injected(refused), pytest.raises(Exception, match="AccessDenied"):
        invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": GROUP}))
    # Then the refresh, read to confirm, showed no rollback: FAILED is published and the event is retried
    assert refresh_api.refreshes(GROUP)[0]["Status"] == "Pending"
    assert [m.body["outcome"] for m in world.published()] == ["FAILED"]


# --- 4. the opt-in value, as IAM compares it ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["Enabled", "enabled ", "ENABLED"])
def test_a_group_whose_opt_in_value_is_not_exact_is_not_rolled_back_and_its_owner_is_told(
    world: World, value: str
) -> None:
    # Given a group whose owner wrote the opt-in tag with another case or a trailing space
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP, mode=value))
    # When its refresh starts, and then a linked alarm fires
    started = invoke(refresh_event("started", GROUP, refresh_id))
    fired = invoke(alarm_event("web-prod-5xx", tags={"auto-rollback:group": GROUP}))
    # Then no rollback is attempted (IAM would refuse it: StringEquals is exact)
    assert (fired["outcome"], fired["reason"]) == ("SKIPPED", "opt-in-tag-not-exact")
    assert world.rollback_calls(GROUP) == []
    # And the start of an unprotected refresh is published, naming the value
    assert (started["outcome"], started["reason"]) == ("NOTIFIED", "opt-in-tag-not-exact")
    [message] = world.published()
    assert message.body["severity"] == "medium"
    assert repr(value) in message.body["summary"] and "NOT protected" in message.body["summary"]


# --- 5. names AWS allows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alarm_name", ["Café 5xx", "web-prod\u00a05xx", "ウェブ 5xx"])
def test_an_alarm_with_a_name_cloudwatch_allows_rolls_back(world: World, alarm_name: str) -> None:
    # Given an alarm whose name has a non-ASCII letter or a no-break space, tagged to a group mid-refresh
    start_refresh(world.autoscaling, world.fleet(GROUP))
    make_alarm(world.cloudwatch, alarm_name, group=GROUP, at=world.refresh_started_at() + timedelta(seconds=5))
    # When it fires
    result = invoke(alarm_event(alarm_name, at=world.refresh_started_at() + timedelta(seconds=5)))
    # Then it is an alarm like any other, and the subject stays within SNS's rules
    assert result["outcome"] == "ROLLBACK_STARTED"
    [message] = world.published()
    assert message.body["trigger"]["alarmName"] == alarm_name
    assert all(32 <= ord(char) < 127 for char in message.subject)
