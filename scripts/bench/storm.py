"""Section 4 of ``make bench``: a storm of alarm events from several processes at once; exactly one rollback each."""

from __future__ import annotations

import time

from auto_rollback.vocabulary import ALARM_GROUP_TAG
from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.events import alarm_event
from devkit.scenarios.harness import invoke_concurrently
from devkit.scenarios.quiet import quiet_stdout
from devkit.scenarios.world import fresh_world
from scripts.bench.common import Profile, Report, Row


def measure_storm(emulator: AwsEmulator, profile: Profile, report: Report) -> None:
    """N alarm events over G groups delivered by P processes at once; exactly G rollbacks."""
    events_count, groups, processes = profile.storm_events, profile.storm_groups, profile.storm_processes
    deployment, aws = fresh_world(emulator, "storm")
    names = [f"storm-{index:02d}" for index in range(groups)]
    for name in names:
        aws.fresh_refresh(aws.fleet(name))
    refresh_api.clear_calls()
    events = [
        alarm_event(f"{names[index % groups]}-5xx", tags={ALARM_GROUP_TAG: names[index % groups]})
        for index in range(events_count)
    ]
    with quiet_stdout():
        started = time.perf_counter()
        outcomes = invoke_concurrently(deployment.environment, events, processes=processes)
        elapsed = time.perf_counter() - started
    rollbacks = len([call for call in refresh_api.calls(refresh_api.ROLLBACK) if call.ok])
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome["outcome"]] = counts.get(outcome["outcome"], 0) + 1
    rate = events_count / elapsed
    report.figures["storm"] = {
        "events": events_count,
        "groups": groups,
        "processes": processes,
        "seconds": elapsed,
        "events_per_second": rate,
        "rollbacks": rollbacks,
        "outcomes": counts,
    }
    shown = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    report.rows.append(
        Row(
            "4. Storm",
            f"{events_count} events over {groups} groups through {processes} processes (process start-up included)",
            f"{rate:.1f} events/s ({elapsed:.1f} s)",
        )
    )
    report.rows.append(
        Row(
            "4. Storm",
            "RollbackInstanceRefresh calls that reached AWS",
            f"{rollbacks} ({shown})",
            f"exactly {groups}",
            rollbacks == groups and counts.get("ROLLBACK_STARTED") == groups and "ERROR" not in counts,
        )
    )
