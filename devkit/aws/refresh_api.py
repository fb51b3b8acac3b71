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

The module's name must not start with ``moto``: moto derives the service whose
error model describes an exception from the exception's module name
(``moto.<service>...``), and fails on a module such as ``moto_refresh``.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup, autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.base_backend import BackendDict
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model
from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateVersion
from werkzeug.exceptions import HTTPException

from devkit.aws.model_limits import limit_problem
from devkit.aws.patch import install_handlers

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

#: HTTP status and fault side of the AWS errors that the autoscaling model does not
#: declare (common errors); any other unknown code is served as 400 Sender.
COMMON_ERRORS: dict[str, tuple[int, str]] = {
    "Throttling": (400, "Sender"),
    "ThrottlingException": (400, "Sender"),
    "RequestLimitExceeded": (400, "Sender"),
    "ValidationError": (400, "Sender"),
    "InternalFailure": (500, "Receiver"),
    "ServiceUnavailable": (503, "Receiver"),
}

_STATE_ATTRIBUTE = "_emulated_instance_refreshes"
_LOCK = threading.RLock()
_XML_NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


# --------------------------------------------------------------------------- model


@dataclass
class _Rollback:
    reason: str
    start_time: datetime
    #: Instances to replace back when the rollback started (those already replaced).
    instances_total: int
    instances_to_update: int
    percentage_complete: int = 0


@dataclass
class _Refresh:
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
    rollback: _Rollback | None = None

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
class _Fault:
    error_code: str
    remaining: int
    message: str | None = None
    group_name: str | None = None  # None: any group


@dataclass
class _ProcessState:
    calls: list[CallRecord] = field(default_factory=list)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    #: The time the emulation stamps instead of the wall clock's (set_clock), or None.
    clock: datetime | None = None


_PROCESS = _ProcessState()


# --------------------------------------------------------------------------- errors


class InstanceRefreshError(ServiceException):
    """An error the autoscaling model declares; moto takes its HTTP status from the model.

    It must be a ``ServiceException`` (not moto's deprecated ``RESTError``) for moto
    to find the error shape, hence ``ResourceContention`` → HTTP 500.
    """


class _UnmodelledError(HTTPException):
    """A common AWS error (e.g. ``Throttling``) absent from the autoscaling model.

    Served as a hand-made query-protocol error document, because moto's serialiser
    would warn about the unknown shape and could only answer 400.
    """

    def __init__(self, error_code: str, message: str) -> None:
        status, fault = COMMON_ERRORS.get(error_code, (400, "Sender"))
        super().__init__()
        self.code = status
        self.error_code = error_code
        self.description = (
            f'<ErrorResponse xmlns="{_XML_NAMESPACE}"><Error><Type>{fault}</Type>'
            f"<Code>{escape(error_code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", "text/xml"), ("X-Amzn-ErrorType", self.error_code)]


def _modelled_error_codes() -> frozenset[str]:
    # ErrorShape, whose error_code botocore does not declare on the Shape it types error_shapes with.
    return frozenset(getattr(shape, "error_code") for shape in get_service_model("autoscaling").error_shapes)  # noqa: B009


def make_error(error_code: str, message: str) -> Exception:
    """The exception that moto serves as the AWS error ``error_code``."""
    if error_code in _modelled_error_codes() or error_code == "ValidationError":
        return InstanceRefreshError(error_code, message)
    return _UnmodelledError(error_code, message)


def _error_code(error: Exception) -> str:
    if isinstance(error, _UnmodelledError):
        return error.error_code
    return str(getattr(error, "code", type(error).__name__))


def _not_found(group_name: str) -> InstanceRefreshError:
    return InstanceRefreshError(
        "ActiveInstanceRefreshNotFound",
        f"No in progress or pending Instance Refresh found for Auto Scaling group {group_name}",
    )


def _irreversible(reason: str) -> InstanceRefreshError:
    return InstanceRefreshError("IrreversibleInstanceRefresh", f"The instance refresh cannot be rolled back: {reason}")


# --------------------------------------------------------------------------- state


def _refreshes(backend: AutoScalingBackend) -> dict[str, list[_Refresh]]:
    """Refreshes per group, oldest first, created on first use on the backend object."""
    state: dict[str, list[_Refresh]] | None = backend.__dict__.get(_STATE_ATTRIBUTE)
    if state is None:
        state = {}
        setattr(backend, _STATE_ATTRIBUTE, state)
    return state


