"""An emulation of the EC2 Auto Scaling instance-refresh API for moto.

moto 5.x answers none of StartInstanceRefresh, DescribeInstanceRefreshes,
CancelInstanceRefresh or RollbackInstanceRefresh. :func:`install` adds them to
moto's ``AutoScalingResponse``, so both ``mock_aws`` and ``ThreadedMotoServer``
serve them over HTTP, serialised by moto from the botocore model exactly like the
actions moto implements itself.

Where things live, and why:

* Refreshes are kept on the autoscaling backend object of each account and region
  (attribute ``_emulated_instance_refreshes``). moto's reset (``/moto-api/reset``,
  or the start of a ``mock_aws`` block) throws those objects away, so it forgets
  every refresh with them.
* The call log and the injected faults are process-global (the server runs in the
  pytest process, on other threads) behind one lock. :func:`install` hooks moto's
  reset so they are cleared with everything else; :func:`reset` clears them alone.

Behaviour follows the API reference, with these deliberate simplifications:

* A refresh never moves on its own: tests drive it with :func:`advance`.
* Times (StartTime, EndTime, RollbackStartTime) are whole seconds, as AWS returns
  them; they come from the wall clock unless a test sets them: :func:`set_clock`
  for every stamp, :func:`set_start_time` for one refresh, ``advance(..., at=)``
  for the end or rollback of one. A test that compares an alarm's time with a
  refresh's start should set both, never read the clock twice.
* The group's launch template (or mixed instances policy) changes only when the
  refresh reaches ``Successful``, as AWS documents it (see :data:`CONFIGURATION_ON_SUCCESS`):
  during Pending, InProgress, Baking and Cancelling, and after Failed, Cancelled or
  any Rollback* status, DescribeAutoScalingGroups shows the configuration the group
  had before the refresh started.
* Start, Cancel, Rollback and Describe on an unknown group raise ``ValidationError``
  ("AutoScalingGroup name not found"), as AWS answers DescribeInstanceRefreshes for a
  group that does not exist (a 400, e.g. kubernetes-sigs/cluster-api-provider-aws#4662).
* A group that uses a launch configuration cannot be rolled back (rollback needs a
  numbered launch-template version to return to).

The parts: :mod:`~devkit.aws.refresh_state` (records, call log, faults, clock),
:mod:`~devkit.aws.refresh_errors`, :mod:`~devkit.aws.refresh_templates` (the group's
launch template) and :mod:`~devkit.aws.refresh_operations` (the four actions); this
module installs them and is the control API tests drive refreshes with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.autoscaling.models import FakeAutoScalingGroup, autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.base_backend import BackendDict

from devkit.aws.patch import install_handlers
from devkit.aws.refresh_errors import COMMON_ERRORS
from devkit.aws.refresh_operations import HANDLERS, begin_rollback
from devkit.aws.refresh_state import (
    ACTIONS,
    ACTIVE_STATUSES,
    API_ROLLBACK_REASON,
    CANCEL,
    CANCEL_REASON,
    CANCELLABLE_STATUSES,
    CONFIGURATION_ON_SUCCESS,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_MAX_RECORDS,
    DEFAULT_REGION,
    DEFAULT_ROLLBACK_REASON,
    DESCRIBE,
    LOCK,
    MAX_MAX_RECORDS,
    PROCESS,
    ROLLBACK,
    ROLLBACK_STATUSES,
    ROLLBACKABLE_STATUSES,
    START,
    STATUSES,
    TERMINAL_STATUSES,
    CallRecord,
    Fault,
    Refresh,
    aws_now,
    find_group,
    latest_refresh,
    refreshes_by_group,
    whole_seconds,
)
from devkit.aws.refresh_templates import apply_configuration

#: The names tests, the harness and the tools use; the handlers are reached through moto.
__all__ = [
    "ACTIONS",
    "ACTIVE_STATUSES",
    "API_ROLLBACK_REASON",
    "CANCEL",
    "CANCELLABLE_STATUSES",
    "COMMON_ERRORS",
    "CONFIGURATION_ON_SUCCESS",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_REGION",
    "DESCRIBE",
    "MAX_MAX_RECORDS",
    "ROLLBACK",
    "ROLLBACKABLE_STATUSES",
    "ROLLBACK_STATUSES",
    "START",
    "STATUSES",
    "TERMINAL_STATUSES",
    "CallRecord",
    "advance",
    "calls",
    "clear_calls",
    "clear_faults",
    "inject_fault",
    "install",
    "refreshes",
    "reset",
    "set_clock",
    "set_start_time",
]


def install() -> None:
    """Teach moto the four instance-refresh actions (idempotent).

    Also hooks moto's reset so that it clears the call log and pending faults.
    """
    if install_handlers(AutoScalingResponse, "_instance_refresh_emulation", HANDLERS):
        _hook_moto_reset()


def _hook_moto_reset() -> None:
    # Both /moto-api/reset and mock_aws go through BackendDict.reset; refreshes go
    # with the backends it drops, the process-global call log and faults go here.
    moto_reset = BackendDict.reset

    def reset_with_emulation(cls: type[BackendDict[Any]]) -> None:
        moto_reset()
        reset()

    BackendDict.reset = classmethod(reset_with_emulation)  # type: ignore[method-assign, assignment]


# --------------------------------------------------------------------------- control API


def advance(
    group_name: str,
    status: str,
    *,
    percentage: int | None = None,
    status_reason: str | None = None,
    rollback_reason: str | None = None,
    at: datetime | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> str:
    """Move the group's latest refresh to ``status``, as AWS would over time; return its id.

    Any transition is allowed, so tests can build any history. ``percentage`` sets the
    progress of the refresh (or of the rollback, for Rollback* statuses). Terminal
    statuses get an EndTime. Reaching ``Successful`` points the group at the refresh's desired
    configuration (no other status changes it). Reaching a Rollback* status without a
    rollback having been requested starts one (an auto rollback) with ``rollback_reason``. ``at`` is
    when this happened (EndTime, RollbackStartTime of an auto rollback), to the second;
    default: the emulation's clock.
    """
    if status not in STATUSES:
        raise ValueError(f"{status!r} is not an instance refresh status; expected one of {sorted(STATUSES)}")
    if percentage is not None and not 0 <= percentage <= 100:
        raise ValueError(f"percentage must be between 0 and 100, not {percentage}")
    with LOCK:
        moment = whole_seconds(at) if at is not None else aws_now()
        backend = autoscaling_backends[account_id][region]
        group = find_group(backend, group_name)
        refresh = latest_refresh(backend, group_name)
        if refresh is None:
            raise LookupError(f"Auto Scaling group {group_name} has no instance refresh")
        if moment < refresh.start_time:
            raise ValueError(f"{moment.isoformat()} is before the refresh started ({refresh.start_time.isoformat()})")
        if status in ROLLBACK_STATUSES:
            _advance_rollback(group, refresh, status, percentage, rollback_reason, at=moment)
        else:
            _advance_refresh(refresh, status, percentage)
        if status == CONFIGURATION_ON_SUCCESS and refresh.desired_configuration:
            apply_configuration(group, refresh.desired_configuration)
        refresh.status = status
        if status_reason is not None:
            refresh.status_reason = status_reason
        refresh.end_time = moment if status in TERMINAL_STATUSES else None
        return refresh.refresh_id


def _advance_refresh(refresh: Refresh, status: str, percentage: int | None) -> None:
    if status == "Successful" and percentage is None:
        percentage = 100
    if percentage is not None:
        refresh.percentage_complete = percentage
        refresh.instances_to_update = round(refresh.instances_total * (100 - percentage) / 100)
    refresh.status_reason = CANCEL_REASON if status in ("Cancelling", "Cancelled") else None


def _advance_rollback(
    group: FakeAutoScalingGroup,
    refresh: Refresh,
    status: str,
    percentage: int | None,
    reason: str | None,
    *,
    at: datetime,
) -> None:
    if refresh.rollback is None:
        begin_rollback(group, refresh, reason or DEFAULT_ROLLBACK_REASON, at)
    assert refresh.rollback is not None
    if status == "RollbackSuccessful" and percentage is None:
        percentage = 100
    if percentage is not None:
        rollback = refresh.rollback
        rollback.percentage_complete = percentage
        rollback.instances_to_update = round(rollback.instances_total * (100 - percentage) / 100)


def set_clock(now: datetime | None) -> None:
    """Stamp every later StartTime, EndTime and RollbackStartTime with ``now`` (to the second).

    The clock stands still until it is set again; ``None`` (or a reset) returns to the
    wall clock. For a test that needs several refreshes at known times.
    """
    with LOCK:
        PROCESS.clock = None if now is None else whole_seconds(now)


def set_start_time(
    group_name: str,
    at: datetime,
    *,
    refresh_id: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> str:
    """Say the group's latest refresh (or ``refresh_id``) started ``at``, to the second; its id.

    What ``start_refresh(..., at=)`` uses after StartInstanceRefresh, so that a test can put
    an alarm before or after the start without reading the clock twice. Refused if the
    refresh already has a later time (EndTime, RollbackStartTime) than ``at``.
    """
    moment = whole_seconds(at)
    with LOCK:
        backend = autoscaling_backends[account_id][region]
        find_group(backend, group_name)
        history = refreshes_by_group(backend).get(group_name, [])
        found = [r for r in history if refresh_id is None or r.refresh_id == refresh_id]
        if not found:
            raise LookupError(f"Auto Scaling group {group_name} has no instance refresh {refresh_id or ''}".strip())
        refresh = found[-1]
        rollback_start = refresh.rollback.start_time if refresh.rollback else None
        later = [t for t in (refresh.end_time, rollback_start) if t is not None]
        if any(moment > t for t in later):
            raise ValueError(f"{moment.isoformat()} is after the refresh ended or started rolling back")
        refresh.start_time = moment
        return refresh.refresh_id


def refreshes(
    group_name: str, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = DEFAULT_REGION
) -> list[dict[str, Any]]:
    """The group's refreshes, newest first, as DescribeInstanceRefreshes would show them."""
    with LOCK:
        backend = autoscaling_backends[account_id][region]
        return [refresh.to_wire() for refresh in reversed(refreshes_by_group(backend).get(group_name, []))]


