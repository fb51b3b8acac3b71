"""CloudWatch's own "do not act" signals, honoured against the emulated CloudWatch.

Mute rules are real PutAlarmMuteRule rules in the emulator, and the events carry
the ``muteDetail`` the emulator says CloudWatch would send for them. Windows are
hours wide around the present, so no outcome depends on when the test runs; times
that decide an outcome are set relative to the refresh's own StartTime.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devkit.aws import cloudwatch_api, mute_rules, refresh_api
from devkit.aws.faults import FaultKind, Injection, injected
from devkit.scenarios.events import alarm_event, cloudwatch_time, refresh_event
from devkit.scenarios.fleet import (
    make_alarm,
    make_composite_alarm,
    make_log_alarm,
    make_mute_rule,
    start_refresh,
)
from devkit.scenarios.harness import invoke, invoke_concurrently
from tests.integration.conftest import World

GROUP = "web-prod"
GROUP_TAG = "auto-rollback:group"


def _maintenance(world: World, *alarms: str, name: str = "patch-tuesday") -> str:
    """A mute rule over ``alarms`` whose window (4 hours) started an hour ago: active for the whole test."""
    return make_mute_rule(world.cloudwatch, name, list(alarms), start=datetime.now(UTC) - timedelta(hours=1))


def _muted_event(alarm: str, at: datetime, **kwargs: Any) -> dict[str, Any]:
    """The alarm event CloudWatch sends for ``alarm`` entering ALARM at ``at``, with its muteDetail."""
    detail = mute_rules.mute_detail(alarm, at)
    assert detail is not None, "the scenario's mute rule should cover the alarm at that time"
    return alarm_event(alarm, at=at, mute_detail=detail, **kwargs)


# --- alarm events ---------------------------------------------------------------------------------------------


def test_a_muted_alarm_does_not_roll_back_and_says_which_rule_held_it(world: World) -> None:
    # Given a refresh in progress and its alarm muted by a maintenance window
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=at)
    _maintenance(world, "web-prod-5xx")

    # When the alarm's state change arrives, muted
    result = invoke(_muted_event("web-prod-5xx", at, tags={GROUP_TAG: GROUP}))

    # Then nothing is rolled back or published, and the result names the mute rule and its window
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "alarm-muted")
    assert result["details"]["mutedBy"]["ruleName"] == "patch-tuesday"
    assert {"windowStart", "windowEnd"} <= set(result["details"]["mutedBy"])
    assert "patch-tuesday" in result["summary"]
    assert world.mutating_calls() == []
    assert world.published() == []


def test_an_operator_may_choose_to_act_on_muted_alarms(configure: Any) -> None:
    # Given a deployment with MUTED_ALARM_ACTION=rollback, and a muted alarm firing mid-refresh
    world = configure(MUTED_ALARM_ACTION="rollback")
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=at)
    _maintenance(world, "web-prod-5xx")

    # When the muted alarm event arrives
    result = invoke(_muted_event("web-prod-5xx", at, tags={GROUP_TAG: GROUP}))

    # Then the refresh is rolled back, and the outcome names the mute it overrode
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["details"]["mutedBy"]["ruleName"] == "patch-tuesday"
    assert len(world.rollback_calls(GROUP)) == 1


def test_an_event_handled_after_its_mute_window_ended_acts(world: World) -> None:
    # Given an alarm event muted by a window that ended an hour ago (a late retry, say)
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=at)

    # When it is handled now, the alarm still in ALARM and no rule muting it
    result = invoke(alarm_event("web-prod-5xx", at=at, mute_detail=_ended_mute(), tags={GROUP_TAG: GROUP}))

    # Then the alarm's actions would run again, and so does the rollback
    assert result["outcome"] == "ROLLBACK_STARTED"


def _ended_mute(rule: str = "last-night") -> dict[str, str]:
    """A muteDetail whose window ended an hour ago (the event is handled late, say after retries)."""
    now = datetime.now(UTC)
    return {
        "mutedByArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:{rule}",
        "muteWindowStart": cloudwatch_time(now - timedelta(hours=3)),
        "muteWindowEnd": cloudwatch_time(now - timedelta(hours=1)),
    }


def test_a_late_muted_event_whose_alarm_recovered_does_not_act(world: World) -> None:
    # Given a refresh, and an alarm that went to ALARM while muted and back to OK before its window ended
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, state="OK", at=at + timedelta(minutes=1))

    # When the muted ALARM event is handled after the window ended
    result = invoke(alarm_event("web-prod-5xx", at=at, mute_detail=_ended_mute(), tags={GROUP_TAG: GROUP}))

    # Then nothing happens: CloudWatch runs held-back actions only for an alarm still in ALARM
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "not-alarm-state")
    assert "now OK" in result["summary"]
    assert world.mutating_calls() == []


def test_a_late_muted_event_whose_alarm_another_rule_mutes_now_does_not_act(world: World) -> None:
    # Given an alarm in ALARM, muted when it fired by a window that has ended, and muted now by another rule
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=at)
    _maintenance(world, "web-prod-5xx", name="second-window")

    # When the late event is handled
    result = invoke(alarm_event("web-prod-5xx", at=at, mute_detail=_ended_mute(), tags={GROUP_TAG: GROUP}))

    # Then the rule muting it now holds it back, and is named
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "alarm-muted")
    assert result["details"]["mutedBy"]["ruleName"] == "second-window"
    assert world.mutating_calls() == []


@pytest.mark.parametrize(("setting", "outcome"), [("ignore", "SKIPPED"), ("rollback", "ROLLBACK_STARTED")])
def test_an_unreadable_mute_detail_mutes_unless_the_operator_acts_on_muted_alarms(
    configure: Any, setting: str, outcome: str
) -> None:
    # Given a muted alarm event whose muteDetail drifted from the documented shape
    world = configure(MUTED_ALARM_ACTION=setting)
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=at)
    event = alarm_event("web-prod-5xx", at=at, tags={GROUP_TAG: GROUP})
    event["detail"]["muteDetail"] = {"mutedBy": "maintenance"}

    # When it is handled
    result = invoke(event)

    # Then it is neither refused nor taken as unmuted: muted, with the problem named, unless muted alarms act anyway
    assert result["outcome"] == outcome
    assert "mutedByArn" in result["details"]["mutedBy"]["problem"]


@pytest.mark.parametrize("kind", ["Alarm", "WaitPeriod", "ExtensionPeriod"])
def test_a_composite_alarm_whose_actions_are_suppressed_does_not_roll_back(configure: Any, kind: str) -> None:
    # Given a deployment that acts even on muted alarms, and a composite alarm whose actions CloudWatch suppresses
    world = configure(MUTED_ALARM_ACTION="rollback")
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    event = alarm_event(
        "web-prod-health",
        at=at,
        composite=True,
        tags={GROUP_TAG: GROUP},
        suppressed_by=kind,
        suppressed_reason=f"Actions suppressed by {kind}",
    )

    # When its state change arrives
    result = invoke(event)

    # Then suppression holds whatever the mute setting: nothing is changed, and the kind is named
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "alarm-actions-suppressed")
    assert result["details"]["actionsSuppressedBy"] == kind
    assert world.mutating_calls() == []


def test_a_log_alarm_event_rolls_back_like_any_alarm(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet(GROUP))
    at = world.refresh_started_at() + timedelta(seconds=30)
    make_log_alarm(world.cloudwatch, "web-prod errors in logs", group=GROUP, at=at)
    result = invoke(alarm_event("web-prod errors in logs", at=at, log_alarm=True))
    assert result["outcome"] == "ROLLBACK_STARTED"


# --- checkpoints, baking and evaluate -------------------------------------------------------------------------


def test_a_checkpoint_passes_over_a_muted_alarm_and_says_so(world: World) -> None:
    # Given a refresh whose only linked alarm entered ALARM after it started, and is muted
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP))
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=world.refresh_started_at() + timedelta(seconds=5))
    _maintenance(world, "web-prod-5xx")

    # When the refresh reaches a checkpoint
    result = invoke(refresh_event("checkpoint-reached", GROUP, refresh_id))

    # Then the refresh goes on, and the muted alarm is named with its rule
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "alarm-muted")
    (silenced,) = result["details"]["silencedAlarms"]
    assert silenced["alarmName"] == "web-prod-5xx"
    assert silenced["mutedBy"]["ruleName"] == "patch-tuesday"
    assert world.mutating_calls() == []


def test_a_checkpoint_acts_on_an_unmuted_alarm_after_passing_over_a_muted_one(world: World) -> None:
    # Given a prefix-linked alarm that is muted and a tag-linked one that is not, both in ALARM since the start
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP, tags={"auto-rollback:alarm-prefix": "web-prod-"}))
    since = world.refresh_started_at() + timedelta(seconds=5)
    make_alarm(world.cloudwatch, "web-prod-5xx", at=since)
    make_alarm(world.cloudwatch, "latency p99", group=GROUP, at=since)
    _maintenance(world, "web-prod-5xx")

    # When the refresh starts baking
    result = invoke(refresh_event("started-baking", GROUP, refresh_id))

    # Then the unmuted alarm rolls it back, and the muted one is named as passed over
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["details"]["firingAlarm"]["alarmName"] == "latency p99"
    assert [entry["alarmName"] for entry in result["details"]["silencedAlarms"]] == ["web-prod-5xx"]
    assert len(world.rollback_calls(GROUP)) == 1


def test_when_the_mute_is_lifted_the_next_checkpoint_rolls_back(world: World) -> None:
    # Given a muted alarm that kept the refresh going at its first checkpoint
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP))
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=world.refresh_started_at() + timedelta(seconds=5))
    _maintenance(world, "web-prod-5xx")
    assert invoke(refresh_event("checkpoint-reached", GROUP, refresh_id))["reason"] == "alarm-muted"

    # When the operator deletes the mute rule and the next checkpoint comes
    world.cloudwatch.delete_alarm_mute_rule(AlarmMuteRuleName="patch-tuesday")
    result = invoke(refresh_event("checkpoint-reached", GROUP, refresh_id, event_id="second-checkpoint"))

    # Then the alarm, still in ALARM, rolls the refresh back
    assert result["outcome"] == "ROLLBACK_STARTED"


def test_a_suppressed_composite_is_passed_over_until_its_suppressor_clears(world: World) -> None:
    # Given a refresh that started an hour ago, and a composite alarm linked to its group in ALARM since
    # five seconds after that, held back by a suppressor alarm ("maintenance in progress") in ALARM since before
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP), at=started)
    make_alarm(world.cloudwatch, "maintenance", at=started - timedelta(minutes=30))
    make_alarm(world.cloudwatch, "web-prod-5xx", at=started + timedelta(seconds=5))
    make_composite_alarm(
        world.cloudwatch,
        "web-prod-health",
        rule="ALARM(web-prod-5xx)",
        group=GROUP,
        suppressor="maintenance",
        at=started + timedelta(seconds=5),
    )

    # When the refresh reaches a checkpoint
    first = invoke(refresh_event("checkpoint-reached", GROUP, refresh_id))

    # Then the composite is passed over, with the suppression named, and checked with no extra call
    assert (first["outcome"], first["reason"]) == ("SKIPPED", "alarm-actions-suppressed")
    assert first["details"]["silencedAlarms"][0]["actionsSuppressedBy"] == "Alarm"

    # When the suppressor went OK ten minutes into the refresh (its extension period, 180 s, long over)
    # and the refresh starts baking
    cloudwatch_api.set_state("maintenance", "OK", transitioned_at=started + timedelta(minutes=10))
    second = invoke(refresh_event("started-baking", GROUP, refresh_id))

    # Then the composite, no longer suppressed, rolls the refresh back
    assert second["outcome"] == "ROLLBACK_STARTED"
    assert second["details"]["firingAlarm"]["alarmName"] == "web-prod-health"


def test_a_checkpoint_finds_a_log_alarm(world: World) -> None:
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP, tags={"auto-rollback:alarm-prefix": "web-prod "}))
    make_log_alarm(world.cloudwatch, "web-prod errors in logs", at=world.refresh_started_at() + timedelta(seconds=5))
    result = invoke(refresh_event("checkpoint-reached", GROUP, refresh_id))
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert result["details"]["firingAlarm"]["alarmName"] == "web-prod errors in logs"


def test_a_prefix_linked_log_alarm_counts_for_the_started_warning(world: World) -> None:
    # Given a group whose only prefix-linked alarm is a log alarm
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP, tags={"auto-rollback:alarm-prefix": "web-prod "}))
    make_log_alarm(world.cloudwatch, "web-prod errors in logs", state="OK")
    # When the refresh starts, then no "no alarm is linked" warning is given
    result = invoke(refresh_event("started", GROUP, refresh_id))
    assert (result["outcome"], result["reason"]) == ("NOTIFIED", "refresh-started")
    assert "details" not in result


def test_a_mute_that_cannot_be_read_fails_the_checkpoint_rather_than_guess(world: World) -> None:
    # Given a linked alarm in ALARM, and ListAlarmMuteRules denied
    refresh_id = start_refresh(world.autoscaling, world.fleet(GROUP))
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=world.refresh_started_at() + timedelta(seconds=5))
    denied = Injection("cloudwatch", "ListAlarmMuteRules", FaultKind.ACCESS_DENIED, times=100)

    # When the checkpoint is handled, then it fails (Lambda retries it) and nothing is changed
    with injected(denied), pytest.raises(Exception, match="AccessDenied"):
        invoke(refresh_event("checkpoint-reached", GROUP, refresh_id))
    assert world.mutating_calls() == []


def test_evaluate_reports_a_muted_alarm_without_changing_anything(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet(GROUP))
    make_alarm(world.cloudwatch, "web-prod-5xx", group=GROUP, at=world.refresh_started_at() + timedelta(seconds=5))
    _maintenance(world, "web-prod-5xx")
    result = invoke({"action": "evaluate", "autoScalingGroupName": GROUP})
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "alarm-muted")
    assert result["details"]["silencedAlarms"][0]["mutedBy"]["ruleName"] == "patch-tuesday"
    assert world.mutating_calls() == []


# --- a storm with muted and unmuted alarms ---------------------------------------------------------------------


@pytest.mark.slow
def test_a_storm_of_muted_and_unmuted_alarms_rolls_back_each_refresh_once_and_never_for_a_mute(world: World) -> None:
    # Given six groups mid-refresh: the first three watched only by muted alarms, the others also by an unmuted one
    groups = [f"storm-{index}" for index in range(6)]
    for group in groups:
        start_refresh(world.autoscaling, world.fleet(group))
    muted = [f"{group} 5xx" for group in groups]
    unmuted = [f"{group} latency" for group in groups[3:]]
    for group in groups:
        make_alarm(
            world.cloudwatch, f"{group} 5xx", group=group, at=world.refresh_started_at(group) + timedelta(seconds=10)
        )
    _maintenance(world, *muted, name="storm-maintenance")
    events = []
    for group in groups:
        at = world.refresh_started_at(group) + timedelta(seconds=10)
        events += [_muted_event(f"{group} 5xx", at, tags={GROUP_TAG: group}) for _ in range(3)]
        refresh_id = refresh_api.refreshes(group)[0]["InstanceRefreshId"]
        events.append(refresh_event("checkpoint-reached", group, refresh_id))
        if f"{group} latency" in unmuted:
            make_alarm(world.cloudwatch, f"{group} latency", group=group, at=at)
            events += [alarm_event(f"{group} latency", at=at, tags={GROUP_TAG: group}) for _ in range(3)]
    random.Random(7).shuffle(events)

    # When they all arrive from four processes at once
    outcomes = invoke_concurrently(world.deployment.environment, events, processes=4)

    # Then no invocation failed, each refresh with an unmuted alarm was rolled back exactly once, and none other
    assert [outcome for outcome in outcomes if outcome["outcome"] in {"ERROR", "FAILED"}] == []
    assert {group: len(world.rollback_calls(group)) for group in groups} == {
        group: (1 if index >= 3 else 0) for index, group in enumerate(groups)
    }
    started = [outcome for outcome in outcomes if outcome["outcome"] == "ROLLBACK_STARTED"]
    acted_on = [
        outcome["trigger"].get("alarmName") or outcome["details"]["firingAlarm"]["alarmName"] for outcome in started
    ]
    assert len(started) == 3
    assert all(name.endswith(" latency") for name in acted_on), acted_on