def _group(backend: AutoScalingBackend, group_name: str) -> FakeAutoScalingGroup:
    group = backend.autoscaling_groups.get(group_name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {group_name} not found")
    return group


def _latest(backend: AutoScalingBackend, group_name: str) -> _Refresh | None:
    history = _refreshes(backend).get(group_name, [])
    return history[-1] if history else None


def _now() -> datetime:
    """The time AWS would stamp now: the test's clock if set, else the wall clock; whole seconds."""
    return _whole_seconds(_PROCESS.clock or datetime.now(UTC))


def _whole_seconds(moment: datetime) -> datetime:
    # AWS returns instance-refresh times without fractions of a second; keeping microseconds would
    # make "did the alarm fire before the refresh started" depend on sub-millisecond luck.
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; AWS times are absolute (use datetime.now(UTC))")
    return moment.astimezone(UTC).replace(microsecond=0)


def _logged_at() -> datetime:
    # The call log orders calls as they reached the server; it is not AWS data, so it keeps full precision.
    return datetime.now(UTC)


# --------------------------------------------------------------------------- launch templates


def _configuration_of(group: FakeAutoScalingGroup) -> dict[str, Any]:
    """The group's launch template or mixed instances policy, as a DesiredConfiguration."""
    if group.mixed_instances_policy:
        return {"MixedInstancesPolicy": copy.deepcopy(group.mixed_instances_policy)}
    if group.ec2_launch_template is not None:
        spec = {"LaunchTemplateId": group.ec2_launch_template.id}
        if group.provided_launch_template_version:
            spec["Version"] = group.provided_launch_template_version
        return {"LaunchTemplate": spec}
    return {}  # a launch configuration


def _template_spec(configuration: dict[str, Any]) -> dict[str, Any] | None:
    if "LaunchTemplate" in configuration:
        spec: dict[str, Any] = configuration["LaunchTemplate"]
        return spec
    if "MixedInstancesPolicy" in configuration:
        policy_spec: dict[str, Any] = configuration["MixedInstancesPolicy"]["LaunchTemplate"][
            "LaunchTemplateSpecification"
        ]
        return policy_spec
    return None


def _template_version(
    group: FakeAutoScalingGroup, spec: dict[str, Any]
) -> tuple[LaunchTemplate, LaunchTemplateVersion]:
    """The EC2 launch template and version a specification names (ValidationError if none)."""
    ec2 = group.ec2_backend
    try:
        if spec.get("LaunchTemplateId"):
            template = ec2.get_launch_template(spec["LaunchTemplateId"])
        else:
            template = ec2.get_launch_template_by_name(spec.get("LaunchTemplateName", ""))
        return template, template.get_version(spec.get("Version") or "$Default")
    except (ServiceException, ValueError) as error:
        raise ValidationError(f"The launch template specified in the request is not valid: {error}") from None


def _apply_configuration(group: FakeAutoScalingGroup, configuration: dict[str, Any]) -> None:
    """Point the group at a launch template or mixed instances policy.

    Uses moto's own (private) setter, so DescribeAutoScalingGroups shows the change.
    """
    configuration = copy.deepcopy(configuration)
    if "MixedInstancesPolicy" in configuration:
        group.mixed_instances_policy = configuration["MixedInstancesPolicy"]
        group._set_launch_configuration("", {}, group.mixed_instances_policy)
    elif "LaunchTemplate" in configuration:
        group.mixed_instances_policy = None
        group._set_launch_configuration("", configuration["LaunchTemplate"], None)


def _irreversibility(group: FakeAutoScalingGroup, refresh: _Refresh) -> str | None:
    """Why a rollback of ``refresh`` is impossible, or None if it is possible."""
    if not refresh.desired_configuration:
        return "no desired configuration was specified for the instance refresh"
    configurations = (
        ("previous", refresh.previous_configuration),
        ("desired", refresh.desired_configuration),
    )
    for which, configuration in configurations:
        spec = _template_spec(configuration)
        if spec is None:
            return f"the {which} configuration does not use a launch template"
        version = spec.get("Version") or "$Default"  # no Version means $Default
        if version.lower() in ("$latest", "$default"):
            return f"the {which} configuration uses the launch template's {version} version"
        _, template_version = _template_version(group, spec)
        if template_version.image_id.startswith("resolve:ssm:"):
            return f"the {which} launch template version uses an SSM parameter as ImageId"
    return None


# --------------------------------------------------------------------------- operations


def _start(backend: AutoScalingBackend, params: dict[str, Any]) -> _Refresh:
    group_name = params["AutoScalingGroupName"]
    group = _group(backend, group_name)
    latest = _latest(backend, group_name)
    if latest is not None and latest.status in ACTIVE_STATUSES:
        raise InstanceRefreshError(
            "InstanceRefreshInProgress",
            "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
        )
    desired = params.get("DesiredConfiguration") or None
    preferences = params.get("Preferences") or None
    if preferences and preferences.get("AutoRollback") and not desired:
        raise ValidationError("AutoRollback is only supported when a DesiredConfiguration is specified.")
    desired_spec = _template_spec(desired) if desired else None
    if desired_spec is not None:
        _template_version(group, desired_spec)  # refuse templates or versions that do not exist
    instances = len(group.instance_states)
    refresh = _Refresh(
        refresh_id=str(uuid.uuid4()),
        group_name=group_name,
        strategy=params.get("Strategy") or "Rolling",
        start_time=_now(),
        instances_total=instances,
        instances_to_update=instances,
        preferences=copy.deepcopy(preferences),
        desired_configuration=copy.deepcopy(desired),
        previous_configuration=_configuration_of(group),
    )
    # The group keeps its configuration until the refresh succeeds (CONFIGURATION_ON_SUCCESS).
    _refreshes(backend).setdefault(group_name, []).append(refresh)
    return refresh


def _describe(backend: AutoScalingBackend, params: dict[str, Any]) -> dict[str, Any]:
    max_records = params.get("MaxRecords") or DEFAULT_MAX_RECORDS
    if not 1 <= max_records <= MAX_MAX_RECORDS:
        raise ValidationError(
            f"1 validation error detected: Value '{max_records}' at 'maxRecords' failed to satisfy "
            "constraint: Member must have value less than or equal to 100"
        )
    _group(backend, params["AutoScalingGroupName"])
    history = list(reversed(_refreshes(backend).get(params["AutoScalingGroupName"], [])))
    wanted = params.get("InstanceRefreshIds")
    if wanted:
        history = [refresh for refresh in history if refresh.refresh_id in wanted]
    start = _page_start(history, params.get("NextToken"))
    page = history[start : start + max_records]
    result: dict[str, Any] = {"InstanceRefreshes": [refresh.to_wire() for refresh in page]}
    if start + max_records < len(history):
        result["NextToken"] = page[-1].refresh_id  # resume after the last refresh returned
    return result


def _page_start(history: list[_Refresh], token: str | None) -> int:
    if not token:
        return 0
    ids = [refresh.refresh_id for refresh in history]
    if token not in ids:
        raise InstanceRefreshError("InvalidNextToken", "The token is invalid.")
    return ids.index(token) + 1


def _cancel(backend: AutoScalingBackend, params: dict[str, Any]) -> _Refresh:
    group_name = params["AutoScalingGroupName"]
    _group(backend, group_name)
    refresh = _latest(backend, group_name)
    if refresh is None or refresh.status not in CANCELLABLE_STATUSES:
        raise _not_found(group_name)
    refresh.status = "Cancelling"
    refresh.status_reason = CANCEL_REASON
    return refresh


def _rollback(backend: AutoScalingBackend, params: dict[str, Any]) -> _Refresh:
    group_name = params["AutoScalingGroupName"]
    group = _group(backend, group_name)
    refresh = _latest(backend, group_name)
    if refresh is None or refresh.status not in ROLLBACKABLE_STATUSES:
        raise _not_found(group_name)
    reason = _irreversibility(group, refresh)
    if reason is not None:
        raise _irreversible(reason)
    _begin_rollback(group, refresh, API_ROLLBACK_REASON)
    return refresh


def _begin_rollback(group: FakeAutoScalingGroup, refresh: _Refresh, reason: str, at: datetime | None = None) -> None:
    """Turn the refresh into a rollback (started ``at``, default now), the group on its previous configuration."""
    refresh.status = "RollbackInProgress"
    refresh.status_reason = reason
    refresh.end_time = None
    # Only the instances already replaced have to be replaced back.
    replaced = refresh.instances_total - refresh.instances_to_update
    refresh.rollback = _Rollback(
        reason=reason, start_time=at or _now(), instances_total=replaced, instances_to_update=replaced
    )
    # A rollback "restores your Auto Scaling group to the configuration that it was using before the start of
    # the instance refresh" (RollbackInstanceRefresh). The emulation never changed it before Successful, so
    # this only matters if a test changed the group during the refresh.
    _apply_configuration(group, refresh.previous_configuration)


# --------------------------------------------------------------------------- HTTP handlers


def _serve(
    response: AutoScalingResponse, action: str, operation: Callable[[AutoScalingBackend, dict[str, Any]], Any]
) -> ActionResult:
    """Run one action under the lock: injected fault first, then the operation; log the call."""
    params: dict[str, Any] = dict(response.params)
    group_name = params.get("AutoScalingGroupName")
    record = {"account_id": response.current_account, "region": response.region}
    with _LOCK:
        try:
            _raise_injected_fault(action, str(group_name or ""))
            problem = limit_problem("autoscaling", action, params)
            if problem:
                raise ValidationError(problem)
            outcome = operation(response.autoscaling_backend, params)
        except (ServiceException, HTTPException) as error:
            _PROCESS.calls.append(CallRecord(action, group_name, _logged_at(), _error_code(error), **record))
            raise
        if isinstance(outcome, _Refresh):
            _PROCESS.calls.append(CallRecord(action, group_name, _logged_at(), None, outcome.refresh_id, **record))
            return ActionResult({"InstanceRefreshId": outcome.refresh_id})
        _PROCESS.calls.append(CallRecord(action, group_name, _logged_at(), **record))
        return ActionResult(outcome)


def _raise_injected_fault(action: str, group_name: str) -> None:
    queue = [fault for fault in _PROCESS.faults.get(action, []) if fault.group_name in {None, group_name}]
    if not queue:
        return
    fault = queue[0]
    fault.remaining -= 1
    if fault.remaining <= 0:
        _PROCESS.faults[action].remove(fault)
    raise make_error(fault.error_code, fault.message or f"Injected {fault.error_code} fault for {action}")


def start_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, START, _start)


