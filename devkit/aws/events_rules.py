"""EventBridge rule delivery for moto, as strict as AWS: a DISABLED rule delivers nothing.

moto 5.2.5's ``PutEvents`` hands every event to every rule of the bus, whatever the
rule's ``State`` (``moto.events.models.EventsBackend.put_events`` never reads it), so
an event matching a disabled rule still reaches its targets. On AWS a disabled rule
"does not match any events" (EventBridge user guide, "Disabling or deleting a
rule"), which is what ``scripts.ops.pause`` relies on to stop every rollback at
once. moto also has no Lambda target: a rule pointing at a function makes
``PutEvents`` fail with a server error, so the stack's own rules (which target the
function) could not be put on the emulator at all.

:func:`install` replaces ``Rule.send_to_targets``:

* a rule whose state is not ``ENABLED`` delivers nothing;
* a Lambda target receives the event as AWS's asynchronous invocation would, and
  since moto cannot run the function (no Docker), the delivery is recorded here for
  tests to read (:func:`deliveries`) instead of being run;
* an event bus target (of this or another account) receives the event unchanged,
  its ``account``, ``region``, ``id`` and ``time`` kept as AWS keeps them (moto
  re-puts it as a new event of the target account). Across accounts AWS also asks
  the target bus's resource policy to allow ``events:PutEvents`` (see
  :func:`_refusal`); an event it refuses is dropped and recorded
  (:func:`failed_deliveries`), as AWS counts a FailedInvocation of the rule;
* an event a bus received from another bus goes no further to a third bus: "If a
  receiver account sets up a rule that sends events received from a sender account
  on to a third account, these events are not sent to the third account", nor to a
  third bus of the same account (EventBridge user guide, "Sending and receiving
  events between AWS accounts", and "... between event buses in the same account
  and Region"). Such a hop is recorded as a failed delivery; the receiving rule's
  other targets (the hub function) still get the event;
* every other target (SQS, logs...) is left to moto.

The records live in this process, like the refresh emulation's call log: the moto
server runs in a thread of the test process. :func:`reset` forgets them.
"""

from __future__ import annotations

import contextvars
import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.events.models import EventBus, Rule, events_backends
from moto.utilities.arns import parse_arn

from devkit.aws import organization

# Re-entrant: a target bus in another account re-enters send_to_targets while the lock is held.
_LOCK = threading.RLock()
_DELIVERIES: list[LambdaDelivery] = []
_FAILED: list[FailedDelivery] = []
_MARKER = "_auto_rollback_strict_rules"
#: True while the rules of a bus handle an event that another bus delivered to it (delivery is synchronous).
_FROM_ANOTHER_BUS: contextvars.ContextVar[bool] = contextvars.ContextVar("from_another_bus", default=False)
#: Why a second hop is dropped, as recorded in failed_deliveries().
SECOND_HOP = "an event received from another event bus is not routed on to a third event bus"


@dataclass(frozen=True)
class LambdaDelivery:
    """One event a rule handed to a Lambda function (an asynchronous invocation on AWS)."""

    rule: str
    function_arn: str
    event: dict[str, Any]


def deliveries(function_arn: str | None = None) -> list[LambdaDelivery]:
    """What rules delivered to Lambda functions since :func:`reset`, oldest first."""
    with _LOCK:
        return [item for item in _DELIVERIES if function_arn is None or item.function_arn == function_arn]


@dataclass(frozen=True)
class FailedDelivery:
    """An event a rule could not hand to its target (a FailedInvocation of the rule on AWS)."""

    rule: str
    target_arn: str
    reason: str
    event: dict[str, Any]


def failed_deliveries(target_arn: str | None = None) -> list[FailedDelivery]:
    """What rules failed to deliver since :func:`reset`, oldest first."""
    with _LOCK:
        return [item for item in _FAILED if target_arn is None or item.target_arn == target_arn]


