"""Section 9 of ``make bench``: a storm of alarm events under AWS's request rates.

The storm of section 4 runs against an emulator that answers as fast as it can.
Here the emulator enforces ``devkit.aws.rate_model.AWS_RATES`` (Auto Scaling's
account-wide bucket, CloudWatch's and the tagging API's per-operation rates) and
answers every call after the same latency as section 8, and the events come in at
the reserved concurrency the deploy guide recommends (``RECOMMENDED_RESERVED_CONCURRENCY``
in infra/config.py: that many containers at most), in an account of thousands of
opted-in groups. Throttled calls are retried by botocore, as in Lambda; what the
storm shows is whether every refresh is still rolled back exactly once, whether
any invocation fails, and how many reads each event costs.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter

from auto_rollback.vocabulary import ALARM_GROUP_TAG
from devkit.aws import rate_model, refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.events import alarm_event
from devkit.scenarios.harness import invoke_concurrently
from devkit.scenarios.large_account import LargeAccount
from devkit.scenarios.quiet import quiet_stdout
from devkit.scenarios.world import fresh_world
from scripts.bench.common import Report, Row, multiset
from scripts.bench.latency import LATENCY_SECONDS
from scripts.bench.paths import MAX_CALLS_WITH_TAGS

SECTION = "9. Storm under AWS rates"

#: (events, groups with an active refresh, opted-in groups in the account)
FULL = (1_000, 200, 5_000)
QUICK = (100, 20, 300)
#: Reads of an alarm event with alarmTags: every call before the rollback call but the lock write.
READS_WITH_TAGS = MAX_CALLS_WITH_TAGS - 1
#: And one more when the rollback call fails: the function then reads the refresh to see whether AWS applied it.
MAX_READS = READS_WITH_TAGS + 1
READ_SERVICES = frozenset({"autoscaling", "cloudwatch", "resourcegroupstaggingapi"})


def reserved_concurrency() -> int:
    """The reserved concurrency docs/DEPLOY.md recommends (the stack reserves none by default,
    so that it deploys in a new account), from infra/config.py (no CDK app is built)."""
    from infra.config import RECOMMENDED_RESERVED_CONCURRENCY

    return RECOMMENDED_RESERVED_CONCURRENCY


def reads(calls: dict[str, int]) -> int:
    """Read calls of AWS's state (not the idempotency table's), by ``service:Operation`` tally."""
    return sum(
        count
        for name, count in calls.items()
        if name.split(":")[0] in READ_SERVICES and name.split(":")[1].startswith(("Describe", "List", "Get"))
    )


def measure_storm_under_rates(emulator: AwsEmulator, report: Report, *, quick: bool) -> None:
    events_count, groups, account_groups = QUICK if quick else FULL
    processes = reserved_concurrency()
    deployment, aws = fresh_world(emulator, "rates")
    names = [f"rates-{index:03d}" for index in range(groups)]
    for name in names:
        aws.fresh_refresh(aws.fleet(name))
    # The rest of the account: opted-in groups no event concerns.
    LargeAccount(aws.ec2, aws.autoscaling, aws.cloudwatch).grow(groups=account_groups - groups, alarms=0)
    refresh_api.clear_calls()
    events = [
        alarm_event(f"{names[index % groups]}-5xx", tags={ALARM_GROUP_TAG: names[index % groups]})
        for index in range(events_count)
    ]
    with quiet_stdout(), rate_model.limited(rate_model.AWS_RATES, latency=LATENCY_SECONDS) as model:
        started = time.perf_counter()
        answers = invoke_concurrently(deployment.environment, events, processes=processes, record_calls=True)
        elapsed = time.perf_counter() - started
    stats = model.stats()
    per_group = Counter(call.group_name for call in refresh_api.calls(refresh_api.ROLLBACK) if call.ok)
    rollbacks = sum(per_group.values())
    outcomes = Counter(answer["outcome"] for answer in answers)
    failures = Counter(answer["error"] for answer in answers if answer["outcome"] == "ERROR")
    per_event = [reads(answer["calls"]) for answer in answers]
    throttled = {key: counts.throttled for key, counts in sorted(stats.items()) if counts.throttled}
    served = sum(counts.served for counts in stats.values())
    report.figures["storm_under_rates"] = {
        "events": events_count,
        "groups": groups,
        "account_groups": account_groups,
        "processes": processes,
        "latency_ms": LATENCY_SECONDS * 1000,
        "seconds": elapsed,
        "rollbacks": rollbacks,
        "groups_rolled_back": len(per_group),
        "most_rollbacks_of_a_group": max(per_group.values(), default=0),
        "outcomes": dict(outcomes),
        "failures": dict(failures),
        "reads_max": max(per_event),
        "reads_histogram": dict(sorted(Counter(per_event).items())),
        "reads_mean": statistics.mean(per_event),
        # The events that read more than an alarm event's reads, to tell why (a few suffice).
        "more_reads": [answer for answer, made in zip(answers, per_event, strict=True) if made > READS_WITH_TAGS][:5],
        "served": served,
        "throttled": throttled,
    }
    shown = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
    report.rows.append(
        Row(
            SECTION,
            f"{events_count:,} alarm events (alarmTags) over {groups} refreshing groups in an account of "
            f"{account_groups:,} opted-in groups, {processes} containers (the recommended reserved concurrency), "
            f"`AWS_RATES` and {LATENCY_SECONDS * 1000:.0f} ms a call",
            f"{elapsed:.0f} s ({events_count / elapsed:.1f} events/s)",
        )
    )
    report.rows.append(
        Row(
            SECTION,
            "RollbackInstanceRefresh calls that reached AWS",
            f"{rollbacks} ({shown})",
            f"exactly {groups}, one per group",
            rollbacks == groups == len(per_group),
        )
    )
    failed = outcomes.get("ERROR", 0)
    causes = "; ".join(f"{count}x {error}" for error, count in failures.most_common(3))
    report.rows.append(
        Row(SECTION, "Failed invocations", f"{failed}" + (f" ({causes})" if causes else ""), "0", failed == 0)
    )
    report.rows.append(
        Row(
            SECTION,
            "Read calls per event (Auto Scaling, CloudWatch, tagging; retries not counted)",
            f"max {max(per_event)}, mean {statistics.mean(per_event):.2f} (events by reads: "
            + ", ".join(f"{reads_made}: {count}" for reads_made, count in sorted(Counter(per_event).items()))
            + ")",
            f"≤ {MAX_READS} each ({READS_WITH_TAGS}, and 1 to check a failed rollback call)",
            max(per_event) <= MAX_READS,
        )
    )
    report.rows.append(
        Row(
            SECTION,
            "Throttled answers the emulator gave (all retried: reads by botocore, the rollback call by the function)",
            f"{sum(throttled.values()):,} of {served + sum(throttled.values()):,} requests"
            + (f": {multiset(throttled)}" if throttled else ""),
        )
    )