def describe_instance_refreshes(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, DESCRIBE, _describe)


def cancel_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, CANCEL, _cancel)


def rollback_instance_refresh(self: AutoScalingResponse) -> ActionResult:
    return _serve(self, ROLLBACK, _rollback)


_HANDLERS: dict[str, Callable[[AutoScalingResponse], ActionResult]] = {
    "start_instance_refresh": start_instance_refresh,
    "describe_instance_refreshes": describe_instance_refreshes,
    "cancel_instance_refresh": cancel_instance_refresh,
    "rollback_instance_refresh": rollback_instance_refresh,
}


def install() -> None:
    """Teach moto the four instance-refresh actions (idempotent).

    Also hooks moto's reset so that it clears the call log and pending faults.
    """
    if install_handlers(AutoScalingResponse, "_instance_refresh_emulation", _HANDLERS):
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
    with _LOCK:
        moment = _whole_seconds(at) if at is not None else _now()
        backend = autoscaling_backends[account_id][region]
        group = _group(backend, group_name)
        refresh = _latest(backend, group_name)
        if refresh is None:
            raise LookupError(f"Auto Scaling group {group_name} has no instance refresh")
        if moment < refresh.start_time:
            raise ValueError(f"{moment.isoformat()} is before the refresh started ({refresh.start_time.isoformat()})")
        if status in ROLLBACK_STATUSES:
            _advance_rollback(group, refresh, status, percentage, rollback_reason, at=moment)
        else:
            _advance_refresh(refresh, status, percentage)
        if status == CONFIGURATION_ON_SUCCESS and refresh.desired_configuration:
            _apply_configuration(group, refresh.desired_configuration)
        refresh.status = status
        if status_reason is not None:
            refresh.status_reason = status_reason
        refresh.end_time = moment if status in TERMINAL_STATUSES else None
        return refresh.refresh_id


