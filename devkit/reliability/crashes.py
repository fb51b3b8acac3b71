"""Crash at every step: the invocation dies after each change it makes; redeliveries and duplicates follow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass

from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.aws.faults import Crash, Injection, injected
from devkit.reliability.lab import GROUP, LINK, Check, invoke_short, stage
from devkit.scenarios.harness import invoke


@dataclass(frozen=True)
class CrashPoint:
    label: str
    service: str
    operation: str
    occurrence: int  # the n-th completed call of that operation in the invocation


CRASH_POINTS = (
    CrashPoint("action lock taken", "dynamodb", "PutItem", 1),
    CrashPoint("rollback called", "autoscaling", "RollbackInstanceRefresh", 1),
    CrashPoint("outcome stored", "dynamodb", "UpdateItem", 1),
    CrashPoint("publish lock taken", "dynamodb", "PutItem", 2),
    CrashPoint("publish sent", "sns", "Publish", 1),
    CrashPoint("publish recorded", "dynamodb", "UpdateItem", 2),
)


def run_crash(emulator: AwsEmulator, point: CrashPoint, *, duplicate_first: bool) -> Check:
    """Kill the invocation after ``point``; deliver a duplicate from another alarm and the same event again."""
    with stage(emulator) as st:
        st.start(st.fleet())
        refresh_api.advance(GROUP, "InProgress", percentage=30)
        event = st.alarm_event("web-prod-5xx", tags=LINK)
        other = st.alarm_event("web-prod-latency", tags=LINK)
        hook = Injection(point.service, point.operation, None, crash_after=point.occurrence)
        with injected(hook), suppress(Crash):
            invoke_short(event)
        # Lambda redelivers the event (the invocation died); another alarm fires too, in either order
        order = [other, event] if duplicate_first else [event, other]
        results = [invoke(delivered) for delivered in order]
        results.append(invoke(event))  # and a late duplicate of the original
        published = [m for m in st.deployment.published() if m.attributes["outcome"] == "ROLLBACK_STARTED"]
        accepted = st.accepted()
        problems = []
        if not hook.crashed:
            problems.append("the crash point was not reached")
        if len(accepted) != 1:
            problems.append(f"{len(accepted)} accepted rollback calls")
        if not published:
            problems.append("no ROLLBACK_STARTED notification")
        if st.status() != "RollbackInProgress":
            problems.append(f"refresh is {st.status()}")
        started_or_dedup = {"ROLLBACK_STARTED", "DEDUPLICATED"}
        if any(result["outcome"] not in started_or_dedup for result in results):
            problems.append(f"outcomes {[r['outcome'] for r in results]}")
        order_label = "duplicate first" if duplicate_first else "redelivery first"
        return Check(
            "crash",
            f"after {point.label} ({order_label})",
            "one rollback; ROLLBACK_STARTED published at least once; later deliveries DEDUPLICATED",
            f"{len(accepted)} rollback, {len(published)}x ROLLBACK_STARTED, outcomes "
            f"{'/'.join(r['outcome'] for r in results)}" + ("; " + ", ".join(problems) if problems else ""),
            held=not problems,
        )


def crashes(emulator: AwsEmulator) -> Iterator[Check]:
    for index, point in enumerate(CRASH_POINTS):
        yield run_crash(emulator, point, duplicate_first=index % 2 == 1)
