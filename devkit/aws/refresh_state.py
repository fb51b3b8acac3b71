"""The instance-refresh emulation's records, and where they live.

Refreshes are kept on the autoscaling backend object of each account and region, so
moto's reset forgets them; the call log, the injected faults and the clock are
process-global (the server runs in the pytest process, on other threads) behind one
lock. Times are whole seconds, as AWS returns them.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"

START = "StartInstanceRefresh"
DESCRIBE = "DescribeInstanceRefreshes"
CANCEL = "CancelInstanceRefresh"
ROLLBACK = "RollbackInstanceRefresh"
ACTIONS = (START, DESCRIBE, CANCEL, ROLLBACK)

STATUSES = frozenset(
    {
        "Pending",
        "InProgress",
        "Successful",
        "Failed",
        "Cancelling",
        "Cancelled",
        "RollbackInProgress",
        "RollbackFailed",
        "RollbackSuccessful",
        "Baking",
    }
)
#: A refresh in one of these blocks StartInstanceRefresh.
ACTIVE_STATUSES = frozenset({"Pending", "InProgress", "Baking", "Cancelling", "RollbackInProgress"})
#: CancelInstanceRefresh accepts a refresh or a rollback that is still running.
CANCELLABLE_STATUSES = frozenset({"Pending", "InProgress", "Baking", "RollbackInProgress"})
#: RollbackInstanceRefresh only reverses a refresh that is still going forward.
ROLLBACKABLE_STATUSES = frozenset({"Pending", "InProgress", "Baking"})
TERMINAL_STATUSES = frozenset({"Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"})
ROLLBACK_STATUSES = frozenset({"RollbackInProgress", "RollbackSuccessful", "RollbackFailed"})

#: The one status at which the group takes the refresh's desired configuration. AWS documents:
#: * StartInstanceRefresh.DesiredConfiguration: "Once the instance refresh succeeds, Amazon EC2 Auto
#:   Scaling updates the settings of the Auto Scaling group to reflect the new desired configuration."
#:   So nothing changes at Pending, InProgress or Baking ("Waiting the specified bake time after an
#:   instance refresh has finished updating instances": finished updating is not succeeded).
#: * Failed and Cancelled: the refresh never succeeded, so the settings were never updated.
#:   CancelInstanceRefresh "does not roll back any changes that it made": the instances it already
#:   replaced stay replaced; the group's settings had not changed.
#: * RollbackInProgress / RollbackSuccessful / RollbackFailed: RollbackInstanceRefresh "restores your
#:   Auto Scaling group to the configuration that it was using before the start of the instance
#:   refresh"; the user guide ("Undo changes with a manual or auto rollback") says the new instances
#:   "match the configuration that you last saved on the Auto Scaling group before starting the
#:   instance refresh", and a finished refresh can no longer be rolled back.
CONFIGURATION_ON_SUCCESS = "Successful"

#: DescribeInstanceRefreshes' MaxRecords: "The default value is 50 and the maximum value is 100" (API reference).
DEFAULT_MAX_RECORDS = 50
MAX_MAX_RECORDS = 100

API_ROLLBACK_REASON = "Rollback requested via RollbackInstanceRefresh API"
DEFAULT_ROLLBACK_REASON = "Rollback started because an alarm went into ALARM state"
CANCEL_REASON = "Cancelled due to user request."

_STATE_ATTRIBUTE = "_emulated_instance_refreshes"
LOCK = threading.RLock()


# --------------------------------------------------------------------------- model


@dataclass
class Rollback:
    reason: str
    start_time: datetime
    #: Instances to replace back when the rollback started (those already replaced).
    instances_total: int
    instances_to_update: int
    percentage_complete: int = 0


@dataclass
class Refresh:
    """One instance refresh, as the emulation keeps it (wire form: :meth:`to_wire`)."""

    refresh_id: str
    group_name: str
    strategy: str
    start_time: datetime
    instances_total: int
    preferences: dict[str, Any] | None
    desired_configuration: dict[str, Any] | None
    #: The group's launch template (or mixed instances policy) before the refresh: what it keeps
    #: until the refresh succeeds, and what a rollback restores.
    previous_configuration: dict[str, Any]
    status: str = "Pending"
    status_reason: str | None = None
    end_time: datetime | None = None
    percentage_complete: int = 0
    instances_to_update: int = 0
    rollback: Rollback | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``InstanceRefresh`` structure, leaving out members that have no value."""
        wire: dict[str, Any] = {
            "InstanceRefreshId": self.refresh_id,
            "AutoScalingGroupName": self.group_name,
            "Status": self.status,
            "StatusReason": self.status_reason,
            "StartTime": self.start_time,
            "EndTime": self.end_time,
            "PercentageComplete": self.percentage_complete,
            "InstancesToUpdate": self.instances_to_update,
            "ProgressDetails": _progress(self.percentage_complete, self.instances_to_update),
            "Preferences": copy.deepcopy(self.preferences),
            "DesiredConfiguration": copy.deepcopy(self.desired_configuration),
            "Strategy": self.strategy,
        }
        if self.rollback is not None:
            wire["RollbackDetails"] = {
                "RollbackReason": self.rollback.reason,
                "RollbackStartTime": self.rollback.start_time,
                "PercentageCompleteOnRollback": self.rollback.percentage_complete,
                "InstancesToUpdateOnRollback": self.rollback.instances_to_update,
                "ProgressDetailsOnRollback": _progress(
                    self.rollback.percentage_complete, self.rollback.instances_to_update
                ),
            }
        return {key: value for key, value in wire.items() if value not in (None, {})}


