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
* every other target (SQS, logs, buses...) is left to moto.

The records live in this process, like the refresh emulation's call log: the moto
server runs in a thread of the test process. :func:`reset` forgets them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.events.models import Rule
from moto.utilities.arns import parse_arn

# Re-entrant: a target bus in another account re-enters send_to_targets while the lock is held.
_LOCK = threading.RLock()
_DELIVERIES: list[LambdaDelivery] = []
_MARKER = "_auto_rollback_strict_rules"


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


def reset() -> None:
    with _LOCK:
        _DELIVERIES.clear()


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
        others = [target for target in self.targets if target not in to_lambda]
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


def install() -> bool:
    """Make rule delivery strict, once per process; True when this call installed it."""
    with _LOCK:
        if getattr(Rule, _MARKER, False):
            return False
        Rule.send_to_targets = _strict_send(Rule.send_to_targets)  # type: ignore[method-assign]
        setattr(Rule, _MARKER, True)
        return True