def calls(action: str | None = None, group_name: str | None = None) -> list[CallRecord]:
    """Instance-refresh calls that reached the server, oldest first, optionally filtered."""
    with LOCK:
        return [
            call
            for call in PROCESS.calls
            if (action is None or call.action == action) and (group_name is None or call.group_name == group_name)
        ]


def clear_calls() -> None:
    with LOCK:
        PROCESS.calls.clear()


def inject_fault(
    action: str, error_code: str, times: int = 1, *, message: str | None = None, group_name: str | None = None
) -> None:
    """Make the next ``times`` calls of ``action`` (on ``group_name``, if given) fail with ``error_code``.

    Faults of one action queue up in order. Codes from the autoscaling model get the
    model's HTTP status (``ResourceContention`` → 500); common ones are in
    :data:`COMMON_ERRORS` (``Throttling`` → 400 Sender).
    """
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not one of {ACTIONS}")
    if times < 1:
        raise ValueError("times must be at least 1")
    with LOCK:
        PROCESS.faults.setdefault(action, []).append(Fault(error_code, times, message, group_name))


def clear_faults() -> None:
    with LOCK:
        PROCESS.faults.clear()


def reset() -> None:
    """Forget calls, faults and the clock (moto's reset does this too, and also forgets refreshes)."""
    with LOCK:
        PROCESS.calls.clear()
        PROCESS.faults.clear()
        PROCESS.clock = None
