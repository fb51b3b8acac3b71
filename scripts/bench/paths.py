"""Section 1 of ``make bench``: the AWS calls each kind of event makes before the rollback call.

Targets (issue 10, "Large accounts"): at most 4 calls before RollbackInstanceRefresh
for an alarm event with alarmTags, 5 without; a checkpoint 5 when its alarm is
linked by prefix, 6 when linked by tag only, 7 when the group has both kinds of
link and the acting alarm is the tagged one. docs/PERFORMANCE.md argues the
checkpoint ones. An alarm event's reads run in parallel threads, so calls are
compared as multisets, never by their order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from auto_rollback.vocabulary import ALARM_GROUP_TAG
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.calls import ROLLBACK, CallRecorder, critical_path, tally
from devkit.scenarios.events import alarm_event, cloudwatch_time, refresh_event
from devkit.scenarios.fleet import make_alarm, make_mute_rule
from devkit.scenarios.harness import configured, invoke
from devkit.scenarios.quiet import quiet_stdout
from devkit.scenarios.world import World, fresh_world
from scripts.bench.common import Report, Row, multiset

SECTION = "1. Critical path"

#: Alarm events: the groups linked by prefix, the named group's tags and its refresh (in parallel), the lock.
MAX_CALLS_WITH_TAGS = 4
#: Without alarmTags the alarm's own tags are read too (in the first parallel round).
MAX_CALLS_OTHERWISE = 5
#: Checkpoints: the group's tags, its refresh, the prefix's alarms in ALARM, the acting alarm's mute, the lock.
MAX_CALLS_CHECKPOINT = 5
#: Linked by tag only: the tagged alarms (GetResources) and their states (DescribeAlarms) instead of the prefix's.
MAX_CALLS_CHECKPOINT_BY_TAG = 6
#: Both links, the acting alarm tagged: the prefix's alarms are asked for first, and none acts.
MAX_CALLS_CHECKPOINT_BOTH = 7


@dataclass(frozen=True)
class Scenario:
    """One event on the way to a rollback, and the most calls allowed before the rollback call."""

    key: str
    title: str
    limit: int
    prepare: Callable[[World], dict[str, Any]]


def _alarm_with_tags(aws: World) -> dict[str, Any]:
    aws.fresh_refresh(aws.fleet("cp-tags"))
    return alarm_event("cp-tags-5xx", tags={ALARM_GROUP_TAG: "cp-tags"})


def _alarm_without_tags(aws: World) -> dict[str, Any]:
    aws.fresh_refresh(aws.fleet("cp-lookup"))
    make_alarm(aws.cloudwatch, "cp-lookup-5xx", group="cp-lookup")
    return alarm_event("cp-lookup-5xx")


def _composite_with_tags(aws: World) -> dict[str, Any]:
    # moto has no PutCompositeAlarm: the composite alarm exists only in its event.
    aws.fresh_refresh(aws.fleet("cp-composite"))
    return alarm_event("cp-composite health", composite=True, tags={ALARM_GROUP_TAG: "cp-composite"})


def _composite_by_prefix(aws: World) -> dict[str, Any]:
    aws.fresh_refresh(aws.fleet("cp-composite-prefix", prefix="cp-composite-prefix "))
    return alarm_event("cp-composite-prefix health", composite=True)


def _checkpoint_by_prefix(aws: World) -> dict[str, Any]:
    fleet = aws.fleet("cp-checkpoint", prefix="cp-checkpoint ")
    refresh_id = aws.fresh_refresh(fleet)
    make_alarm(aws.cloudwatch, "cp-checkpoint 5xx")  # goes to ALARM after the refresh started
    return refresh_event("checkpoint-reached", fleet.group_name, refresh_id)


def _checkpoint_by_tag(aws: World) -> dict[str, Any]:
    fleet = aws.fleet("cp-checkpoint-tag")
    refresh_id = aws.fresh_refresh(fleet)
    make_alarm(aws.cloudwatch, "latency-high", group="cp-checkpoint-tag")
    return refresh_event("checkpoint-reached", fleet.group_name, refresh_id)


def _checkpoint_both_links(aws: World) -> dict[str, Any]:
    fleet = aws.fleet("cp-both", prefix="cp-both ")
    refresh_id = aws.fresh_refresh(fleet)
    make_alarm(aws.cloudwatch, "latency-both", group="cp-both")  # outside the prefix: found by its tag
    return refresh_event("checkpoint-reached", fleet.group_name, refresh_id)


def _checkpoint_past_a_mute(aws: World) -> dict[str, Any]:
    fleet = aws.fleet("cp-muted", prefix="cp-muted ")
    refresh_id = aws.fresh_refresh(fleet)
    make_alarm(aws.cloudwatch, "cp-muted 5xx")  # muted: passed over
    make_alarm(aws.cloudwatch, "cp-muted latency")  # not muted: rolls back
    # A window that started an hour ago and lasts four: active whenever the bench runs.
    make_mute_rule(aws.cloudwatch, "maintenance", ["cp-muted 5xx"], start=datetime.now(UTC) - timedelta(hours=1))
    return refresh_event("checkpoint-reached", fleet.group_name, refresh_id)


SCENARIOS = (
    Scenario("alarm-tags", "Alarm event with alarmTags", MAX_CALLS_WITH_TAGS, _alarm_with_tags),
    Scenario("alarm-lookup", "Alarm event without alarmTags", MAX_CALLS_OTHERWISE, _alarm_without_tags),
    Scenario("composite-tags", "Composite alarm event with alarmTags", MAX_CALLS_WITH_TAGS, _composite_with_tags),
    Scenario("composite-prefix", "Composite alarm event, linked by prefix", MAX_CALLS_OTHERWISE, _composite_by_prefix),
    Scenario(
        "checkpoint-prefix", "Checkpoint Reached, alarm linked by prefix", MAX_CALLS_CHECKPOINT, _checkpoint_by_prefix
    ),
    Scenario(
        "checkpoint-tag",
        "Checkpoint Reached, alarm linked by tag only",
        MAX_CALLS_CHECKPOINT_BY_TAG,
        _checkpoint_by_tag,
    ),
    Scenario(
        "checkpoint-both",
        "Checkpoint Reached, group with both links, acting alarm linked by tag",
        MAX_CALLS_CHECKPOINT_BOTH,
        _checkpoint_both_links,
    ),
    Scenario(
        "checkpoint-muted",
        "Checkpoint Reached, a muted alarm passed over for an unmuted one",
        # One more mute look-up for each held-back alarm examined first.
        MAX_CALLS_CHECKPOINT + 1,
        _checkpoint_past_a_mute,
    ),
)


def _muted_alarm_event(aws: World) -> dict[str, Any]:
    aws.fresh_refresh(aws.fleet("cp-mute-event"))
    now = datetime.now(UTC)
    mute = {
        "mutedByArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:maintenance",
        "muteWindowStart": cloudwatch_time(now - timedelta(hours=1)),
        "muteWindowEnd": cloudwatch_time(now + timedelta(hours=3)),
    }
    return alarm_event("cp-mute-event-5xx", tags={ALARM_GROUP_TAG: "cp-mute-event"}, mute_detail=mute)


def _suppressed_alarm_event(aws: World) -> dict[str, Any]:
    aws.fresh_refresh(aws.fleet("cp-suppressed"))
    return alarm_event(
        "cp-suppressed health",
        composite=True,
        tags={ALARM_GROUP_TAG: "cp-suppressed"},
        suppressed_by="Alarm",
        suppressed_reason="Actions suppressed by Alarm",
    )


#: Alarm events CloudWatch's own controls hold back: decided from the event alone.
HELD_BACK = (
    ("Muted alarm event (muteDetail)", _muted_alarm_event),
    ("Suppressed composite alarm event (actionsSuppressedBy)", _suppressed_alarm_event),
)


def measure_critical_paths(emulator: AwsEmulator, recorder: CallRecorder, report: Report) -> None:
    """Each scenario in a fresh emulator, its calls counted from the event to the rollback call."""
    for scenario in SCENARIOS:
        deployment, aws = fresh_world(emulator, "cp")
        event = scenario.prepare(aws)
        with configured(deployment.environment), quiet_stdout(), recorder.recording() as calls:
            result = invoke(event)
        before = critical_path(calls)
        rolled_back = len(before) < len(calls)
        report.critical_paths[scenario.key] = {
            "title": scenario.title,
            "outcome": result["outcome"],
            "before_rollback": len(before) if rolled_back else None,
            # A multiset: the reads run in parallel threads and are recorded in no fixed order.
            "before": tally(before),
            "parallel": any(call.parallel for call in before),
            # After the rollback call everything runs on the invoking thread, in a fixed order.
            "after": [call.name for call in calls[len(before) + 1 :]] if rolled_back else [],
            "calls": [call.name for call in calls],
            "limit": scenario.limit,
        }
        figure = f"{len(before)} calls" if rolled_back else f"no rollback ({result['outcome']})"
        report.rows.append(
            Row(
                SECTION,
                scenario.title,
                figure,
                f"≤ {scenario.limit} before the rollback call",
                rolled_back and len(before) <= scenario.limit,
            )
        )
    for title, prepare in HELD_BACK:
        deployment, aws = fresh_world(emulator, "cp")
        event = prepare(aws)
        with configured(deployment.environment), quiet_stdout(), recorder.recording() as calls:
            result = invoke(event)
        report.figures.setdefault("held_back_calls", {})[title] = len(calls)
        report.rows.append(
            Row(
                SECTION,
                f"{title}: AWS calls made",
                f"{len(calls)} calls ({result['outcome']} {result['reason']})",
                "0",
                not calls and result["outcome"] == "SKIPPED",
            )
        )
    waiting = all(
        not any(name.startswith(("sns:", "monitoring:")) for name in path["before"])
        for path in report.critical_paths.values()
    )
    report.rows.append(
        Row(
            SECTION,
            "Notification publish before the rollback call",
            "never" if waiting else "in some scenario",
            "never",
            waiting,
        )
    )


def render_calls(report: Report) -> list[str]:
    """The calls of each scenario, those before the rollback call as a multiset (their order is not fixed)."""
    lines = [
        "AWS calls per scenario: those before RollbackInstanceRefresh as a multiset (reads made in parallel "
        "come in no fixed order), then those after it, in order:",
        "",
    ]
    for path in report.critical_paths.values():
        shown = multiset(path["before"]) + (" (reads run in parallel)" if path["parallel"] else "")
        if path["before_rollback"] is None:
            lines.append(f"- {path['title']}: {shown}; no rollback ({path['outcome']})")
            continue
        lines.append(f"- {path['title']}: {shown} **→ {ROLLBACK}**; then {', '.join(path['after'])}")
    return lines
