"""The lab every reliability check runs in: a fresh emulator with the function deployed, and the record of a check.

Each check (fault_matrix, crashes, storm, bad_input, hub) builds what it needs
in the emulator, runs the real handler, and returns :class:`Check` records: what
was tried, what was expected, what was observed, and whether the promises held.
Nothing here patches the function.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import Fleet, make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import Deployment, LambdaContext, configured

GROUP = "web-prod"
LINK = {"auto-rollback:group": GROUP}
#: Time limit of an invocation that is made to fail: its in-progress records expire with it.
SHORT_TIMEOUT = 2.5
#: Where each scenario puts the refresh start and the alarms, relative to one clock reading: the
#: refresh started ten minutes ago, the alarms fired five minutes later. Nothing depends on which of
#: two clock readings came first, or on how long the machine took between them.
REFRESH_AGE = timedelta(minutes=10)
ALARM_AFTER_START = timedelta(minutes=5, milliseconds=123)

#: Lambda's own retries of a failed asynchronous invocation (infra/function.py ASYNC_RETRY_ATTEMPTS).
LAMBDA_ASYNC_RETRIES = 2


@dataclass
class Stage:
    """A freshly reset emulator with the function deployed and configured in this process."""

    deployment: Deployment
    autoscaling: Any = field(default_factory=lambda: boto3.client("autoscaling"))
    cloudwatch: Any = field(default_factory=lambda: boto3.client("cloudwatch"))
    ec2: Any = field(default_factory=lambda: boto3.client("ec2"))

    def fleet(self, name: str = GROUP, *, mode: str | None = "enabled", **kwargs: Any) -> Fleet:
        tags = dict(kwargs.pop("tags", {}))
        if mode is not None:
            tags["auto-rollback"] = mode
        return make_fleet(self.ec2, self.autoscaling, name, tags=tags, **kwargs)

    #: When this stage's refreshes started (whole seconds, as AWS shows them).
    started: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - REFRESH_AGE)

    @property
    def alarm_at(self) -> datetime:
        """When this stage's alarms went to ALARM: after the refresh started, by construction."""
        return self.started + ALARM_AFTER_START

    def alarm(self, name: str, *, group: str | None = GROUP) -> None:
        make_alarm(self.cloudwatch, name, group=group, at=self.alarm_at)

    def start(self, fleet: Fleet) -> str:
        """Start a refresh of ``fleet`` at this stage's start time."""
        return start_refresh(self.autoscaling, fleet, at=self.started)

    def alarm_event(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """The state-change event of alarm ``name``, at this stage's alarm time."""
        return alarm_event(name, at=self.alarm_at, **kwargs)

    def accepted(self, group: str | None = GROUP) -> list[refresh_api.CallRecord]:
        """Rollback and cancel calls that AWS accepted (the ones that changed something)."""
        calls = [*refresh_api.calls(refresh_api.ROLLBACK, group), *refresh_api.calls(refresh_api.CANCEL, group)]
        return [call for call in calls if call.ok]

    def status(self, group: str = GROUP) -> str:
        return str(refresh_api.refreshes(group)[0]["Status"])


@contextmanager
def stage(emulator: AwsEmulator, **settings: str) -> Iterator[Stage]:
    emulator.reset()
    refresh_api.reset()
    deployment = Deployment.create(**settings)
    with configured(deployment.environment):
        yield Stage(deployment)


@dataclass
class ShortLivedContext(LambdaContext):
    """The context of an invocation that is made to fail or die: SHORT_TIMEOUT left at every reading.

    Powertools stamps an in-progress record with "now + remaining time". Lambda's own clock
    runs down, so on a slow or loaded machine a record taken late in the invocation would
    expire sooner, or (remaining 0) never, and whether a redelivery can take it over would
    depend on the machine's speed. Here it expires SHORT_TIMEOUT after it was taken, always.
    """

    timeout_seconds: float = SHORT_TIMEOUT

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_seconds * 1000)


def invoke_short(event: Any) -> dict[str, Any]:
    """Call the real handler as an invocation whose records expire SHORT_TIMEOUT after they are taken."""
    from auto_rollback.handler import lambda_handler

    result: dict[str, Any] = lambda_handler(event, ShortLivedContext())
    return result


@dataclass(frozen=True)
class Check:
    """One tried condition and whether the promises held under it."""

    family: str
    name: str
    expected: str
    observed: str
    held: bool
    faults: int = 0
