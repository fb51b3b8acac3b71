"""The scenarios the demo plays, each with what it expects to observe."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from devkit.scenarios.events import sample
from devkit.scenarios.harness import invoke_concurrently
from scripts.demo.fleet import BAD, FLEET, GOOD, emulation
from scripts.demo.report import Observation, decision, tally
from scripts.demo.stack import DemoError
from scripts.demo.world import Demo, call_function, lifecycle_event

STORM_PROCESSES = 3


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    groups: tuple[str, ...]
    expected: Observation
    play: Callable[[Demo], str]


def good_refresh(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", GOOD)
    demo.progress("web-prod", "InProgress", 50)
    [checkpoint] = demo.refresh_event("checkpoint-reached", "web-prod", refresh)
    demo.progress("web-prod", "Successful")
    demo.refresh_event("succeeded", "web-prod", refresh)
    return decision(checkpoint)


def bad_refresh(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 40)
    [result] = demo.fire_alarm("web-prod-5xx")
    demo.timeline.say(
        f"web-prod: AWS replaces the new instances with v{demo.group_version('web-prod')} again "
        "(the group's own template, which AWS changes only when a refresh succeeds)"
    )
    demo.refresh_event("rollback-started", "web-prod", refresh)
    demo.progress("web-prod", "RollbackSuccessful")
    demo.refresh_event("rollback-succeeded", "web-prod", refresh)
    demo.fire_alarm("web-prod-5xx", "OK")
    return decision(result)


def alarm_storm(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 30)
    names = [alarm.name for alarm in FLEET[0].alarms]
    events = [demo.alarm_event(name) for name in names]
    # Each state change is put twice (a producer retrying), and EventBridge, which
    # delivers at least once, hands two of them over a second time, id and all.
    deliveries = [delivery for event in events * 2 for delivery in demo.bus.put(event)]
    deliveries += deliveries[:2]
    demo.timeline.say(
        f"{len(names)} alarms fire at once: {', '.join(names)}",
        f"each event put twice, 2 delivered twice more: {len(deliveries)} deliveries by the rules",
        f"-> {STORM_PROCESSES} concurrent Lambda containers (processes)",
    )
    results = invoke_concurrently(
        demo.stack.environment,
        [delivery.event for delivery in deliveries],
        processes=STORM_PROCESSES,
        timeout_seconds=demo.stack.timeout_seconds,
        quiet=demo.quiet,
    )
    tallied = tally([result["outcome"] for result in results], ones=True)
    # An invocation that raised has its error instead of a reason.
    others = [result for result in results if result["outcome"] != "ROLLBACK_STARTED"]
    reasons = tally([str(result.get("reason", result.get("error"))) for result in others])
    demo.report({"outcome": tallied, "summary": f"the others found it done or under way: {reasons}"})
    for event in (lifecycle_event("rollback-started", "web-prod", refresh),) * 2:
        demo.send(event, "event  EC2 Auto Scaling Instance Refresh Rollback Started (delivered twice)")
    return tallied


def latest_refresh(demo: Demo) -> str:
    refresh = demo.start_refresh("api-prod", "$Latest")
    demo.progress("api-prod", "InProgress", 25)
    [result] = demo.fire_alarm("api-prod 5xx")
    demo.progress("api-prod", "Cancelled")
    demo.refresh_event("cancelled", "api-prod", refresh)
    return decision(result)


def dry_run_group(demo: Demo) -> str:
    demo.start_refresh("batch-staging", BAD)
    demo.progress("batch-staging", "InProgress", 50)
    [result] = demo.fire_alarm("batch-staging-errors")
    status = emulation().refreshes("batch-staging")[0]["Status"]
    demo.timeline.say(f"batch-staging: refresh still {status}: nothing was changed, operators were told")
    return decision(result)


def disabled_group(demo: Demo) -> str:
    demo.start_refresh("legacy-prod", BAD)
    demo.progress("legacy-prod", "InProgress", 50)
    [result] = demo.fire_alarm("legacy-prod-errors")
    return decision(result)


def maintenance_mute(demo: Demo) -> str:
    web = demo.start_refresh("web-prod", BAD)
    demo.start_refresh("api-prod", BAD)
    demo.progress("web-prod", "InProgress", 40)
    demo.progress("api-prod", "InProgress", 40)
    demo.mute("web-prod maintenance", ["web-prod-5xx"])
    try:
        [muted] = demo.fire_alarm("web-prod-5xx")
        [acted] = demo.fire_alarm("api-prod 5xx")
        [checkpoint] = demo.refresh_event("checkpoint-reached", "web-prod", web)
        status = emulation().refreshes("web-prod")[0]["Status"]
        demo.timeline.say(
            f"web-prod: refresh still {status}: the muted alarm is held back, at the checkpoint too "
            "(logged, not published: the mute says do not page)",
            f"api-prod: rolled back to v{demo.group_version('api-prod')}: its alarm is not muted",
        )
    finally:
        demo.unmute("web-prod maintenance")
    return f"{decision(muted)}; {decision(acted)}; checkpoint {decision(checkpoint)}"


def manual_evaluate(demo: Demo) -> str:
    demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 20)
    demo.set_alarm("web-prod latency-p99", "ALARM")
    demo.timeline.say(
        "alarm web-prod latency-p99 -> ALARM in CloudWatch, but its event never reaches the function",
        "(say the rule was being redeployed): the operator asks the function what it would do",
    )
    result = demo.console(sample("manual-evaluate.json"))
    return decision(result)


def manual_rollback(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 60)
    result = demo.console(sample("manual-rollback.json"))
    demo.refresh_event("rollback-started", "web-prod", refresh)
    return decision(result)


def fleet_inventory(demo: Demo) -> str:
    """The operator's view of the whole fleet: one read-only invoke, nothing published."""
    event = sample("manual-inventory.json")
    demo.timeline.say(f"operator console invoke {json.dumps(event)}")
    answer = call_function(event, demo.stack.timeout_seconds, quiet=demo.quiet)
    counts = answer.get("summary")
    if not isinstance(counts, dict):
        raise DemoError(f"the inventory answered {answer.get('outcome')}: {answer.get('summary')}")
    rows = [
        f"{group['group']:<14} {group['mode']:<9} "
        f"{'can roll back now' if group['canRollBack'] else 'cannot: ' + str(group['reason']):<34} "
        f"alarms {group['alarms']['linked']} {_states(group['alarms']['states'])}"
        for group in answer["groups"]
    ]
    demo.timeline.say(
        f"-> inventory: {counts['groups']} groups, {counts['groupsWithWarnings']} with warnings, "
        f"complete={answer['complete']}",
        *rows,
        *(f"warning: {warning}" for warning in answer["warnings"]),
    )
    return (
        f"INVENTORY {counts['groups']} groups: {counts['enabled']} enabled, {counts['dryRun']} dry-run, "
        f"{counts['notProtected']} not protected"
    )


