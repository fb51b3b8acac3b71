"""The four instance-refresh actions, served over moto's HTTP with faults and a call log.

Each action runs under the emulation's lock: an injected fault first, then the model's
limits, then the operation; every call that reached the server is logged, failed or not.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from werkzeug.exceptions import HTTPException

from devkit.aws.model_limits import limit_problem
from devkit.aws.refresh_errors import InstanceRefreshError, error_code_of, irreversible, make_error, not_found
from devkit.aws.refresh_state import (
    ACTIVE_STATUSES,
    API_ROLLBACK_REASON,
    CANCEL,
    CANCEL_REASON,
    CANCELLABLE_STATUSES,
    DEFAULT_MAX_RECORDS,
    DESCRIBE,
    LOCK,
    MAX_MAX_RECORDS,
    PROCESS,
    ROLLBACK,
    ROLLBACKABLE_STATUSES,
    START,
    CallRecord,
    Refresh,
    Rollback,
    aws_now,
    find_group,
    latest_refresh,
    refreshes_by_group,
)
from devkit.aws.refresh_templates import (
    apply_configuration,
    configuration_of,
    irreversibility,
    launch_template_version,
    template_spec,
)


def _logged_at() -> datetime:
    # The call log orders calls as they reached the server; it is not AWS data, so it keeps full precision.
    return datetime.now(UTC)


# --------------------------------------------------------------------------- operations


def _start(backend: AutoScalingBackend, params: dict[str, Any]) -> Refresh:
    group_name = params["AutoScalingGroupName"]
    group = find_group(backend, group_name)
    latest = latest_refresh(backend, group_name)
    if latest is not None and latest.status in ACTIVE_STATUSES:
        raise InstanceRefreshError(
            "InstanceRefreshInProgress",
            "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
        )
    desired = params.get("DesiredConfiguration") or None
    preferences = params.get("Preferences") or None
    if preferences and preferences.get("AutoRollback") and not desired:
        raise ValidationError("AutoRollback is only supported when a DesiredConfiguration is specified.")
    desired_spec = template_spec(desired) if desired else None
    if desired_spec is not None:
        launch_template_version(group, desired_spec)  # refuse templates or versions that do not exist
    instances = len(group.instance_states)
    refresh = Refresh(
        refresh_id=str(uuid.uuid4()),
        group_name=group_name,
        strategy=params.get("Strategy") or "Rolling",
        start_time=aws_now(),
        instances_total=instances,
        instances_to_update=instances,
        preferences=copy.deepcopy(preferences),
        desired_configuration=copy.deepcopy(desired),
        previous_configuration=configuration_of(group),
    )
    # The group keeps its configuration until the refresh succeeds (CONFIGURATION_ON_SUCCESS).
    refreshes_by_group(backend).setdefault(group_name, []).append(refresh)
    return refresh


def _describe(backend: AutoScalingBackend, params: dict[str, Any]) -> dict[str, Any]:
    max_records = params.get("MaxRecords") or DEFAULT_MAX_RECORDS
    if not 1 <= max_records <= MAX_MAX_RECORDS:
        raise ValidationError(
            f"1 validation error detected: Value '{max_records}' at 'maxRecords' failed to satisfy "
            "constraint: Member must have value less than or equal to 100"
        )
    find_group(backend, params["AutoScalingGroupName"])
    history = list(reversed(refreshes_by_group(backend).get(params["AutoScalingGroupName"], [])))
    wanted = params.get("InstanceRefreshIds")
    if wanted:
        history = [refresh for refresh in history if refresh.refresh_id in wanted]
    start = _page_start(history, params.get("NextToken"))
    page = history[start : start + max_records]
    result: dict[str, Any] = {"InstanceRefreshes": [refresh.to_wire() for refresh in page]}
    if start + max_records < len(history):
        result["NextToken"] = page[-1].refresh_id  # resume after the last refresh returned
    return result


def _page_start(history: list[Refresh], token: str | None) -> int:
    if not token:
        return 0
    ids = [refresh.refresh_id for refresh in history]
    if token not in ids:
        raise InstanceRefreshError("InvalidNextToken", "The token is invalid.")
    return ids.index(token) + 1


def _cancel(backend: AutoScalingBackend, params: dict[str, Any]) -> Refresh:
    group_name = params["AutoScalingGroupName"]
    find_group(backend, group_name)
    refresh = latest_refresh(backend, group_name)
    if refresh is None or refresh.status not in CANCELLABLE_STATUSES:
        raise not_found(group_name)
    refresh.status = "Cancelling"
    refresh.status_reason = CANCEL_REASON
    return refresh


def _rollback(backend: AutoScalingBackend, params: dict[str, Any]) -> Refresh:
    group_name = params["AutoScalingGroupName"]
    group = find_group(backend, group_name)
    refresh = latest_refresh(backend, group_name)
    if refresh is None or refresh.status not in ROLLBACKABLE_STATUSES:
        raise not_found(group_name)
    reason = irreversibility(group, refresh)
    if reason is not None:
        raise irreversible(reason)
    begin_rollback(group, refresh, API_ROLLBACK_REASON)
    return refresh


def begin_rollback(group: FakeAutoScalingGroup, refresh: Refresh, reason: str, at: datetime | None = None) -> None:
    """Turn the refresh into a rollback (started ``at``, default now), the group on its previous configuration."""
    refresh.status = "RollbackInProgress"
    refresh.status_reason = reason
    refresh.end_time = None
    # Only the instances already replaced have to be replaced back.
    replaced = refresh.instances_total - refresh.instances_to_update
    refresh.rollback = Rollback(
        reason=reason, start_time=at or aws_now(), instances_total=replaced, instances_to_update=replaced
    )
    # A rollback "restores your Auto Scaling group to the configuration that it was using before the start of
    # the instance refresh" (RollbackInstanceRefresh). The emulation never changed it before Successful, so
    # this only matters if a test changed the group during the refresh.
    apply_configuration(group, refresh.previous_configuration)


# --------------------------------------------------------------------------- HTTP handlers


def _serve(
    response: AutoScalingResponse, action: str, operation: Callable[[AutoScalingBackend, dict[str, Any]], Any]
) -> ActionResult:
    """Run one action under the lock: injected fault first, then the operation; log the call."""
    params: dict[str, Any] = dict(response.params)
    group_name = params.get("AutoScalingGroupName")
    record = {"account_id": response.current_account, "region": response.region}
    with LOCK:
        try:
            _raise_injected_fault(action, str(group_name or ""))
            problem = limit_problem("autoscaling", action, params)
            if problem:
                raise ValidationError(problem)
            outcome = operation(response.autoscaling_backend, params)
        except (ServiceException, HTTPException) as error:
            PROCESS.calls.append(CallRecord(action, group_name, _logged_at(), error_code_of(error), **record))
            raise
        if isinstance(outcome, Refresh):
            PROCESS.calls.append(CallRecord(action, group_name, _logged_at(), None, outcome.refresh_id, **record))
            return ActionResult({"InstanceRefreshId": outcome.refresh_id})
        PROCESS.calls.append(CallRecord(action, group_name, _logged_at(), **record))
        return ActionResult(outcome)


def _raise_injected_fault(action: str, group_name: str) -> None:
    queue = [fault for fault in PROCESS.faults.get(action, []) if fault.group_name in {None, group_name}]
    if not queue:
        return
    fault = queue[0]
    fault.remaining -= 1
    if fault.remaining <= 0:
        PROCESS.faults[action].remove(fault)
    raise make_error(fault.error_code, fault.message or f"Injected {fault.error_code} fault for {action}")


def start_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, START, _start)


def describe_instance_refreshes(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, DESCRIBE, _describe)


def cancel_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, CANCEL, _cancel)


def rollback_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, ROLLBACK, _rollback)


HANDLERS: dict[str, Callable[[AutoScalingResponse], ActionResult]] = {
    "start_instance_refresh": start_instance_refresh,
    "describe_instance_refreshes": describe_instance_refreshes,
    "cancel_instance_refresh": cancel_instance_refresh,
    "rollback_instance_refresh": rollback_instance_refresh,
}
