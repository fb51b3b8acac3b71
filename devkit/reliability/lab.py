"""The reliability checks, shared by the tests (which assert them) and ``make reliability`` (which counts them).

Each check builds what it needs in the emulator, runs the real handler, and
returns :class:`Check` records: what was tried, what was expected, what was
observed, and whether the promises held. Nothing here patches the function.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from devkit.aws import rate_model, refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.aws.faults import Crash, FaultKind, Injection, function_clients, injected
from devkit.scenarios.events import alarm_event, refresh_event
from devkit.scenarios.fleet import Fleet, make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import Deployment, LambdaContext, Published, configured, invoke, invoke_concurrently

GROUP = "web-prod"
LINK = {"auto-rollback:group": GROUP}
#: Time limit of an invocation that is made to fail: its in-progress records expire with it.
SHORT_TIMEOUT = 2.5
#: Where each scenario puts the refresh start and the alarms, relative to one clock reading: the
#: refresh started ten minutes ago, the alarms fired five minutes later. Nothing depends on which of
#: two clock readings came first, or on how long the machine took between them.
REFRESH_AGE = timedelta(minutes=10)
ALARM_AFTER_START = timedelta(minutes=5, milliseconds=123)

RETRIED = "retry and succeed"
CONFIRMED = "confirm the change by re-reading the refresh, publish once"
FAILS = "fail into the failure destination, redelivery completes"
DEGRADES = "degrade with a clear log"

#: The calls that change the refresh: an answer lost after AWS applied them is ambiguous to the caller.
REFRESH_CHANGES = frozenset({refresh_api.ROLLBACK, refresh_api.CANCEL})


@dataclass
class Stage:
    """A freshly reset emulator with the function deployed and configured in this process."""

    deployment: Deployment
    autoscaling: Any = field(default_factory=lambda: boto3.client("autoscaling"))
    cloudwatch: Any = field(default_factory=lambda: boto3.client("cloudwatch"))
    ec2: Any = field(default_factory=lambda: boto3.client("ec2"))

    def fleet(self, name: str = GROUP, *, mode: str | None = "enabled", **kwargs: Any) -> Fleet:
        tags = dict(kwargs.pop("tags", {}))
        if mode is not None:
            tags["auto-rollback"] = mode
        return make_fleet(self.ec2, self.autoscaling, name, tags=tags, **kwargs)

    #: When this stage's refreshes started (whole seconds, as AWS shows them).
    started: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - REFRESH_AGE)

    @property
    def alarm_at(self) -> datetime:
        """When this stage's alarms went to ALARM: after the refresh started, by construction."""
        return self.started + ALARM_AFTER_START

    def alarm(self, name: str, *, group: str | None = GROUP) -> None:
        make_alarm(self.cloudwatch, name, group=group, at=self.alarm_at)

    def start(self, fleet: Fleet) -> str:
        """Start a refresh of ``fleet`` at this stage's start time."""
        return start_refresh(self.autoscaling, fleet, at=self.started)

    def alarm_event(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """The state-change event of alarm ``name``, at this stage's alarm time."""
        return alarm_event(name, at=self.alarm_at, **kwargs)

    def accepted(self, group: str | None = GROUP) -> list[refresh_api.CallRecord]:
        """Rollback and cancel calls that AWS accepted (the ones that changed something)."""
        calls = [*refresh_api.calls(refresh_api.ROLLBACK, group), *refresh_api.calls(refresh_api.CANCEL, group)]
        return [call for call in calls if call.ok]

    def status(self, group: str = GROUP) -> str:
        return str(refresh_api.refreshes(group)[0]["Status"])


@contextmanager
def stage(emulator: AwsEmulator, **settings: str) -> Iterator[Stage]:
    emulator.reset()
    refresh_api.reset()
    deployment = Deployment.create(**settings)
    with configured(deployment.environment):
        yield Stage(deployment)


@dataclass
class ShortLivedContext(LambdaContext):
    """The context of an invocation that is made to fail or die: SHORT_TIMEOUT left at every reading.

    Powertools stamps an in-progress record with "now + remaining time". Lambda's own clock
    runs down, so on a slow or loaded machine a record taken late in the invocation would
    expire sooner, or (remaining 0) never, and whether a redelivery can take it over would
    depend on the machine's speed. Here it expires SHORT_TIMEOUT after it was taken, always.
    """

    timeout_seconds: float = SHORT_TIMEOUT

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_seconds * 1000)


