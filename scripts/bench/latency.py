"""Section 8 of ``make bench``: the critical path's wall time when every AWS call takes a realistic time.

On loopback an AWS call costs a few milliseconds, so the number of calls and
their overlap hardly show. Here the embedded AWS delays every answer by
``LATENCY_SECONDS`` (``devkit.aws.rate_model``, server-side, so parallel calls
overlap as they would on AWS), and the figure is the time from the handler's
start until RollbackInstanceRefresh returns, for an alarm event with and without
alarmTags. The floor is what no correct design can skip: boto3 making the lock
write (DynamoDB PutItem) and then the rollback call, against the same emulator
with the same latency. Medians of repetitions interleaved in one run.

With equal latency L per call the alarm event with alarmTags needs one parallel
read round before those two calls (3L against 2L: 1.5x), without alarmTags two
rounds (the alarm's tags, then its groups': 4L against 2L: 2x). What is above
those ratios is the function's own time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from auto_rollback.vocabulary import ALARM_GROUP_TAG
from devkit.aws import rate_model
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.calls import ROLLBACK
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import make_alarm
from devkit.scenarios.harness import configured, invoke
from devkit.scenarios.quiet import quiet_stdout
from devkit.scenarios.world import fresh_world
from scripts.bench.common import Report, Row, median_ms

SECTION = "8. Latency"

#: Per-call latency, the same for every call of the function's services. An assumption (docs/PERFORMANCE.md):
#: AWS publishes no figure for its control-plane APIs. A low one is the strict choice: the function's own
#: time weighs more against a shorter floor.
LATENCY_SECONDS = 0.030
MAX_RATIO_WITH_TAGS = 1.5
MAX_RATIO_OTHERWISE = 2.0
FULL_REPS = 30
QUICK_REPS = 3
WARMUP = 2
#: The reads of an alarm event with alarmTags' one round.
PARALLEL_READS = 3


class RollbackClock:
    """When the function's RollbackInstanceRefresh last returned (a botocore ``after-call`` hook)."""

    def __init__(self) -> None:
        self.returned_at: float | None = None

    def attach(self, gateway: Any) -> None:
        """Hook every Auto Scaling client of the function's gateway: the rollback may have a client of its own."""
        for name in ("autoscaling", "autoscaling_writes"):
            client = getattr(gateway, name, None)
            if client is not None:  # the same client twice is hooked once (unique_id)
                client.meta.events.register(
                    f"after-call.auto-scaling.{ROLLBACK}", self._on_return, unique_id="bench-rollback-clock"
                )

    def reset(self) -> None:
        self.returned_at = None

    def _on_return(self, **_: Any) -> None:
        self.returned_at = time.perf_counter()


