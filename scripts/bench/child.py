"""A child process of ``make bench``: one cold start, or one memory run.

Run as ``python scripts/bench/child.py MODE SPEC_JSON RESULT_JSON`` by
``cold_start.run_child``: by its path, not as a module of the package, so that
nothing but the standard library is imported before the measured work starts,
and the figure is what a fresh Lambda container pays: the clock is read on the
first line, before anything else is imported. (Its directory comes first on the
child's path: no module of this package may be named like one the function imports.)

Modes:

* ``handler``: import ``auto_rollback.handler`` and serve the first event.
* ``direct``: import boto3, create the clients the function uses, and make the
  same AWS calls (with the same parameters) directly: the baseline.
* ``memory``: import the handler and serve every event in the spec, reporting
  the peak resident set size.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402 - the clock is read first on purpose
import sys  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402


class Context:
    """The parts of Lambda's context object the function reads (as devkit/scenarios/harness.py)."""

    function_name = "auto-rollback"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:auto-rollback"
    memory_limit_in_mb = 256
    log_group_name = "/aws/lambda/auto-rollback"
    log_stream_name = "local"

    def __init__(self, timeout_seconds: float = 60.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status (``VmRSS``, ``VmHWM``), in KiB.

    ``VmHWM`` is the peak RSS of this program. ``getrusage``'s ``ru_maxrss`` is not
    used: Linux carries it over ``exec`` from the parent, so a child of a large
    parent would report the parent's size.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def serve_first_event(spec: dict[str, Any]) -> dict[str, Any]:
    """Import the handler and serve one event, as a cold Lambda container does."""
    from auto_rollback.handler import lambda_handler

    result = lambda_handler(spec["event"], Context())
    return {"outcome": result["outcome"]}


def call_directly(spec: dict[str, Any]) -> dict[str, Any]:
    """The baseline: boto3, the same clients, the same calls in the same order."""
    import boto3
    from botocore import xform_name
    from botocore.config import Config

    config = Config(**spec["client_config"])
    clients = {service: boto3.client(service, config=config) for service in spec["services"]}
    for call in spec["calls"]:
        getattr(clients[call["service"]], xform_name(call["operation"]))(**call["params"])
    return {"outcome": "CALLS_MADE"}


def serve_many(spec: dict[str, Any]) -> dict[str, Any]:
    """Serve every event in turn in one process (one warm container); report memory."""
    from auto_rollback.handler import lambda_handler

    outcomes: dict[str, int] = {}
    after_first = 0
    for index, event in enumerate(spec["events"]):
        outcome = lambda_handler(event, Context())["outcome"]
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if index == 0:
            after_first = _status_kb("VmRSS")
    return {"outcomes": outcomes, "rss_after_first_kb": after_first}


MODES = {"handler": serve_first_event, "direct": call_directly, "memory": serve_many}


def main(argv: list[str]) -> None:
    mode, spec_path, result_path = argv
    with open(spec_path, encoding="utf-8") as spec_file:
        spec = json.load(spec_file)
    answer = MODES[mode](spec)
    done = time.perf_counter()
    answer.update(
        started=STARTED,
        done=done,
        maxrss_kb=_status_kb("VmHWM"),
    )
    with open(result_path, "w", encoding="utf-8") as result_file:
        json.dump(answer, result_file)


if __name__ == "__main__":
    main(sys.argv[1:])