def invoke_short(event: Any) -> dict[str, Any]:
    """Call the real handler as an invocation whose records expire SHORT_TIMEOUT after they are taken."""
    from auto_rollback.handler import lambda_handler

    result: dict[str, Any] = lambda_handler(event, ShortLivedContext())
    return result


def attempts_per_call(service: str, operation: str) -> int:
    """How many attempts the function makes per call of ``operation`` when every answer is lost.

    botocore's (retries + 1) for reads; for rollback and cancel, whose client makes one attempt,
    the gateway's own, which retries a connection error as often as botocore would.
    """
    if operation in REFRESH_CHANGES:
        from auto_rollback.aws import MAX_ATTEMPTS

        return MAX_ATTEMPTS
    retries = function_clients()[service].meta.config.retries or {}
    return int(retries["total_max_attempts"])


@dataclass(frozen=True)
class Check:
    """One tried condition and whether the promises held under it."""

    family: str
    name: str
    expected: str
    observed: str
    held: bool
    faults: int = 0


# --------------------------------------------------------------------------- fault matrix


@dataclass(frozen=True)
class Call:
    """One AWS call the function makes, and the scenario in which it makes it."""

    label: str
    service: str
    operation: str
    scenario: str  # alarm | checkpoint | checkpoint-by-tag | irreversible | duplicate | rollback-refused
    skip: int = 0  # occurrences to let through first (the second PutItem is the publish lock)


CALLS = (
    Call("DescribeTags (linked groups)", "autoscaling", "DescribeTags", "alarm"),
    Call("ListTagsForResource (alarm tags)", "cloudwatch", "ListTagsForResource", "alarm"),
    Call("DescribeInstanceRefreshes", "autoscaling", "DescribeInstanceRefreshes", "alarm"),
    Call("DescribeAlarms (checkpoint)", "cloudwatch", "DescribeAlarms", "checkpoint"),
    Call("ListAlarmMuteRules (checkpoint)", "cloudwatch", "ListAlarmMuteRules", "checkpoint"),
    Call("GetResources (checkpoint, tagged alarms)", "tagging", "GetResources", "checkpoint-by-tag"),
    Call("DynamoDB PutItem (action lock)", "dynamodb", "PutItem", "alarm"),
    Call("RollbackInstanceRefresh", "autoscaling", "RollbackInstanceRefresh", "alarm"),
    Call("DynamoDB UpdateItem (action outcome)", "dynamodb", "UpdateItem", "alarm"),
    Call("DynamoDB PutItem (publish lock)", "dynamodb", "PutItem", "alarm", skip=1),
    Call("sns:Publish", "sns", "Publish", "alarm"),
    Call("DynamoDB UpdateItem (publish record)", "dynamodb", "UpdateItem", "alarm", skip=1),
    Call("CancelInstanceRefresh (fallback)", "autoscaling", "CancelInstanceRefresh", "irreversible"),
    Call("DynamoDB GetItem (duplicate replay)", "dynamodb", "GetItem", "duplicate"),
    Call("DynamoDB DeleteItem (release after refusal)", "dynamodb", "DeleteItem", "rollback-refused"),
)


#: The fault kinds only some calls get, and which: a lost answer only the refresh changes, a
#: non-retried error only sns:Publish (the one call whose model declares one, KMSThrottling).
ONLY_FOR = {FaultKind.LOST_ANSWER: REFRESH_CHANGES, FaultKind.NOT_RETRIED: frozenset({"Publish"})}


def kinds_for(call: Call) -> tuple[FaultKind, ...]:
    """The faults tried on ``call``: all, except the kinds in :data:`ONLY_FOR`, which only their calls get.

    (A read whose every answer is lost is a read timeout on every attempt; DynamoDB and SNS
    writes with every answer lost are left open, see docs/RELIABILITY.md.)
    """
    return tuple(kind for kind in FaultKind if kind not in ONLY_FOR or call.operation in ONLY_FOR[kind])