def _advance_refresh(refresh: _Refresh, status: str, percentage: int | None) -> None:
    if status == "Successful" and percentage is None:
        percentage = 100
    if percentage is not None:
        refresh.percentage_complete = percentage
        refresh.instances_to_update = round(refresh.instances_total * (100 - percentage) / 100)
    refresh.status_reason = CANCEL_REASON if status in ("Cancelling", "Cancelled") else None


def _advance_rollback(
    group: FakeAutoScalingGroup,
    refresh: _Refresh,
    status: str,
    percentage: int | None,
    reason: str | None,
    *,
    at: datetime,
) -> None:
    if refresh.rollback is None:
        _begin_rollback(group, refresh, reason or DEFAULT_ROLLBACK_REASON, at)
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
    with _LOCK:
        _PROCESS.clock = None if now is None else _whole_seconds(now)


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
    moment = _whole_seconds(at)
    with _LOCK:
        backend = autoscaling_backends[account_id][region]
        _group(backend, group_name)
        history = _refreshes(backend).get(group_name, [])
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
    with _LOCK:
        backend = autoscaling_backends[account_id][region]
        return [refresh.to_wire() for refresh in reversed(_refreshes(backend).get(group_name, []))]


def calls(action: str | None = None, group_name: str | None = None) -> list[CallRecord]:
    """Instance-refresh calls that reached the server, oldest first, optionally filtered."""
    with _LOCK:
        return [
            call
            for call in _PROCESS.calls
            if (action is None or call.action == action) and (group_name is None or call.group_name == group_name)
        ]


def clear_calls() -> None:
    with _LOCK:
        _PROCESS.calls.clear()


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
    with _LOCK:
        _PROCESS.faults.setdefault(action, []).append(_Fault(error_code, times, message, group_name))


def clear_faults() -> None:
    with _LOCK:
        _PROCESS.faults.clear()


def reset() -> None:
    """Forget calls, faults and the clock (moto's reset does this too, and also forgets refreshes)."""
    with _LOCK:
        _PROCESS.calls.clear()
        _PROCESS.faults.clear()
        _PROCESS.clock = None