def _states(states: dict[str, int]) -> str:
    return ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "-"


NOTIFIED = "NOTIFIED"
SCENARIOS = (
    Scenario(
        "good-refresh",
        "a good release completes: no rollback, lifecycle notifications only",
        ("web-prod",),
        Observation("SKIPPED (no-linked-alarm-in-alarm)", 0, 0, (NOTIFIED, NOTIFIED)),
        good_refresh,
    ),
    Scenario(
        "bad-refresh",
        "a bad release: an alarm fires, the function rolls back and tells operators",
        ("web-prod",),
        Observation("ROLLBACK_STARTED (alarm)", 1, 0, (NOTIFIED, NOTIFIED, NOTIFIED, "ROLLBACK_STARTED")),
        bad_refresh,
    ),
    Scenario(
        "alarm-storm",
        "five alarms, duplicate deliveries, three containers at once: exactly one rollback",
        ("web-prod",),
        Observation("DEDUPLICATED x11, ROLLBACK_STARTED x1", 1, 0, (NOTIFIED, NOTIFIED, "ROLLBACK_STARTED")),
        alarm_storm,
    ),
    Scenario(
        "maintenance-mute",
        "a mute rule keeps one refresh running while an unmuted alarm rolls another back",
        ("web-prod", "api-prod"),
        Observation(
            "SKIPPED (alarm-muted); ROLLBACK_STARTED (alarm); checkpoint SKIPPED (alarm-muted)",
            1,
            0,
            (NOTIFIED, NOTIFIED, "ROLLBACK_STARTED"),
        ),
        maintenance_mute,
    ),
    Scenario(
        "latest-refresh",
        "a refresh to $Latest cannot be rolled back: the fallback cancels it",
        ("api-prod",),
        Observation("CANCELLED (rollback-irreversible)", 0, 1, ("CANCELLED", NOTIFIED, NOTIFIED)),
        latest_refresh,
    ),
    Scenario(
        "dry-run-group",
        "a group tagged auto-rollback=dry-run: operators learn what would have happened",
        ("batch-staging",),
        Observation("DRY_RUN (group-dry-run)", 0, 0, ("DRY_RUN", NOTIFIED)),
        dry_run_group,
    ),
    Scenario(
        "disabled-group",
        "a group tagged auto-rollback=disabled is never touched",
        ("legacy-prod",),
        Observation("SKIPPED (group-not-enabled)", 0, 0, ()),
        disabled_group,
    ),
    Scenario(
        "manual-evaluate",
        "an operator asks from the console what the function would do: nothing changes",
        ("web-prod",),
        Observation("DRY_RUN (evaluate-would-roll-back)", 0, 0, (NOTIFIED,)),
        manual_evaluate,
    ),
    Scenario(
        "manual-rollback",
        "an operator rolls back from the console, no alarm needed",
        ("web-prod",),
        Observation("ROLLBACK_STARTED (manual-request)", 1, 0, (NOTIFIED, NOTIFIED, "ROLLBACK_STARTED")),
        manual_rollback,
    ),
    Scenario(
        "fleet-inventory",
        "an operator lists the fleet: every group's protection, alarms and warnings; read-only",
        (),
        Observation("INVENTORY 4 groups: 2 enabled, 1 dry-run, 1 not protected", 0, 0, ()),
        fleet_inventory,
    ),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def run_scenario(demo: Demo, scenario: Scenario) -> dict[str, Any]:
    demo.begin(scenario.name, scenario.groups)
    demo.timeline.say(f"== {scenario.title}")
    error = None
    try:
        played = scenario.play(demo)
        demo.read_inbox()
        api = emulation()
        ok_calls = [call for call in api.calls() if call.ok]
        observed: Observation | None = Observation(
            decision=played,
            rollbacks=sum(call.action == api.ROLLBACK for call in ok_calls),
            cancels=sum(call.action == api.CANCEL for call in ok_calls),
            notified=tuple(sorted(demo.notified)),
        )
    except Exception as failure:  # one broken scenario must not hide the others' results
        observed, error = None, f"{type(failure).__name__}: {failure}"
        demo.timeline.say(f"!! the scenario could not be played: {error}")
    return {
        "name": scenario.name,
        "title": scenario.title,
        "expected": asdict(scenario.expected),
        "observed": asdict(observed) if observed else None,
        "ok": observed == scenario.expected,
        "error": error,
        "timeline": demo.timeline.of(scenario.name),
    }