def reset() -> None:
    with _LOCK:
        _DELIVERIES.clear()
        _FAILED.clear()


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge delivers it: ``time`` in ISO 8601, no moto-only keys."""
    delivered = copy.deepcopy(event)
    delivered.pop("ingestion-time", None)
    moment = delivered.get("time")
    if isinstance(moment, int | float):
        delivered["time"] = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def _strict_send(original: Callable[..., None]) -> Callable[..., None]:
    def send_to_targets(self: Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if self.state != "ENABLED":
            return  # AWS: a disabled rule matches no event
        if not self.event_pattern.matches_event(original_event):  # type: ignore[arg-type]
            return
        to_lambda = [target for target in self.targets if parse_arn(target["Arn"]).service == "lambda"]
        for target in to_lambda:
            with _LOCK:
                _DELIVERIES.append(LambdaDelivery(self.name, target["Arn"], _as_delivered(original_event)))
        to_buses = [target for target in self.targets if parse_arn(target["Arn"]).resource_type == "event-bus"]
        for target in to_buses:
            _send_to_bus(self, target, original_event)
        others = [target for target in self.targets if target not in to_lambda and target not in to_buses]
        if not others:
            return
        with _LOCK:  # moto's method reads self.targets; hand it the others only
            saved = self.targets
            self.targets = others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved

    return send_to_targets


def _refusal(rule: Rule, target: dict[str, Any], bus: EventBus) -> str | None:
    """Why AWS would not let ``rule`` put events on ``bus`` of another account, or None when it would.

    With a ``RoleArn``, EventBridge assumes the role (its trust must allow
    events.amazonaws.com, its policies events:PutEvents on the bus) and the bus
    policy sees the role, with the account's ``aws:PrincipalOrgID``. Without one,
    the bus sees the account alone, without ``aws:PrincipalOrgID``: AWS requires a
    role when the bus grants the organization rather than the account.
    """
    if bus.account_id == rule.account_id:
        return None
    role_arn = target.get("RoleArn")
    caller = organization.Caller(rule.account_id, f"arn:aws:iam::{rule.account_id}:root", carries_org=False)
    if role_arn:
        service = organization.Caller(rule.account_id, "", service="events.amazonaws.com")
        if parse_arn(role_arn).account != rule.account_id:
            return f"role {role_arn} is not in account {rule.account_id}"
        context = {"aws:ResourceAccount": bus.account_id}
        if not organization.identity_allows(role_arn, action="events:PutEvents", resource=bus.arn, context=context):
            return f"role {role_arn} does not exist or may not events:PutEvents on {bus.arn}"
        trust = organization.trust_policy(role_arn)
        if not organization.resource_policy_allows(trust, action="sts:AssumeRole", resource=role_arn, caller=service):
            return f"role {role_arn} does not trust events.amazonaws.com"
        caller = organization.Caller(rule.account_id, role_arn)
    if not organization.resource_policy_allows(bus.policy, action="events:PutEvents", resource=bus.arn, caller=caller):
        return f"the policy of {bus.arn} does not allow events:PutEvents from account {rule.account_id}"
    return None


def _send_to_bus(rule: Rule, target: dict[str, Any], event: dict[str, Any]) -> None:
    arn = parse_arn(target["Arn"])
    bus = events_backends[arn.account][arn.region].event_buses.get(arn.resource_id)
    if _FROM_ANOTHER_BUS.get():
        reason: str | None = SECOND_HOP
    elif bus is None:
        reason = f"event bus {target['Arn']} does not exist"
    else:
        reason = _refusal(rule, target, bus)
    if bus is None or reason is not None:
        with _LOCK:
            _FAILED.append(FailedDelivery(rule.name, target["Arn"], reason or "", _as_delivered(event)))
        return
    hop = _FROM_ANOTHER_BUS.set(True)
    try:
        for receiving_rule in list(bus.rules.values()):
            receiving_rule.send_to_targets(copy.deepcopy(event))  # type: ignore[arg-type]
    finally:
        _FROM_ANOTHER_BUS.reset(hop)


def install() -> bool:
    """Make rule delivery strict, once per process; True when this call installed it."""
    with _LOCK:
        if getattr(Rule, _MARKER, False):
            return False
        Rule.send_to_targets = _strict_send(Rule.send_to_targets)  # type: ignore[method-assign]
        setattr(Rule, _MARKER, True)
        return True
