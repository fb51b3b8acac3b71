"""Inject faults into the function's own AWS clients, as the network and AWS would cause them.

Every hook is a botocore event handler registered on the clients the function
built (``auto_rollback.handler.get_service()``), so each request still goes
through botocore's serialisation, retries and error parsing, and through the
function's own code paths, unchanged:

* an *error answer* (throttling, a 5xx or ResourceContention, access denied, and
  for ``sns:Publish`` a KMS error botocore does not retry) is
  served from ``before-send`` as the HTTP response AWS would send, in the
  service's wire protocol (query XML or JSON 1.0), so botocore parses
  and retries it exactly as a real one;
* a *connection fault* raises botocore's own ``ConnectionClosedError`` or
  ``ReadTimeoutError`` from ``before-send``, once; for calls that change something the
  request is first delivered to the emulator, so the change is applied and only
  the answer is lost (the ambiguous case), and botocore's retry is answered;
* a *lost answer* delivers the request to the emulator and then raises
  ``ConnectionClosedError`` on *every* attempt botocore makes, so the first attempt
  changes AWS, the retries are refused by it, and the caller sees only connection
  errors (a network path that drops answers, not requests);
* a *crash* raises :class:`Crash`, a ``BaseException`` that nothing in the
  function catches, after a call completed: the invocation dies there as it would
  on a timeout or a killed container, leaving its idempotency records as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import requests
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from devkit.aws.wire_errors import WIRES, error_document


class Crash(BaseException):
    """The invocation dies here (time limit reached, container killed)."""


class FaultKind(StrEnum):
    THROTTLING = "throttling"
    SERVER_ERROR = "5xx"
    CONNECTION = "connection/timeout"
    ACCESS_DENIED = "access denied"
    LOST_ANSWER = "lost answer"
    #: An error the call's model declares and botocore does not retry: SNS's KMSThrottling (400) on
    #: Publish, which a topic encrypted with a KMS key answers when KMS throttles SNS. Publish only.
    NOT_RETRIED = "not retried (KMS)"


#: Wire protocol each client of the function speaks. CloudWatch's model lists smithy-rpc-v2-cbor, json
#: and query; botocore 1.44 takes the first it ranks highest (botocore.utils.PRIORITY_ORDERED_SUPPORTED_
#: PROTOCOLS), which is json. A test compares this with each client's resolved_protocol.
PROTOCOLS = {
    service: WIRES[service].protocol for service in ("autoscaling", "sns", "cloudwatch", "dynamodb", "tagging")
}
#: boto3's name for each service whose name here is shorter.
BOTO3_NAMES = {"tagging": "resourcegroupstaggingapi"}

#: Error code and HTTP status per service and fault, as each service names them (for CloudWatch the
#: query-compatible code that botocore reports, from the x-amzn-query-error header).
ERRORS: dict[str, dict[FaultKind, tuple[str, int]]] = {
    "autoscaling": {
        FaultKind.THROTTLING: ("Throttling", 400),
        FaultKind.SERVER_ERROR: ("ResourceContention", 500),
        FaultKind.ACCESS_DENIED: ("AccessDenied", 403),
    },
    "cloudwatch": {
        FaultKind.THROTTLING: ("Throttling", 400),
        FaultKind.SERVER_ERROR: ("InternalServiceError", 500),
        FaultKind.ACCESS_DENIED: ("AccessDenied", 403),
    },
    "dynamodb": {
        FaultKind.THROTTLING: ("ThrottlingException", 400),
        FaultKind.SERVER_ERROR: ("InternalServerError", 500),
        FaultKind.ACCESS_DENIED: ("AccessDeniedException", 400),
    },
    "tagging": {
        # The Resource Groups Tagging API's own errors (its model); access denied is the JSON common error.
        FaultKind.THROTTLING: ("ThrottledException", 400),
        FaultKind.SERVER_ERROR: ("InternalServiceException", 500),
        FaultKind.ACCESS_DENIED: ("AccessDeniedException", 400),
    },
    "sns": {
        # Not ThrottledException (Throttled, 429): the model declares that only for the SMS operations.
        # Publish is throttled with the common query error Throttling ("Rate exceeded"), HTTP 400.
        FaultKind.THROTTLING: ("Throttling", 400),
        FaultKind.SERVER_ERROR: ("InternalError", 500),
        FaultKind.ACCESS_DENIED: ("AuthorizationError", 403),
        FaultKind.NOT_RETRIED: ("KMSThrottling", 400),
    },
}

#: Calls that change something: a connection fault on them is injected *after* AWS applied them.
MUTATING = frozenset(
    {"RollbackInstanceRefresh", "CancelInstanceRefresh", "Publish", "PutItem", "UpdateItem", "DeleteItem"}
)


def function_clients() -> dict[str, Any]:
    """The boto3 clients of the function as configured now (one Lambda container)."""
    from auto_rollback.handler import get_service
    from auto_rollback.service import RollbackService

    service = get_service()
    assert isinstance(service, RollbackService), "fault injection runs the function in per-account mode"
    return {
        "autoscaling": service.gateway.autoscaling,
        "cloudwatch": service.gateway.cloudwatch,
        "dynamodb": service.actions.dynamodb,
        "sns": service.actions.notifier.sns,
        "tagging": service.gateway.tagging,
        # Rollback and cancel go through their own client (botocore's retries off; the gateway retries).
        "autoscaling-writes": service.gateway.autoscaling_writes,
    }


def _client_for(clients: dict[str, Any], service: str, operation: str) -> Any:
    if service == "autoscaling" and operation in {"RollbackInstanceRefresh", "CancelInstanceRefresh"}:
        return clients["autoscaling-writes"]
    return clients[service]


def error_code(service: str, kind: FaultKind) -> str:
    return ERRORS[service][kind][0]


class _Body:
    """The ``raw`` of an AWSResponse: a body that can be streamed once."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def error_response(service: str, code: str, status: int, url: str) -> AWSResponse:
    """The HTTP answer ``service`` gives for error ``code``, in the protocol botocore speaks to it."""
    status, headers, body = error_document(service, code, status, f"Injected {code}")
    # AWSResponse copies any mapping into its HeadersDict; the stubs ask for HTTPHeaders only.
    return AWSResponse(url, status, cast(Any, headers), _Body(body))


