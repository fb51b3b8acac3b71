"""Count the AWS calls an invocation makes, as the benchmark and the call-count tests need them.

The hook is added to botocore's built-in handlers, so every botocore session
created afterwards carries it: the function's clients come from its own session
(``auto_rollback.aws.aws_session``, rebuilt with each new container by
``harness.configured``), a baseline's from boto3's default session.
``before-parameter-build`` fires once per API call (retries are not new calls)
with the caller's parameters.

Only calls made on the recording thread, or on the function's read workers
(``auto_rollback.concurrency``) while it records, are counted: moto's server runs
in this process and its threads are not the function's.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.handlers

from auto_rollback.concurrency import THREAD_NAME_PREFIX

ROLLBACK = "RollbackInstanceRefresh"


@dataclass(frozen=True)
class Call:
    """One AWS API call as the caller made it: service, operation, parameters."""

    service: str
    operation: str
    params: dict[str, Any]
    #: Made on one of the function's read workers: such calls overlap, and come in no fixed order.
    parallel: bool = field(default=False, compare=False)

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


class CallRecorder:
    """Records the AWS calls the function makes while ``recording``; ``install`` once per process."""

    _installed = False

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._thread: int | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        if not CallRecorder._installed:
            botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _dispatch))
            CallRecorder._installed = True
        _recorders.append(self)
        boto3.DEFAULT_SESSION = None  # the default session is rebuilt with the hook

    def _on_call(self, params: dict[str, Any], model: Any) -> None:
        if self._thread is None:
            return
        current = threading.current_thread()
        worker = current.name.startswith(THREAD_NAME_PREFIX)
        if current.ident == self._thread or worker:
            call = Call(model.service_model.service_name, model.name, copy.deepcopy(params), parallel=worker)
            with self._lock:
                self.calls.append(call)

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Call]]:
        self.calls = []
        self._thread = threading.get_ident()
        try:
            yield self.calls
        finally:
            self._thread = None


_recorders: list[CallRecorder] = []


def _dispatch(params: dict[str, Any], model: Any, **_: Any) -> None:
    for recorder in _recorders:
        recorder._on_call(params, model)


def critical_path(calls: Sequence[Call]) -> list[Call]:
    """The calls made before the first RollbackInstanceRefresh (all of them if there is none)."""
    for index, call in enumerate(calls):
        if call.operation == ROLLBACK:
            return list(calls[:index])
    return list(calls)


def tally(calls: Sequence[Call]) -> dict[str, int]:
    """How many calls of each ``service:Operation``: concurrent reads come in no fixed order."""
    return dict(sorted(Counter(call.name for call in calls).items()))
