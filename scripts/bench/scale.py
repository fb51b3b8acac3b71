"""Section 7 of ``make bench``: the AWS calls per event do not grow with the account.

Each kind of event (``devkit.scenarios.large_account.EVENT_KINDS``) is handled in
accounts of several sizes: bulk opted-in groups and bulk alarms, half of them in
ALARM, none linked to the groups the events concern. The emulator pages as AWS
does, so a read that listed the account would cost more pages in a larger one.
The figure per kind is the calls before RollbackInstanceRefresh and in the whole
invocation at every size; the target is that both are the same at every size and
that the first is within the section-1 target.

``LargeAccount`` only ever grows, so the sizes are visited in monotone passes with
the emulator reset between them: groups grow at the smaller alarm count and then
the alarms grow at the largest group count; then, from scratch, the groups grow
again at the larger alarm count, short of the largest (already measured). That
covers every combination and creates the largest group count only once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.calls import CallRecorder, critical_path, tally
from devkit.scenarios.harness import Deployment, configured, invoke
from devkit.scenarios.large_account import EVENT_KINDS, LargeAccount, Subjects
from devkit.scenarios.quiet import quiet_stdout
from devkit.scenarios.world import World, fresh_world
from scripts.bench import paths
from scripts.bench.common import Report, Row

SECTION = "7. Scale"

#: Bulk groups and bulk alarms (half in ALARM) measured, each group count with each alarm count.
FULL_GROUPS = (10, 1_000, 5_000)
FULL_ALARMS = (100, 2_000)
#: Small enough for the test suite; still several DescribeTags and DescribeAlarms pages.
QUICK_GROUPS = (10, 300)
QUICK_ALARMS = (100, 250)

#: Each kind's section-1 target, in EVENT_KINDS' order.
LIMITS = dict(
    zip(
        EVENT_KINDS,
        (
            paths.MAX_CALLS_WITH_TAGS,
            paths.MAX_CALLS_OTHERWISE,
            paths.MAX_CALLS_OTHERWISE,
            paths.MAX_CALLS_CHECKPOINT,
            paths.MAX_CALLS_CHECKPOINT_BY_TAG,
            paths.MAX_CALLS_CHECKPOINT_BOTH,
        ),
        strict=True,
    )
)


def passes(groups: tuple[int, ...], alarms: tuple[int, ...]) -> list[list[tuple[int, int]]]:
    """The (groups, alarms) sizes of each pass, every size in a pass at least the one before it."""
    first = [(count, alarms[0]) for count in groups] + [(groups[-1], count) for count in alarms[1:]]
    return [first] + [[(count, more) for count in groups[:-1]] for more in alarms[1:]]


@dataclass
class Population:
    """How long building the bulk took, over HTTP, one create call at a time (groups and alarms timed apart)."""

    groups: int = 0
    group_seconds: float = 0.0
    alarms: int = 0
    alarm_seconds: float = 0.0
    #: Seconds to create the largest account's groups from none (the first pass reaches it).
    largest_groups: int = 0
    largest_group_seconds: float = 0.0
    largest_groups_done: bool = False

    def grow(self, account: LargeAccount, groups: int, alarms: int) -> None:
        added, started = groups - account.groups, time.perf_counter()
        account.grow(groups=groups, alarms=account.alarms)
        elapsed = time.perf_counter() - started
        self.groups, self.group_seconds = self.groups + added, self.group_seconds + elapsed
        if groups > self.largest_groups and not self.largest_groups_done:
            self.largest_groups, self.largest_group_seconds = groups, self.largest_group_seconds + elapsed
        added, started = alarms - account.alarms, time.perf_counter()
        account.grow(groups=groups, alarms=alarms)
        self.alarms, self.alarm_seconds = self.alarms + added, self.alarm_seconds + time.perf_counter() - started


@dataclass
class Measured:
    """One kind of event at every size: the calls before the rollback call (a multiset) and in all."""

    before: list[dict[str, int]] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)


def _measure(
    subjects: Subjects, deployment: Deployment, recorder: CallRecorder, round_: int, measured: dict[str, Measured]
) -> None:
    for kind in EVENT_KINDS:
        event = subjects.event(kind, round_)
        with configured(deployment.environment), quiet_stdout(), recorder.recording() as calls:
            result = invoke(event)
        if result["outcome"] != "ROLLBACK_STARTED":
            raise RuntimeError(f"{kind}: no rollback ({result['outcome']} {result.get('reason')})")
        measured[kind].before.append(tally(critical_path(calls)))
        measured[kind].totals.append(len(calls))


def measure_scale(emulator: AwsEmulator, recorder: CallRecorder, report: Report, *, quick: bool) -> None:
    groups, alarms = (QUICK_GROUPS, QUICK_ALARMS) if quick else (FULL_GROUPS, FULL_ALARMS)
    measured = {kind: Measured() for kind in EVENT_KINDS}
    sizes: list[tuple[int, int]] = []
    population = Population()
    for sizes_of_pass in passes(groups, alarms):
        deployment, aws = fresh_world(emulator, "scale")
        account = LargeAccount(aws.ec2, aws.autoscaling, aws.cloudwatch)
        subjects = _subjects(aws)
        for count, alarm_count in sizes_of_pass:
            population.grow(account, count, alarm_count)
            _measure(subjects, deployment, recorder, len(sizes) + 1, measured)
            sizes.append((count, alarm_count))
        population.largest_groups_done = True  # only the first pass builds its groups from none to the largest
    report.figures["scale"] = {
        "sizes": sizes,
        "kinds": {
            kind: {"limit": LIMITS[kind], "before": found.before, "totals": found.totals}
            for kind, found in measured.items()
        },
        "population": vars(population),
    }
    shape = f"{_counts(groups)} groups x {_counts(alarms)} alarms" + (" (quick mode: small accounts)" if quick else "")
    for kind, found in measured.items():
        report.rows.append(_row(kind, found, sizes, shape))
    report.rows.append(
        Row(
            SECTION,
            "Building the bulk over HTTP, one create call at a time (`LargeAccount.grow`)",
            f"{population.groups:,} groups in {population.group_seconds:.0f} s (the {population.largest_groups:,} "
            f"in {population.largest_group_seconds:.0f} s), {population.alarms:,} alarms in "
            f"{population.alarm_seconds:.0f} s",
        )
    )


def _subjects(aws: World) -> Subjects:
    return Subjects.create(aws.ec2, aws.autoscaling, aws.cloudwatch)


def _row(kind: str, found: Measured, sizes: list[tuple[int, int]], shape: str) -> Row:
    counts = [sum(before.values()) for before in found.before]
    flat = all(before == found.before[0] for before in found.before) and len(set(found.totals)) == 1
    limit = LIMITS[kind]
    if flat:
        figure = f"{counts[0]} before the rollback call, {found.totals[0]} in all, at each of the {len(sizes)} sizes"
    else:
        figure = "; ".join(
            f"{count:,}g/{alarms:,}a: {before} before, {total} in all"
            for (count, alarms), before, total in zip(sizes, counts, found.totals, strict=True)
        )
    return Row(
        SECTION,
        f"{kind[0].upper()}{kind[1:]}: calls at {shape}",
        figure,
        f"the same at every size, ≤ {limit} before the rollback call",
        flat and max(counts) <= limit,
    )


def _counts(values: tuple[int, ...]) -> str:
    return "/".join(f"{value:,}" for value in values)
