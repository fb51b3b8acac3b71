"""The fault matrix: each AWS call the function makes, under each kind of fault, then redelivery."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.aws.faults import FaultKind, Injection, function_clients, injected
from devkit.reliability.lab import GROUP, Check, Stage, invoke_short, stage
from devkit.scenarios.events import refresh_event
from devkit.scenarios.harness import invoke

RETRIED = "retry and succeed"
CONFIRMED = "confirm the change by re-reading the refresh, publish once"
FAILS = "fail into the failure destination, redelivery completes"
DEGRADES = "degrade with a clear log"

#: The calls that change the refresh: an answer lost after AWS applied them is ambiguous to the caller.
REFRESH_CHANGES = frozenset({refresh_api.ROLLBACK, refresh_api.CANCEL})


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