def measure_latency(emulator: AwsEmulator, report: Report, *, quick: bool) -> None:
    from auto_rollback.aws import CLIENT_CONFIG
    from auto_rollback.handler import get_service
    from auto_rollback.service import RollbackService

    deployment, aws = fresh_world(emulator, "latency")
    tags_fleet, lookup_fleet, floor_fleet = (aws.fleet(name) for name in ("lat-tags", "lat-lookup", "lat-floor"))
    make_alarm(aws.cloudwatch, "lat-lookup-5xx", group="lat-lookup")
    dynamodb = boto3.client("dynamodb", config=CLIENT_CONFIG)
    autoscaling = boto3.client("autoscaling", config=CLIENT_CONFIG)
    clock = RollbackClock()

    def handler_side(fleet_event: Callable[[], dict[str, Any]]) -> float:
        event = fleet_event()
        clock.reset()
        with rate_model.limited(latency=LATENCY_SECONDS):
            started = time.perf_counter()
            result = invoke(event)
        if result["outcome"] != "ROLLBACK_STARTED" or clock.returned_at is None:
            raise RuntimeError(f"the latency scenario did not roll back: {result['outcome']}")
        return clock.returned_at - started

    def floor_side() -> float:
        aws.fresh_refresh(floor_fleet)
        item = {"id": {"S": f"floor-{uuid.uuid4()}"}}
        with rate_model.limited(latency=LATENCY_SECONDS):
            started = time.perf_counter()
            dynamodb.put_item(
                TableName=deployment.table_name, Item=item, ConditionExpression="attribute_not_exists(id)"
            )
            autoscaling.rollback_instance_refresh(AutoScalingGroupName=floor_fleet.group_name)
            return time.perf_counter() - started

    def with_tags() -> dict[str, Any]:
        aws.fresh_refresh(tags_fleet)
        return alarm_event("lat-tags-5xx", tags={ALARM_GROUP_TAG: tags_fleet.group_name})

    def without_tags() -> dict[str, Any]:
        aws.fresh_refresh(lookup_fleet)
        return alarm_event("lat-lookup-5xx")

    # What a parallel round costs here: the emulator answers in this one process, so it may not serve
    # concurrent reads as concurrently as AWS does. Measured, not assumed, to read the ratios by.
    pool = ThreadPoolExecutor(max_workers=PARALLEL_READS)

    def reads_side(count: int) -> float:
        def read() -> None:
            autoscaling.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": [tags_fleet.group_name]}])

        with rate_model.limited(latency=LATENCY_SECONDS):
            started = time.perf_counter()
            for future in [pool.submit(read) for _ in range(count)]:
                future.result()
            return time.perf_counter() - started

    sides: dict[str, Callable[[], float]] = {
        "tags": lambda: handler_side(with_tags),
        "lookup": lambda: handler_side(without_tags),
        "floor": floor_side,
        "one_read": lambda: reads_side(1),
        "parallel_reads": lambda: reads_side(PARALLEL_READS),
    }
    reps = QUICK_REPS if quick else FULL_REPS
    samples: dict[str, list[float]] = {key: [] for key in sides}
    order = list(sides)
    with configured(deployment.environment), quiet_stdout():
        service = get_service()
        if not isinstance(service, RollbackService):  # per-account mode: the deployment names no member role
            raise TypeError(f"the latency scenario needs per-account mode, not {type(service).__name__}")
        clock.attach(service.gateway)  # the warm container's clients, kept across invocations
        for rep in range(WARMUP + reps):
            shift = rep % len(order)  # each side goes first, second and last in turn
            for key in order[shift:] + order[:shift]:
                elapsed = sides[key]()
                if rep >= WARMUP:
                    samples[key].append(elapsed)
    pool.shutdown()
    medians = {key: median_ms(values) for key, values in samples.items()}
    report.figures["latency"] = {"latency_ms": LATENCY_SECONDS * 1000, "reps": reps, "medians_ms": medians}
    report.rows.append(
        Row(
            SECTION,
            "Latency added to every call of the function's services, server-side (`rate_model.set_latency`)",
            f"{LATENCY_SECONDS * 1000:.0f} ms",
        )
    )
    floor = medians["floor"]
    for key, title, limit in (
        ("tags", "Alarm event with alarmTags", MAX_RATIO_WITH_TAGS),
        ("lookup", "Alarm event without alarmTags", MAX_RATIO_OTHERWISE),
    ):
        ratio = medians[key] / floor
        # The part of the wall time above what the design's read rounds cost at this latency.
        above = medians[key] - limit * floor
        report.figures["latency"][f"{key}_ratio"] = ratio
        report.rows.append(
            Row(
                SECTION,
                f"{title}: handler start → {ROLLBACK} returned, vs boto3's PutItem + {ROLLBACK} "
                f"(medians of {reps}, interleaved)",
                f"{medians[key]:.0f} ms vs {floor:.0f} ms = {ratio:.2f}x ({above:+.0f} ms against {limit}x)",
                f"≤ {limit}x",
                ratio <= limit,
            )
        )
    one, parallel = medians["one_read"], medians["parallel_reads"]
    report.rows.append(
        Row(
            SECTION,
            f"What a parallel round costs on this emulator: {PARALLEL_READS} DescribeTags from boto3 threads "
            f"vs 1 (medians of {reps}, interleaved)",
            f"{parallel:.0f} ms vs {one:.0f} ms ({parallel - one:+.0f} ms)",
        )
    )