def _progress(percentage: int, instances: int) -> dict[str, Any]:
    # Groups in this emulation have no warm pool, so only the live pool progresses.
    return {"LivePoolProgress": {"PercentageComplete": percentage, "InstancesToUpdate": instances}}


@dataclass(frozen=True)
class CallRecord:
    """One instance-refresh API call that reached the server."""

    action: str
    group_name: str | None
    at: datetime
    #: The AWS error code the call failed with, or None when it succeeded.
    error_code: str | None = None
    refresh_id: str | None = None
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass
class Fault:
    error_code: str
    remaining: int
    message: str | None = None
    group_name: str | None = None  # None: any group


@dataclass
class _ProcessState:
    calls: list[CallRecord] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    #: The time the emulation stamps instead of the wall clock's (set_clock), or None.
    clock: datetime | None = None


PROCESS = _ProcessState()

# --------------------------------------------------------------------------- state


def refreshes_by_group(backend: AutoScalingBackend) -> dict[str, list[Refresh]]:
    """Refreshes per group, oldest first, created on first use on the backend object."""
    state: dict[str, list[Refresh]] | None = backend.__dict__.get(_STATE_ATTRIBUTE)
    if state is None:
        state = {}
        setattr(backend, _STATE_ATTRIBUTE, state)
    return state


def find_group(backend: AutoScalingBackend, group_name: str) -> FakeAutoScalingGroup:
    group = backend.autoscaling_groups.get(group_name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {group_name} not found")
    return group


def latest_refresh(backend: AutoScalingBackend, group_name: str) -> Refresh | None:
    history = refreshes_by_group(backend).get(group_name, [])
    return history[-1] if history else None


def aws_now() -> datetime:
    """The time AWS would stamp now: the test's clock if set, else the wall clock; whole seconds."""
    return whole_seconds(PROCESS.clock or datetime.now(UTC))


def whole_seconds(moment: datetime) -> datetime:
    # AWS returns instance-refresh times without fractions of a second; keeping microseconds would
    # make "did the alarm fire before the refresh started" depend on sub-millisecond luck.
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; AWS times are absolute (use datetime.now(UTC))")
    return moment.astimezone(UTC).replace(microsecond=0)
