"""What every section of ``make bench`` shares: the table's rows, the report, the scenario builders.

Split from ``scripts/bench.py`` so each section can live in a module of its own
(``bench_paths``, ``bench_scale``, ``bench_latency``, ``bench_limits``) without
importing the runner that imports them.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

import boto3  # noqa: E402 - the function's package must be on the path first

from devkit.aws import refresh_api  # noqa: E402
from devkit.aws.aws_server import AwsEmulator  # noqa: E402
from devkit.scenarios.fleet import Fleet, make_alarm, make_fleet, start_refresh  # noqa: E402
from devkit.scenarios.harness import Deployment  # noqa: E402

ROLLBACK = "RollbackInstanceRefresh"
MODE_TAG = "auto-rollback"
PREFIX_TAG = "auto-rollback:alarm-prefix"
GROUP_TAG = "auto-rollback:group"


@dataclass
class Row:
    """One line of the table: a figure, its target, and whether the target is met (None: no target)."""

    section: str
    measure: str
    figure: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: ""}[self.met]


@dataclass
class Report:
    """Everything ``make bench`` prints, and what ``--json`` writes for the test."""

    quick: bool
    machine: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    critical_paths: dict[str, dict[str, Any]] = field(default_factory=dict)
    importtime: list[tuple[str, float]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: the function logs JSON lines to stdout, as in Lambda.

    Done at the descriptor level so Powertools' handlers (bound to stdout when
    created) and child processes are silenced too, while their cost is still paid.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        os.dup2(devnull.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def put_alarm(cloudwatch: Any, name: str, *, group: str | None = None) -> str:
    """A metric alarm in ALARM, tagged to ``group`` if given; its ARN."""
    return make_alarm(cloudwatch, name, group=group)


@dataclass
class Aws:
    """Clients the benchmark uses to build the scenarios (not the function's clients)."""

    autoscaling: Any
    cloudwatch: Any
    ec2: Any

    @classmethod
    def connect(cls) -> Aws:
        return cls(boto3.client("autoscaling"), boto3.client("cloudwatch"), boto3.client("ec2"))

    def fleet(self, name: str, *, prefix: str | None = None) -> Fleet:
        tags = {MODE_TAG: "enabled"}
        if prefix:
            tags[PREFIX_TAG] = prefix
        return make_fleet(self.ec2, self.autoscaling, name, tags=tags)

    def fresh_refresh(self, fleet: Fleet) -> str:
        """End the group's latest refresh (if any) and start a new one; its id."""
        history = refresh_api.refreshes(fleet.group_name)
        if history and history[0]["Status"] not in refresh_api.TERMINAL_STATUSES:
            refresh_api.advance(fleet.group_name, "RollbackSuccessful")
        refresh_id = start_refresh(self.autoscaling, fleet)
        # Alarm timestamps have millisecond precision: keep the alarm strictly after the start.
        time.sleep(0.002)
        return refresh_id


def fresh_world(emulator: AwsEmulator, name: str) -> tuple[Deployment, Aws]:
    """Forget everything in the emulator, then deploy the function's resources again.

    With the chat topic, as the stack always creates it: every outcome is published
    twice (the outcome, then its chat copy), and the figures count both.
    """
    emulator.reset()
    chat_topic = boto3.client("sns").create_topic(Name=f"{name}-chat")["TopicArn"]
    return Deployment.create(name=name, CHAT_TOPIC_ARN=chat_topic), Aws.connect()


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def multiset(counts: dict[str, int]) -> str:
    """``{"a": 2, "b": 1}`` as "2x a, b": calls made in parallel threads come in no fixed order."""
    return ", ".join(name if count == 1 else f"{count}x {name}" for name, count in counts.items())