def expected_behaviour(call: Call, kind: FaultKind) -> str:
    """The written-down expectation for one cell of the matrix (docs/RELIABILITY.md shows it)."""
    if kind in {FaultKind.ACCESS_DENIED, FaultKind.NOT_RETRIED} or call.scenario == "rollback-refused":
        return FAILS
    if kind in {FaultKind.CONNECTION, FaultKind.LOST_ANSWER} and call.operation in REFRESH_CHANGES:
        # AWS applied the call and the caller cannot tell: botocore's retry is refused
        # (ActiveInstanceRefreshNotFound), or every attempt ends in a connection error. Either way
        # the function re-reads the refresh, sees it rolling back (cancelling), and reports that.
        return CONFIRMED
    if kind is FaultKind.CONNECTION and call.operation == "PutItem":
        # The lock was written but its answer lost: the retry finds it taken (by us). The invocation
        # waits, then fails; the redelivery takes the record over when it expires with the dead
        # invocation's time limit.
        return FAILS
    return RETRIED


def _prepare(st: Stage, call: Call) -> tuple[dict[str, Any], str]:
    """Build the scenario's world; the event to deliver and the outcome it must publish."""
    if call.scenario == "irreversible":
        st.start(st.fleet(version="$Latest"))
        st.alarm("web-prod-5xx")
        return st.alarm_event("web-prod-5xx"), "CANCELLED"
    fleet = st.fleet(tags={"auto-rollback:alarm-prefix": "web-prod-"} if call.scenario == "checkpoint" else {})
    refresh_id = st.start(fleet)
    refresh_api.advance(GROUP, "InProgress", percentage=50)
    st.alarm("web-prod-5xx")
    if call.scenario in {"checkpoint", "checkpoint-by-tag"}:  # by tag: the group has no alarm-name prefix
        return refresh_event("checkpoint-reached", GROUP, refresh_id), "ROLLBACK_STARTED"
    if call.scenario == "duplicate":
        invoke(st.alarm_event("web-prod-5xx"))  # the rollback is done and published
        st.alarm("web-prod-latency")
        return st.alarm_event("web-prod-latency"), "ROLLBACK_STARTED"
    return st.alarm_event("web-prod-5xx"), "ROLLBACK_STARTED"


def run_cell(emulator: AwsEmulator, call: Call, kind: FaultKind) -> Check:
    """Inject ``kind`` into ``call``, deliver the event, redeliver it if the invocation failed; check."""
    expected = expected_behaviour(call, kind)
    with stage(emulator) as st:
        event, outcome = _prepare(st, call)
        injections = [Injection(call.service, call.operation, kind, times=1, skip=call.skip)]
        if call.scenario == "rollback-refused":  # the refusal is what makes the function release its lock
            injections.insert(0, Injection("autoscaling", "RollbackInstanceRefresh", FaultKind.ACCESS_DENIED))
        failed: BaseException | None = None
        with injected(*injections):
            try:
                first = invoke_short(event)
            except Exception as error:
                failed = error
        redelivered = invoke(event) if failed is not None else None
        again = invoke(event)  # one more redelivery at the end: must change nothing
        messages = st.deployment.published()
        published = [m for m in messages if m.attributes["outcome"] == outcome]
        accepted = st.accepted()
        final = redelivered if redelivered is not None else first
        confirmed = failed is None and final.get("details", {}).get("confirmedBy") == "DescribeInstanceRefreshes"
        behaviour = FAILS if failed is not None else CONFIRMED if confirmed else RETRIED
        problems = []
        if behaviour != expected:
            problems.append(f"behaviour: {behaviour}")
        if len(accepted) != 1:
            problems.append(f"{len(accepted)} accepted rollback/cancel calls")
        if not published:
            problems.append(f"no {outcome} notification")
        if behaviour == CONFIRMED and (len(published) != 1 or len(messages) != 1):
            problems.append(f"{len(messages)} notifications, {len(published)}x {outcome}: expected exactly one")
        if final["outcome"] not in {outcome, "DEDUPLICATED"} or again["outcome"] != "DEDUPLICATED":
            problems.append(f"outcomes {final['outcome']} then {again['outcome']}")
        if injections[-1].injected != 1 and kind is not FaultKind.LOST_ANSWER:
            problems.append("the fault was not reached")
        attempts = attempts_per_call(call.service, call.operation)
        if kind is FaultKind.LOST_ANSWER and injections[-1].injected != attempts:
            problems.append(f"answers lost on {injections[-1].injected} attempts, not on all {attempts}")
        observed = f"{behaviour}; {len(accepted)} change; {len(published)}x {outcome} published"
        if failed is not None:
            observed += f" (first invocation: {type(failed).__name__})"
        return Check(
            "fault",
            f"{call.label} / {kind.value}",
            expected,
            observed + ("; " + ", ".join(problems) if problems else ""),
            held=not problems,
            faults=sum(i.injected for i in injections),
        )


