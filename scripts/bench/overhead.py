"""Section 2 of ``make bench``: a warm invocation's wall time against the same calls made with boto3."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import boto3

from devkit.scenarios.calls import Call
from devkit.scenarios.harness import configured, invoke
from devkit.scenarios.quiet import quiet_stdout
from scripts.bench.common import Report, Row, median_ms
from scripts.bench.sides import Sides

MAX_OVERHEAD_RATIO = 1.3


def direct_clients(services: Sequence[str]) -> dict[str, Any]:
    """The baseline's clients: boto3's default session, the function's client configuration."""
    from auto_rollback.aws import CLIENT_CONFIG

    # The services are named at run time: no overload of boto3's typed client() matches.
    return {service: boto3.client(service, config=CLIENT_CONFIG) for service in services}  # type: ignore[call-overload]


def replay(clients: Mapping[str, Any], calls: Sequence[Call]) -> None:
    from botocore import xform_name

    for call in calls:
        getattr(clients[call.service], xform_name(call.operation))(**call.params)


def measure_overhead(sides: Sides, reps: int, report: Report) -> None:
    """Handler wall time per alarm→rollback invocation vs the same calls made with boto3, interleaved."""
    warmup = 2
    clients = direct_clients(sorted({call.service for call in sides.template}))
    handler_times: list[float] = []
    direct_times: list[float] = []
    with configured(sides.deployment.environment), quiet_stdout():
        for rep in range(warmup + reps):
            order = ("handler", "direct") if rep % 2 == 0 else ("direct", "handler")
            for side in order:
                if side == "handler":
                    event = sides.handler_event()
                    started = time.perf_counter()
                    outcome = invoke(event)["outcome"]
                    elapsed = time.perf_counter() - started
                    if outcome != "ROLLBACK_STARTED":
                        raise RuntimeError(f"the handler did not roll back: {outcome}")
                    times = handler_times
                else:
                    calls = sides.direct_calls(f"warm-{rep}")
                    started = time.perf_counter()
                    replay(clients, calls)
                    elapsed = time.perf_counter() - started
                    times = direct_times
                if rep >= warmup:
                    times.append(elapsed)
    handler_ms, direct_ms = median_ms(handler_times), median_ms(direct_times)
    ratio = handler_ms / direct_ms
    report.figures["overhead"] = {
        "reps": reps,
        "calls": len(sides.template),
        "handler_ms": handler_ms,
        "direct_ms": direct_ms,
        "ratio": ratio,
    }
    report.rows.append(
        Row(
            "2. Overhead",
            f"Warm invocation vs the same {len(sides.template)} calls with boto3 (medians of {reps}, interleaved)",
            f"{handler_ms:.1f} ms vs {direct_ms:.1f} ms = {ratio:.2f}x",
            f"≤ {MAX_OVERHEAD_RATIO}x",
            ratio <= MAX_OVERHEAD_RATIO,
        )
    )
