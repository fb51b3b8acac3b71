"""``make invoke``: one event file through the deployed stack, onto a fleet mid-refresh.

``--restamp`` moves a copied event's times to now, so an alarm does not predate the
refresh the emulator starts (and a muted event stays muted).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from devkit.scenarios.events import cloudwatch_time
from devkit.template.dispatch import EventRefusedError
from scripts.demo.fleet import ALARMS, BAD, FLEET, GroupPlan, emulation
from scripts.demo.stack import DemoError, session
from scripts.demo.world import Demo


def run_event_file(path: Path, *, as_json: bool, verbose: bool, restamp: bool) -> int:
    """One event through the stack: a scheduled-looking fleet mid-refresh gives it something to act on."""
    try:
        event = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DemoError(f"cannot read the event file {path}: {error}") from None
    with session(echo=not as_json, verbose=verbose) as demo:
        demo.provision(_fleet_for(event))
        demo.timeline.scene = "invoke"
        for group in demo.templates:
            demo.start_refresh(group, BAD if group != "api-prod" else "$Latest", quiet=True)
            emulation().advance(group, "InProgress", percentage=40)
        if restamp:  # after the refreshes started, or the alarm would still predate them
            _restamp(event)
        _sync_alarm(demo, event)
        demo.timeline.say(f"every group is mid-refresh (InProgress 40%); now the event {path}", *_refresh_note(event))
        demo.begin("invoke", ())
        outcome = _invoke_one(demo, event)
        outcome["published"] = list(demo.notified)
    if as_json:
        print(json.dumps({"event": str(path), **outcome}, indent=2, default=str))
    else:
        _print_decisions(outcome["results"], restamped=restamp)
    failed = any(result["outcome"] in {"ERROR", "FAILED"} for result in outcome["results"])
    return 1 if failed or outcome.get("error") else 0


def _print_decisions(results: Sequence[dict[str, Any]], *, restamped: bool) -> None:
    for result in results:
        print("\nthe function returned:")
        print(json.dumps(result, indent=2, default=str))
    if not restamped and any(result.get("reason") == "alarm-predates-refresh" for result in results):
        print(
            "\nnote: the alarm changed state before the emulator's refresh started (a copied event is old);"
            "\n      add --restamp (make invoke EVENT=... ARGS=--restamp) to move the event's times to now."
        )


def _invoke_one(demo: Demo, event: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "action" in event:
        return {"route": "direct (manual invoke)", "matchedRules": [], "results": [demo.console(event)]}
    if not isinstance(event, dict):
        return {"route": "direct", "matchedRules": [], "results": [demo.console(event)]}
    what = f"event {event.get('detail-type', '?')} from {event.get('source', '?')}"
    try:
        deliveries = demo.bus.put(event)
    except (EventRefusedError, ClientError) as refused:
        demo.timeline.say(what, f"EventBridge refused it: {refused}")
        return {"route": "eventbridge", "matchedRules": [], "results": [], "error": str(refused)}
    if not deliveries:
        demo.timeline.say(what, "EventBridge: no rule matched -> the function would not be invoked")
    results = []
    for delivery in deliveries:
        demo.timeline.say(what, f"EventBridge: rule {delivery.rule} matched -> function")
        results.append(demo.run(delivery.event))
    return {"route": "eventbridge", "matchedRules": [d.rule for d in deliveries], "results": results}


def _fleet_for(event: Any) -> list[GroupPlan]:
    """The standard fleet, plus an opted-in group for a group the event names that it lacks."""
    fleet = list(FLEET)
    named = _group_named_in(event)
    if named and named not in {group.name for group in fleet}:
        fleet.append(GroupPlan(named, "enabled", alarms=()))
    return fleet


def _group_named_in(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
    found = event.get("detail")
    detail: dict[str, Any] = found if isinstance(found, dict) else {}
    linked = detail.get("alarmTags")
    tags: dict[str, Any] = linked if isinstance(linked, dict) else {}
    for candidate in (
        event.get("autoScalingGroupName"),
        detail.get("AutoScalingGroupName"),
        tags.get("auto-rollback:group"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _sync_alarm(demo: Demo, event: Any) -> None:
    """An alarm of the fleet named in the event is put in the event's state, as CloudWatch would show it."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        return
    name, state = detail.get("alarmName"), (detail.get("state") or {}).get("value")
    if name in ALARMS and not ALARMS[name][1].composite and state in {"OK", "ALARM", "INSUFFICIENT_DATA"}:
        demo.set_alarm(name, state)


def _refresh_note(event: Any) -> list[str]:
    """Warn when a refresh event names a refresh the emulator does not know (one from a real account)."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or "InstanceRefreshId" not in detail:
        return []
    group = detail.get("AutoScalingGroupName")
    history = emulation().refreshes(group) if isinstance(group, str) else []
    if history and history[0]["InstanceRefreshId"] != detail["InstanceRefreshId"]:
        return [
            f"note: the event names refresh {detail['InstanceRefreshId']}, the emulated {group} is running "
            f"{history[0]['InstanceRefreshId']}: the function looks the event's refresh up and will not find it"
        ]
    return []


def _restamp(event: Any) -> None:
    """Move the event's times to now: a copied event is older than any refresh the emulator starts."""
    if not isinstance(event, dict):
        return
    now = datetime.now(UTC)
    if "time" in event:
        event["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    found = event.get("detail")
    detail: dict[str, Any] = found if isinstance(found, dict) else {}
    state = detail.get("state")
    muted_at = None
    if isinstance(state, dict) and "timestamp" in state:
        with contextlib.suppress(TypeError, ValueError):
            muted_at = datetime.fromisoformat(state["timestamp"])
        state["timestamp"] = cloudwatch_time(now)
    mute = detail.get("muteDetail")
    if isinstance(mute, dict) and muted_at is not None:
        _restamp_mute(mute, muted_at, now)


def _restamp_mute(mute: dict[str, Any], muted_at: datetime, now: datetime) -> None:
    """Put the mute window around ``now``, as it was around ``muted_at``, keeping its length.

    AWS's own sample has a window years away from its state change; then the state
    change is put at the window's start, so a restamped muted event is muted now.
    """
    try:
        start = datetime.fromisoformat(mute["muteWindowStart"])
        end = datetime.fromisoformat(mute["muteWindowEnd"])
    except (KeyError, TypeError, ValueError):
        return
    into = muted_at - start if start <= muted_at < end else timedelta(0)
    mute["muteWindowStart"] = cloudwatch_time(now - into)
    mute["muteWindowEnd"] = cloudwatch_time(now - into + (end - start))
