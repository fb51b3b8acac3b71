"""The two sides of sections 2, 3 and 5: the function, and boto3 making the same calls directly.

Two opted-in groups with alarms tagged to them: the handler serves one; its calls,
recorded once, are replayed for the other (another group, another refresh, fresh
idempotency keys) as the baseline no correct design can beat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.calls import Call, CallRecorder
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import Fleet, make_alarm
from devkit.scenarios.harness import Deployment, configured, invoke
from devkit.scenarios.quiet import quiet_stdout
from devkit.scenarios.world import World, fresh_world


def _id_values(calls: Sequence[Call]) -> set[str]:
    """The idempotency record keys written or updated by the calls (the table's ``id``)."""
    ids: set[str] = set()
    for call in calls:
        for member in ("Item", "Key"):
            value = call.params.get(member, {}).get("id", {}).get("S")
            if value:
                ids.add(value)
    return ids


def substitute(calls: Sequence[Call], replace: Mapping[str, str], id_suffix: str) -> list[Call]:
    """The same calls, for another group and refresh, with fresh idempotency keys."""
    exact = {value: value + id_suffix for value in _id_values(calls)}

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            if value in exact:
                return exact[value]
            for old, new in replace.items():
                value = value.replace(old, new)
            return value
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return [Call(call.service, call.operation, walk(call.params)) for call in calls]


@dataclass
class Sides:
    """The two groups of the overhead and cold-start measurements: one per side."""

    deployment: Deployment
    aws: World
    handler: Fleet
    direct: Fleet
    template: list[Call]
    template_refresh: str

    def handler_event(self) -> dict[str, Any]:
        self.aws.fresh_refresh(self.handler)
        return alarm_event(f"{self.handler.group_name}-5xx")

    def direct_calls(self, tag: str) -> list[Call]:
        refresh_id = self.aws.fresh_refresh(self.direct)
        replace = {self.handler.group_name: self.direct.group_name, self.template_refresh: refresh_id}
        return substitute(self.template, replace, f"#direct-{tag}")


def prepare_sides(emulator: AwsEmulator, recorder: CallRecorder) -> Sides:
    """Two opted-in groups with alarms tagged to them; the handler's calls for one, recorded."""
    deployment, aws = fresh_world(emulator, "bench")
    handler, direct = aws.fleet("bench-handler"), aws.fleet("bench-direct")
    make_alarm(aws.cloudwatch, "bench-handler-5xx", group="bench-handler")
    make_alarm(aws.cloudwatch, "bench-direct-5xx", group="bench-direct")
    sides = Sides(deployment, aws, handler, direct, [], "")
    with configured(deployment.environment):
        event = sides.handler_event()
        refresh_id = refresh_api.refreshes(handler.group_name)[0]["InstanceRefreshId"]
        with quiet_stdout(), recorder.recording() as calls:
            outcome = invoke(event)["outcome"]
    if outcome != "ROLLBACK_STARTED":
        raise RuntimeError(f"the overhead scenario did not roll back: {outcome}")
    sides.template, sides.template_refresh = list(calls), refresh_id
    return sides