#: The (call, fault) cells of the matrix.
CELLS = tuple((call, kind) for call in CALLS for kind in kinds_for(call))


def fault_matrix(emulator: AwsEmulator) -> Iterator[Check]:
    for call, kind in CELLS:
        yield run_cell(emulator, call, kind)


# --------------------------------------------------------------------------- crash at every step


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


# --------------------------------------------------------------------------- storm


#: Lambda's own retries of a failed asynchronous invocation (infra/function.py ASYNC_RETRY_ATTEMPTS).
LAMBDA_ASYNC_RETRIES = 2


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


Runner = Callable[[AwsEmulator], Iterator[Check]]


# --------------------------------------------------------------------------- bad input

#: Where the function's validation errors may point (InvalidEventError.field).
FIELD = re.compile(
    r"^(event|id|source|detail-type|region|account|resources|action|autoScalingGroupName|reason|dryRun"
    r"|detail(\.[A-Za-z]+)*(\.alarmTags\..*)?|[\x20-\x7e]{1,80})$"
)


def _deep(depth: int) -> Any:
    nested: Any = "bottom"
    for _ in range(depth):
        nested = {"a": nested}
    return nested


def _with(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``event`` with the dotted ``path`` set to ``value`` (or removed, for _MISSING)."""
    copied = copy.deepcopy(event)
    *parents, last = path.split(".")
    node = copied
    for key in parents:
        node = node[key]
    if value is _MISSING:
        node.pop(last, None)
    else:
        node[last] = value
    return copied


_MISSING = object()
HOSTILE_TEXT = {
    "huge": "x" * 300_000,
    "non-utf8 escape": "\udcff\udcfe",
    "newline": "web-prod\nSubject: injected",
    "control": "web-prod\x00\x07\x1b[31m",
    "empty": "",
}


def bad_input_corpus() -> list[tuple[str, Any, str]]:
    """(label, event, field the rejection must name) for malformed and hostile events."""
    alarm = alarm_event("web-prod-5xx", tags=LINK)
    refresh = refresh_event("checkpoint-reached", GROUP, "c613620e-07e2-4ed2-a9e2-ef8258911ade")
    corpus: list[tuple[str, Any, str]] = [
        ("not an object (list)", [alarm], "event"),
        ("not an object (string)", "ALARM", "event"),
        ("null", None, "event"),
        ("unknown detail-type", _with(alarm, "detail-type", "CloudWatch Alarm Configuration Change"), "detail-type"),
        (
            "contributor state change",
            _with(alarm, "detail-type", "CloudWatch Alarm Contributor State Change"),
            "detail-type",
        ),
        (
            "unknown refresh event",
            _with(refresh, "detail-type", "EC2 Auto Scaling Instance Refresh Exploded"),
            "detail-type",
        ),
        ("instance launch event", _with(refresh, "detail-type", "EC2 Instance Launch Successful"), "detail-type"),
        ("other account", _with(alarm, "account", "210987654321"), "account"),
        ("other region", _with(alarm, "region", "eu-west-1"), "region"),
        ("deeply nested detail", _with(alarm, "detail", _deep(5000)), "detail.state"),
        ("deeply nested configuration", _with(alarm, "detail.configuration", [_deep(5000)]), "detail.configuration"),
        (
            "deeply nested tag value",
            _with(alarm, "detail.alarmTags", {"auto-rollback:group": _deep(5000)}),
            "detail.alarmTags.auto-rollback:group",
        ),
        ("resources not a list", _with(alarm, "resources", {"arn": "x"}), "resources"),
        ("manual: dryrun typo", {"action": "rollback", "autoScalingGroupName": GROUP, "dryrun": True}, "dryrun"),
        ("manual: dryRun as string", {"action": "rollback", "autoScalingGroupName": GROUP, "dryRun": "true"}, "dryRun"),
        ("manual: unknown action", {"action": "rollback-everything", "autoScalingGroupName": GROUP}, "action"),
        ("manual: group missing", {"action": "rollback"}, "autoScalingGroupName"),
        ("manual: group as list", {"action": "rollback", "autoScalingGroupName": [GROUP]}, "autoScalingGroupName"),
        (
            "checkpoint percentage not a number",
            _with(refresh, "detail.CheckpointPercentage", "fifty"),
            "detail.CheckpointPercentage",
        ),
        (
            "timestamp without zone",
            _with(alarm, "detail.state.timestamp", "2026-11-28T10:00:00"),
            "detail.state.timestamp",
        ),
        ("state value unknown", _with(alarm, "detail.state.value", "ALARMING"), "detail.state.value"),
    ]
    for path in (
        "detail",
        "detail.state",
        "detail.state.value",
        "detail.alarmName",
        "detail.state.timestamp",
        "region",
        "account",
        "id",
        "source",
        "detail-type",
    ):
        corpus.append((f"missing {path}", _with(alarm, path, _MISSING), path))
        corpus.append((f"{path} as a number", _with(alarm, path, 42), path))
    for path in ("detail.AutoScalingGroupName", "detail.InstanceRefreshId"):
        corpus.append((f"refresh event: missing {path}", _with(refresh, path, _MISSING), path))
        corpus.append((f"refresh event: {path} as an object", _with(refresh, path, {"$ne": ""}), path))
    for label, text in HOSTILE_TEXT.items():
        corpus.append((f"alarm name: {label}", _with(alarm, "detail.alarmName", text), "detail.alarmName"))
        corpus.append(
            (f"group name: {label}", _with(refresh, "detail.AutoScalingGroupName", text), "detail.AutoScalingGroupName")
        )
        corpus.append(
            (f"manual group: {label}", {"action": "rollback", "autoScalingGroupName": text}, "autoScalingGroupName")
        )
    return corpus


#: Accepted events with hostile text: they must produce SNS-safe notifications.
def hostile_accepted() -> list[tuple[str, dict[str, Any]]]:
    alarm = alarm_event("web-prod-5xx", tags=LINK)
    events = []
    for label, text in {
        **HOSTILE_TEXT,
        "newlines and tabs": "a\nb\r\nc\td" * 500,
        "unicode": "alarme déclenchée 🚨 " * 200,
    }.items():
        if text:
            events.append((f"state reason: {label}", _with(alarm, "detail.state.reason", text)))
    events.append(
        ("alarm name with spaces and symbols", _with(alarm, "detail.alarmName", "web-prod 5xx +-=._:/@ " * 11))
    )
    events.append(
        (
            "manual reason with newlines",
            {"action": "rollback", "autoScalingGroupName": GROUP, "reason": "line1\nline2\x07" * 50},
        )
    )
    return events


def _subject_problem(subject: str) -> str | None:
    if not subject or len(subject) > 100 or not all(" " <= ch <= "~" for ch in subject):
        return f"subject {subject[:120]!r}"
    return None


def sns_rule_problems(published: list[Published], answers: Sequence[dict[str, Any]] = ()) -> list[str]:
    """What breaks SNS's rules (subject: printable ASCII, one line, <= 100; message <= 256 KiB).

    Checks the notifications that reached the topic, and the notification each
    returned result would produce (only the first DRY_RUN per refresh is published).
    """
    from auto_rollback.notification import build_notification
    from auto_rollback.outcomes import Result

    problems = []
    for message in published:
        problem = _subject_problem(message.subject)
        if problem:
            problems.append(problem)
        if len(json.dumps(message.body).encode()) > 256 * 1024:
            problems.append("message over 256 KiB")
    for answer in answers:
        for result in answer.get("results", [answer]):
            notification = build_notification(Result.from_dict(result), account="123456789012", region="us-east-1")
            problem = _subject_problem(notification.subject)
            if problem:
                problems.append(problem)
            size = len(json.dumps({"default": json.dumps(notification.body), "email": notification.email}).encode())
            if size > 256 * 1024:
                problems.append(f"message of {size} bytes")
    return problems


def _mutating() -> int:
    return len(refresh_api.calls(refresh_api.ROLLBACK)) + len(refresh_api.calls(refresh_api.CANCEL))


def _prepare_bad_input_stage(st: Stage) -> None:
    """A dry-run group mid-refresh: an event accepted by mistake would show up as a call or a notification."""
    st.start(st.fleet(mode="dry-run"))


def bad_inputs(emulator: AwsEmulator) -> Check:
    """The corpus: each event is rejected naming the expected field, with no AWS call that changes anything."""
    from auto_rollback.events import InvalidEventError

    with stage(emulator) as st:
        _prepare_bad_input_stage(st)
        problems = []
        corpus = bad_input_corpus()
        for label, event, field_name in corpus:
            try:
                invoke(event)
                problems.append(f"{label}: accepted")
            except InvalidEventError as error:
                if error.field != field_name or not str(error).startswith(f"invalid event: {field_name}: "):
                    problems.append(f"{label}: names {error.field!r}, expected {field_name!r}")
            except Exception as error:  # anything else is a crash, not the documented error
                problems.append(f"{label}: {type(error).__name__}")
        named = len(corpus) - len(problems)
        accepted = hostile_accepted()
        answers = []
        for label, event in accepted:
            try:
                answers.append(invoke(event))
            except Exception as error:
                problems.append(f"{label}: {type(error).__name__}: {error}"[:200])
        published = st.deployment.published()
        problems += sns_rule_problems(published, answers)
        if _mutating():
            problems.append(f"{_mutating()} mutating calls")
        return Check(
            "input",
            f"corpus: {len(corpus)} malformed/hostile events rejected, {len(accepted)} hostile but valid accepted",
            "each rejected with InvalidEventError naming the field; 0 changes; SNS-safe notifications",
            f"{named}/{len(corpus)} rejected naming the field, {_mutating()} changes, "
            f"{len(published) + len(answers)} notifications checked"
            + ("; " + "; ".join(problems[:5]) if problems else ""),
            held=not problems,
        )


def fuzz(emulator: AwsEmulator, *, examples: int = 2000, seed: int | None = None) -> Check:
    """Hypothesis: generated events through the real handler; rejections name a field, nothing changes."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    from auto_rollback.events import InvalidEventError
    from devkit.reliability.strategies import events as event_strategy

    counts = {"events": 0, "rejected": 0, "accepted": 0}
    problems: list[str] = []
    answers: list[dict[str, Any]] = []
    with stage(emulator) as st:
        _prepare_bad_input_stage(st)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=seed is None,
            suppress_health_check=list(HealthCheck),
        )
        @given(event_strategy())
        def run(event: Any) -> None:
            counts["events"] += 1
            try:
                answers.append(invoke(event))
                counts["accepted"] += 1
            except InvalidEventError as error:
                counts["rejected"] += 1
                if not FIELD.match(error.field) or not str(error).startswith(f"invalid event: {error.field}: "):
                    problems.append(f"rejection names {error.field!r}")
            except Exception as error:
                problems.append(f"{type(error).__name__}: {error}"[:200])

        if seed is not None:
            run = hypothesis_seed(seed)(run)
        run()
        published = st.deployment.published()
        problems += sns_rule_problems(published, answers)
        mutating = _mutating()
        if mutating:
            problems.append(f"{mutating} mutating calls")
    return Check(
        "input",
        f"Hypothesis fuzz: {counts['events']} generated events",
        "0 changes; every rejection is InvalidEventError naming a field; no other error; SNS-safe notifications",
        # The rejected/accepted split varies with the sample events' ids and times, so it is not a figure.
        f"{mutating} changes, {len(problems)} unexpected errors or unnamed rejections, "
        f"{counts['rejected'] + counts['accepted']} events handled"
        + ("; " + "; ".join(problems[:5]) if problems else ""),
        held=not problems and counts["events"] >= examples,
        faults=counts["events"],
    )
