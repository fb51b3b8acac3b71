"""List the failed-events queue, and with ``--replay`` send each event to the function again.

The queue (infra/failed_events.py) has two producers with two shapes:

* EventBridge, as its targets' dead-letter queue: the body is the original event;
  the message attributes ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RULE_ARN``,
  ``TARGET_ARN``, ``RETRY_ATTEMPTS`` say why it was not delivered.
* Lambda, as the function's asynchronous on-failure destination: the body is an
  invocation record, ``{"version", "timestamp", "requestContext": {"requestId",
  "functionArn", "condition", "approximateInvokeCount"}, "requestPayload",
  "responseContext", "responsePayload"}``, the event being ``requestPayload``.

Replaying invokes the function asynchronously (``InvocationType=Event``, as
EventBridge does) with the unwrapped event, and deletes the message only once the
invoke was accepted, so an interrupted replay loses nothing: what was not deleted
is replayed by the next run. An event replayed twice is harmless, because the
function rolls a refresh back at most once (its idempotency records). A message
whose shape is neither is reported and left in the queue.

What would act on the present rather than on what failed is kept in the queue
unless asked for: a manual ``rollback`` names a group, not a refresh, so replayed
later it rolls back whichever refresh the group runs then (``--include-manual``);
a message older than the maximum event age is about a refresh that has most
likely ended (``--include-stale``).

The queue is read as SQS works: long polling (a short poll may answer empty while
messages wait), each batch hidden for a set time and finished (invoked, deleted)
before the next is received, so no receipt handle is used after it expired; the
end is when polls bring nothing new and the queue's counts hold only what this run
keeps. An error on one message's delete or release is reported, and the run goes on.

Dry by default: without ``--replay`` messages are only read, and made visible again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from scripts.ops.stack import OpsError, add_stack_options, read_outputs, session, shown

#: How long each received batch stays hidden from other readers: long enough to invoke up to ten
#: events (botocore retries a throttled invoke for several seconds each) and delete them, so a
#: receipt handle is never used after it expired. A crash leaves a batch hidden no longer.
VISIBILITY_SECONDS = 300
#: Long polling: SQS then asks all its servers, where a short poll (0) samples some of them and
#: may answer empty while the queue holds messages (SQS developer guide, "short and long polling").
WAIT_SECONDS = 10
#: Polls in a row that bring nothing new before the queue's own counts are taken as the last word.
EMPTY_POLLS = 2
#: The rules' and the function's maximum event age: older events have outlived the
#: refresh they were about, most likely.
STALE_AFTER_SECONDS = 3600
#: Manual actions that only read: replaying them is harmless whenever it happens.
READ_ONLY_ACTIONS = frozenset({"evaluate", "inventory"})

ON_FAILURE = "lambda-on-failure"
EVENTBRIDGE_DLQ = "eventbridge-dlq"
UNKNOWN = "unknown"

Invoke = Callable[[dict[str, Any]], object]


@dataclass(frozen=True)
class FailedEvent:
    message_id: str
    receipt_handle: str
    kind: str
    age_seconds: float
    #: The event to give the function again (None: the message is not one of ours).
    event: dict[str, Any] | None
    #: Why it failed, as its producer said.
    error: str

    @property
    def stale(self) -> bool:
        return self.age_seconds > STALE_AFTER_SECONDS

    def line(self) -> str:
        """Age, kind, what and why it failed, in one line nothing in the message can break."""
        age = f"{self.age_seconds / 60:7.1f} min{' STALE' if self.stale else ''}"
        return f"- {age}  {self.kind:18}  {self.summary()}  ({shown(self.error)})"

    def summary(self) -> str:
        return describe(self.event) if self.event is not None else "not an event this queue's producers send"


def unwrap(body: str, attributes: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None, str]:
    """(kind, event, error) of one message of the queue."""
    try:
        data = json.loads(body)
    except ValueError:
        return UNKNOWN, None, "body is not JSON"
    if not isinstance(data, dict):
        return UNKNOWN, None, "body is not a JSON object"
    if "requestContext" in data and "requestPayload" in data:
        payload = data["requestPayload"]
        context = data.get("requestContext") or {}
        response = data.get("responsePayload") or {}
        error = f"{context.get('condition', '?')} after {context.get('approximateInvokeCount', '?')} attempts"
        if isinstance(response, dict) and response.get("errorType"):
            error += f": {response.get('errorType')}: {response.get('errorMessage', '')}"
        return ON_FAILURE, payload if isinstance(payload, dict) else None, error
    if "ERROR_CODE" in attributes or {"source", "detail-type", "detail"} <= set(data):
        code = _attribute(attributes, "ERROR_CODE")
        message = _attribute(attributes, "ERROR_MESSAGE")
        return EVENTBRIDGE_DLQ, data, f"{code}: {message}" if code else "delivered by EventBridge"
    return UNKNOWN, None, "neither an EventBridge event nor a Lambda invocation record"


def _attribute(attributes: Mapping[str, Any], name: str) -> str:
    value = attributes.get(name, {})
    return str(value.get("StringValue", "")) if isinstance(value, dict) else ""


def describe(event: Mapping[str, Any]) -> str:
    """What the event is, in one line: alarm and state, refresh event and group, or manual action."""
    detail = event.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    if event.get("source") == "aws.cloudwatch":
        state = (detail.get("state") or {}).get("value", "?") if isinstance(detail.get("state"), dict) else "?"
        return f"alarm {shown(detail.get('alarmName', '?'))} -> {shown(state)} at {shown(event.get('time', '?'))}"
    if event.get("source") == "aws.autoscaling":
        what = str(event.get("detail-type", "?")).removeprefix("EC2 Auto Scaling ")
        group = shown(detail.get("AutoScalingGroupName", "?"))
        return f"{shown(what)} of group {group} at {shown(event.get('time', '?'))}"
    if "action" in event:
        return f"manual {shown(event.get('action'))} of group {shown(event.get('autoScalingGroupName', '?'))}"
    return f"event {shown(event.get('detail-type', event))}"


def held_back(item: FailedEvent, *, include_manual: bool, include_stale: bool) -> str | None:
    """Why ``--replay`` keeps the message in the queue without invoking (None: replay it)."""
    if item.event is None:
        return "left in queue: not an event of this queue's producers"
    action = item.event.get("action")
    if action is not None and action not in READ_ONLY_ACTIONS and not include_manual:
        return (
            f"kept: a manual {shown(action)} acts on whatever refresh the group runs NOW, not the one it was "
            "invoked for; invoke it again by hand if still wanted, or add --include-manual"
        )
    if item.stale and not include_stale:
        return "kept: STALE, the refresh it was about has most likely ended; add --include-stale to replay it"
    return None


@dataclass
class _Reader:
    """Receives the queue batch by batch, remembering what this run saw and still holds hidden."""

    sqs: Any
    queue_url: str
    now: datetime
    out: Callable[[str], None]
    wait_seconds: int
    seen: set[str] = field(default_factory=set)
    #: Message id -> its newest receipt handle, for the messages this run leaves in the queue.
    held: dict[str, str] = field(default_factory=dict)
    #: Messages this run replayed and deleted: a standard queue may deliver one again.
    done: set[str] = field(default_factory=set)

    def batches(self) -> Iterator[list[FailedEvent]]:
        """Each batch of messages not seen before; the caller processes one before the next is received."""
        empty = 0
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=VISIBILITY_SECONDS,
                WaitTimeSeconds=self.wait_seconds,
                MessageSystemAttributeNames=["SentTimestamp"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            fresh = []
            for message in messages:
                if message["MessageId"] in self.held:
                    # Hidden again by this receive: only the newest handle can release it.
                    self.held[message["MessageId"]] = message["ReceiptHandle"]
                elif message["MessageId"] in self.done:
                    self.delete(message["ReceiptHandle"])  # delivered again after its delete: delete again
                elif message["MessageId"] not in self.seen:
                    fresh.append(message)
            if fresh:
                empty = 0
                self.seen.update(message["MessageId"] for message in fresh)
                yield [self._event(message) for message in fresh]
                continue
            empty += 1
            visible, hidden = self.counts()
            if visible + hidden <= len(self.held):
                return  # all the queue holds is what this run keeps
            if empty >= EMPTY_POLLS:
                self.out(
                    f"warning: {EMPTY_POLLS} polls brought nothing new, yet the queue counts {visible} visible and "
                    f"{hidden} in-flight message(s) (this run holds {len(self.held)}): another reader or an "
                    f"interrupted run hides them (up to {VISIBILITY_SECONDS} s), or the counts lag (about a "
                    "minute); run again later"
                )
                return

    def counts(self) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _event(self, message: Mapping[str, Any]) -> FailedEvent:
        kind, event, error = unwrap(message["Body"], message.get("MessageAttributes", {}))
        sent = datetime.fromtimestamp(int(message["Attributes"]["SentTimestamp"]) / 1000, UTC)
        age = (self.now - sent).total_seconds()
        return FailedEvent(message["MessageId"], message["ReceiptHandle"], kind, age, event, error)

    def delete(self, receipt_handle: str) -> str | None:
        """Delete one message; the error code when SQS refused (the message may then come back)."""
        try:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)
        except ClientError as error:
            return _code(error)
        return None

    def release(self) -> None:
        """Make the kept messages visible again at once, for the next run or reader, each on its own."""
        for message_id, receipt_handle in self.held.items():
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
                )
            except ClientError as error:
                code = _code(error)
                if code == "MessageNotInflight":
                    continue  # its visibility timeout ran out: visible again already, as wanted
                self.out(
                    f"warning: message {shown(message_id)} could not be made visible again ({shown(code)}): "
                    "deleted by another reader meanwhile, or it reappears by itself within "
                    f"{VISIBILITY_SECONDS} s"
                )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "?"))


def run(
    sqs: Any,
    queue_url: str,
    *,
    invoke: Invoke | None,
    now: datetime,
    out: Callable[[str], None],
    include_manual: bool = False,
    include_stale: bool = False,
    wait_seconds: int = WAIT_SECONDS,
) -> int:
    """List (invoke None) or replay the queue, one received batch at a time; the number of messages left in it."""
    reader = _Reader(sqs, queue_url, now, out, wait_seconds)
    replayed = 0
    warned = False
    try:
        for batch in reader.batches():
            for item in sorted(batch, key=lambda each: -each.age_seconds):
                line = item.line()
                if invoke is None:
                    out(line)
                    reader.held[item.message_id] = item.receipt_handle
                    continue
                why = held_back(item, include_manual=include_manual, include_stale=include_stale)
                if why is not None or item.event is None:
                    out(f"{line}  [{why}]")  # why is set whenever the event is None
                    reader.held[item.message_id] = item.receipt_handle
                    continue
                if not warned and item.event is not None and item.event.get("source") == "aws.cloudwatch":
                    warned = True
                    out(
                        "warning: an alarm event is decided on the group's state now, not when the alarm fired: "
                        "a refresh that has ended since is not rolled back, and a new one may be"
                    )
                try:
                    invoke(item.event)
                except Exception as error:  # keep going: each message is replayed or kept on its own
                    out(f"{line}  [NOT replayed, kept: {shown(type(error).__name__)}: {shown(str(error))}]")
                    reader.held[item.message_id] = item.receipt_handle
                    continue
                refused = reader.delete(item.receipt_handle)
                if refused is not None:
                    out(f"{line}  [replayed, NOT deleted: {shown(refused)}; a next run may replay it again]")
                    continue
                reader.done.add(item.message_id)
                replayed += 1
                out(f"{line}  [replayed, deleted]")
    finally:
        # What stays in the queue is visible again at once, for the next run or reader.
        reader.release()
    left = len(reader.seen) - replayed
    if invoke is None:
        out(f"{len(reader.seen)} message(s) in {shown(queue_url)}")
        if reader.seen:
            out("dry run: nothing invoked or deleted; add --replay to re-invoke the function with each event")
    else:
        out(f"{len(reader.seen)} message(s) in {shown(queue_url)}: {replayed} replayed and deleted, {left} left")
    return left


def lambda_invoke(lambda_client: Any, function_name: str) -> Invoke:
    """An asynchronous invoke of the function, as EventBridge makes; raises unless accepted (202)."""

    def invoke(event: dict[str, Any]) -> None:
        answer = lambda_client.invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event))
        if answer.get("StatusCode") != 202:
            raise OpsError(f"Lambda answered {answer.get('StatusCode')} instead of 202 (accepted)")

    return invoke


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.ops.replay", description=__doc__.split("\n")[0])
    add_stack_options(parser)
    parser.add_argument("--replay", action="store_true", help="re-invoke the function with each event, then delete it")
    parser.add_argument(
        "--include-manual",
        action="store_true",
        help="with --replay, replay manual rollbacks too (they act on the group's refresh now, whichever it is)",
    )
    parser.add_argument(
        "--include-stale",
        action="store_true",
        help=f"with --replay, replay messages older than {STALE_AFTER_SECONDS // 60} minutes too",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    aws = session(args.region)
    try:
        outputs = read_outputs(aws.client("cloudformation"), args.stack)
        invoke = lambda_invoke(aws.client("lambda"), outputs.function_name) if args.replay else None
        left = run(
            aws.client("sqs"),
            outputs.queue_url,
            invoke=invoke,
            now=datetime.now(UTC),
            out=print,
            include_manual=args.include_manual,
            include_stale=args.include_stale,
        )
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if args.replay and left else 0


if __name__ == "__main__":
    sys.exit(main())
