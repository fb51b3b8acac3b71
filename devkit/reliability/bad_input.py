"""Bad input: a corpus of malformed and hostile events, and Hypothesis-generated ones, through the real handler."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.reliability.lab import GROUP, LINK, Check, Stage, stage
from devkit.scenarios.events import alarm_event, refresh_event
from devkit.scenarios.harness import Published, invoke

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


def with_field(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``event`` with the dotted ``path`` set to ``value`` (or removed, for MISSING).

    A parent that is no longer an object (an earlier change replaced it) leaves the copy as it is.
    """
    copied = copy.deepcopy(event)
    *parents, last = path.split(".")
    node: Any = copied
    for key in parents:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return copied  # an earlier mutation already replaced the parent
        node = node[key]
    if value is MISSING:
        node.pop(last, None)
    else:
        node[last] = value
    return copied


#: The value that removes the field, for :func:`with_field`.
MISSING = object()
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
        (
            "unknown detail-type",
            with_field(alarm, "detail-type", "CloudWatch Alarm Configuration Change"),
            "detail-type",
        ),
        (
            "contributor state change",
            with_field(alarm, "detail-type", "CloudWatch Alarm Contributor State Change"),
            "detail-type",
        ),
        (
            "unknown refresh event",
            with_field(refresh, "detail-type", "EC2 Auto Scaling Instance Refresh Exploded"),
            "detail-type",
        ),
        ("instance launch event", with_field(refresh, "detail-type", "EC2 Instance Launch Successful"), "detail-type"),
        ("other account", with_field(alarm, "account", "210987654321"), "account"),
        ("other region", with_field(alarm, "region", "eu-west-1"), "region"),
        ("deeply nested detail", with_field(alarm, "detail", _deep(5000)), "detail.state"),
        (
            "deeply nested configuration",
            with_field(alarm, "detail.configuration", [_deep(5000)]),
            "detail.configuration",
        ),
        (
            "deeply nested tag value",
            with_field(alarm, "detail.alarmTags", {"auto-rollback:group": _deep(5000)}),
            "detail.alarmTags.auto-rollback:group",
        ),
        ("resources not a list", with_field(alarm, "resources", {"arn": "x"}), "resources"),
        ("manual: dryrun typo", {"action": "rollback", "autoScalingGroupName": GROUP, "dryrun": True}, "dryrun"),
        ("manual: dryRun as string", {"action": "rollback", "autoScalingGroupName": GROUP, "dryRun": "true"}, "dryRun"),
        ("manual: unknown action", {"action": "rollback-everything", "autoScalingGroupName": GROUP}, "action"),
        ("manual: group missing", {"action": "rollback"}, "autoScalingGroupName"),
        ("manual: group as list", {"action": "rollback", "autoScalingGroupName": [GROUP]}, "autoScalingGroupName"),
        (
            "checkpoint percentage not a number",
            with_field(refresh, "detail.CheckpointPercentage", "fifty"),
            "detail.CheckpointPercentage",
        ),
        (
            "timestamp without zone",
            with_field(alarm, "detail.state.timestamp", "2026-11-28T10:00:00"),
            "detail.state.timestamp",
        ),
        ("state value unknown", with_field(alarm, "detail.state.value", "ALARMING"), "detail.state.value"),
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
        corpus.append((f"missing {path}", with_field(alarm, path, MISSING), path))
        corpus.append((f"{path} as a number", with_field(alarm, path, 42), path))
    for path in ("detail.AutoScalingGroupName", "detail.InstanceRefreshId"):
        corpus.append((f"refresh event: missing {path}", with_field(refresh, path, MISSING), path))
        corpus.append((f"refresh event: {path} as an object", with_field(refresh, path, {"$ne": ""}), path))
    for label, text in HOSTILE_TEXT.items():
        corpus.append((f"alarm name: {label}", with_field(alarm, "detail.alarmName", text), "detail.alarmName"))
        corpus.append(
            (
                f"group name: {label}",
                with_field(refresh, "detail.AutoScalingGroupName", text),
                "detail.AutoScalingGroupName",
            )
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
            events.append((f"state reason: {label}", with_field(alarm, "detail.state.reason", text)))
    events.append(
        ("alarm name with spaces and symbols", with_field(alarm, "detail.alarmName", "web-prod 5xx +-=._:/@ " * 11))
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
