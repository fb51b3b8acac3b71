"""The storm: hundreds of duplicated alarm events from several processes at once, with and without AWS's rates."""

from __future__ import annotations

from dataclasses import replace

from devkit.aws import rate_model
from devkit.aws.aws_server import AwsEmulator
from devkit.reliability.lab import LAMBDA_ASYNC_RETRIES, Check, stage
from devkit.scenarios.harness import invoke_concurrently


def storm(
    emulator: AwsEmulator, *, groups: int = 24, alarms_per_group: int = 6, copies: int = 2, processes: int = 4
) -> Check:
    """Hundreds of alarm events with duplicates across tens of groups, from several processes at once."""
    with stage(emulator) as st:
        names = [f"storm-{index:02d}" for index in range(groups)]
        active = names[: groups * 3 // 4]  # the rest: opted in, no active refresh; plus one not opted in
        for name in names:
            fleet = st.fleet(name)
            if name in active:
                st.start(fleet)
        st.start(st.fleet("storm-not-opted-in", mode=None))
        events = []
        for name in [*names, "storm-not-opted-in"]:
            for index in range(alarms_per_group):
                event = st.alarm_event(f"{name}-alarm-{index}", tags={"auto-rollback:group": name})
                events += [event] * copies
        # interleave so that duplicates of one group land in different processes at about the same time
        events = [events[i] for i in sorted(range(len(events)), key=lambda i: (i % alarms_per_group, i))]
        outcomes = invoke_concurrently(st.deployment.environment, events, processes=processes)
        # Lambda retries a failed asynchronous invocation (ASYNC_RETRY_ATTEMPTS, 2): an event whose
        # duplicate still held its record after the function's wait (a starved machine) is
        # retried, as on AWS, instead of counting as lost. The promises are judged after that.
        delivered = [event for share in range(processes) for event in events[share::processes]]
        errors = [outcome for outcome in outcomes if outcome["outcome"] == "ERROR"]
        failed = [event for event, outcome in zip(delivered, outcomes, strict=True) if outcome["outcome"] == "ERROR"]
        retried = len(failed)
        for _ in range(LAMBDA_ASYNC_RETRIES):
            if not failed:
                break
            again = invoke_concurrently(st.deployment.environment, failed, processes=1)
            errors = [outcome for outcome in again if outcome["outcome"] == "ERROR"]
            failed = [event for event, outcome in zip(failed, again, strict=True) if outcome["outcome"] == "ERROR"]
        rollbacks = {name: len(st.accepted(name)) for name in [*names, "storm-not-opted-in"]}
        started_messages = [m for m in st.deployment.published() if m.attributes["outcome"] == "ROLLBACK_STARTED"]
        per_group = {name: 0 for name in names}
        for message in started_messages:
            per_group[message.attributes["autoScalingGroupName"]] += 1
        problems = []
        if errors:
            problems.append(f"{len(errors)} errors, e.g. {errors[0]['error']}")
        wrong = {name: count for name, count in rollbacks.items() if count != (1 if name in active else 0)}
        if wrong:
            problems.append(f"rollbacks off: {wrong}")
        # Outcomes are promised at least once (docs/RELIABILITY.md): on a starved machine a publish
        # record's holder can outlive its in-progress expiry, and a duplicate then publishes too.
        # A rollback never repeats; a group without one must get no ROLLBACK_STARTED at all.
        wrong_messages = {name: n for name, n in per_group.items() if (n < 1 if name in active else n != 0)}
        if wrong_messages:
            problems.append(f"notifications off: {wrong_messages}")
        return Check(
            "storm",
            f"{len(events)} events, {groups + 1} groups ({len(active)} with an active refresh), {processes} processes",
            f"{len(active)} rollbacks, ROLLBACK_STARTED at least once for each ({len(active)} when none repeats), "
            "0 errors",
            f"{sum(rollbacks.values())} rollbacks, {len(started_messages)} ROLLBACK_STARTED notifications, "
            f"{len(errors)} errors"
            + (f" ({retried} failed invocations retried, as Lambda retries them)" if retried else "")
            + ("; " + ", ".join(problems) if problems else ""),
            held=not problems,
        )


#: What one alarm event whose alarmTags name its group reads, whatever the account's size: DescribeTags
#: twice (the groups linked by prefix, the named group) and DescribeInstanceRefreshes once.
READS_PER_ALARM_EVENT = {"autoscaling:DescribeTags": 2, "autoscaling:DescribeInstanceRefreshes": 1}


def storm_under_aws_rates(
    emulator: AwsEmulator, *, groups: int = 8, alarms_per_group: int = 3, copies: int = 2, processes: int = 4
) -> Check:
    """The storm again, with the emulator answering as AWS does past its request rates (``AWS_RATES``).

    Holds if AWS did throttle it, the storm's promises still held (no failed invocation),
    and every event read exactly what one alarm event reads: retries are not new calls.
    """
    with rate_model.limited(rate_model.AWS_RATES) as model:
        check = storm(emulator, groups=groups, alarms_per_group=alarms_per_group, copies=copies, processes=processes)
    stats = model.stats()
    events = (groups + 1) * alarms_per_group * copies
    throttled = sum(counts.throttled for counts in stats.values())
    reads = {key: stats[key].served if key in stats else 0 for key in READS_PER_ALARM_EVENT}
    bounded = all(reads[key] == per_event * events for key, per_event in READS_PER_ALARM_EVENT.items())
    return replace(
        check,
        name=f"{check.name}, under AWS's request rates",
        observed=f"{check.observed}; {throttled} throttled answers, "
        f"{sum(reads.values()) / events:g} Auto Scaling reads per event",
        held=check.held and throttled > 0 and bounded,
    )