@dataclass
class Injection:
    """One fault on one operation of one client; counts what it did."""

    service: str
    operation: str
    kind: FaultKind | None  # None: no fault, only a crash point
    #: Attempts to fault (each botocore attempt counts); a lost answer faults every attempt regardless.
    times: int = 1
    #: Occurrences of the operation to let through before the first fault.
    skip: int = 0
    #: Raise Crash after the ``crash_after``-th completed occurrence (1-based; 0: never).
    crash_after: int = 0
    seen: int = 0
    injected: int = 0
    completed: int = 0
    crashed: bool = False
    history: list[str] = field(default_factory=list)

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        self.seen += 1
        if self.kind is None or self.seen <= self.skip:
            return None
        if self.injected >= self.times and self.kind is not FaultKind.LOST_ANSWER:
            return None
        self.injected += 1
        self.history.append(f"{self.operation}: {self.kind.value}")
        if self.kind is FaultKind.LOST_ANSWER or (self.kind is FaultKind.CONNECTION and self.operation in MUTATING):
            # AWS receives and applies the request; the answer is lost on the way back.
            requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=10)
            raise ConnectionClosedError(endpoint_url=request.url)
        if self.kind is FaultKind.CONNECTION:
            raise ReadTimeoutError(endpoint_url=request.url)
        code, status = ERRORS[self.service][self.kind]
        return error_response(self.service, code, status, request.url)

    def after_call(self, http_response: Any = None, **_: Any) -> None:
        if http_response is not None and http_response.status_code >= 300:
            return  # an error answer: the call did not complete
        self.completed += 1
        if self.crash_after and self.completed == self.crash_after:
            self.crashed = True
            raise Crash(f"invocation died after {self.operation} #{self.completed}")


@contextmanager
def injected(*injections: Injection) -> Iterator[tuple[Injection, ...]]:
    """Register the injections on the function's current clients for the duration of the block."""
    clients = function_clients()
    registered: list[tuple[Any, str, Any]] = []
    for injection in injections:
        client = _client_for(clients, injection.service, injection.operation)
        service_id = client.meta.service_model.service_id.hyphenize()
        for event, handler in (
            (f"before-send.{service_id}.{injection.operation}", injection.before_send),
            (f"after-call.{service_id}.{injection.operation}", injection.after_call),
        ):
            client.meta.events.register(event, handler)
            registered.append((client, event, handler))
    try:
        yield injections
    finally:
        for client, event, handler in registered:
            client.meta.events.unregister(event, handler)
