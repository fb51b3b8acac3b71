"""Outcomes as Amazon Q Developer in chat applications (formerly AWS Chatbot) custom notifications.

Amazon Q Developer renders an SNS message in Slack or Microsoft Teams only when it
is a supported AWS event or a *custom notification* (AWS docs, "Custom notifications
using Amazon Q Developer in chat applications"): ``version`` "1.0" and ``source``
"custom" are required, ``content`` carries ``textType`` ("client-markdown", the only
value), ``title``, ``description``, ``nextSteps`` and ``keywords``, ``metadata``
carries ``threadId``, ``summary``, ``eventType``, ``relatedResources`` and
``additionalContext``. tests/chat-notification.schema.json pins that shape.

Text taken from input (alarm names and reasons, group names, AWS error messages)
is shown only inside inline code, on one line, with the characters that could
leave the code span or make a mention, a link or an entity (`````, ``<``, ``>``,
``&``, ``@``) replaced by look-alikes. Slack and Teams render inline code
literally: no link, no mention, no formatting, so input cannot forge any. Line
breaks are ours only, so input cannot add a field either. Every field is bounded
(see the ``*_LIMIT`` constants) so the message stays far below SNS's 256 KiB and
the chat platforms' own limits (Slack cuts a text block at 3,000 characters).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from auto_rollback.outcomes import Result
from auto_rollback.vocabulary import ACCOUNT_ID, Outcome, Severity

VERSION = "1.0"
SOURCE = "custom"
TEXT_TYPE = "client-markdown"
EVENT_TYPE = "AutoRollbackOutcome"

# Our bounds (AWS's parameter table gives the fields and which are required; these
# keep each one well inside what Slack and Teams show without cutting).
TITLE_LIMIT = 250
DESCRIPTION_LIMIT = 3000
NEXT_STEP_LIMIT = 600
NEXT_STEPS_MAX = 5
KEYWORDS_MAX = 5
THREAD_ID_LIMIT = 128
SUMMARY_LIMIT = 250
RELATED_RESOURCES_MAX = 10
CONTEXT_VALUE_LIMIT = 256
#: One untrusted value inside a line of the description.
VALUE_LIMIT = 300

SEVERITY_MARKERS = {Severity.HIGH: "\U0001f534", Severity.MEDIUM: "\U0001f7e0", Severity.INFO: "\U0001f535"}
#: What to look at first, per outcome (our words only).
OUTCOME_HINTS = {
    Outcome.ROLLBACK_STARTED: "Watch the rollback finish, then find out why the alarm fired.",
    Outcome.CANCELLED: "AWS could not roll back: the refresh was cancelled and replaced instances keep the new "
    "configuration. Decide whether to start a refresh back to the previous configuration.",
    Outcome.ROLLBACK_UNSUPPORTED: "AWS cannot roll this refresh back and it keeps running: cancel it by hand if "
    "it must stop.",
    Outcome.DRY_RUN: "Dry run: nothing was changed. Roll back by hand if the alarm is real.",
    Outcome.FAILED: "The function could not act and the event will be retried; if it keeps failing, the event "
    "ends up in the failed-events queue.",
    Outcome.NOTIFIED: "Nothing was changed; read the reason above.",
}

# Controls, line breaks, bidirectional overrides and invisible characters: none may
# reach a chat line (they could start a new line or make text read as something else).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# Look-alikes for what ends inline code or makes a mention, an entity or a link. Teams
# shows no inline code (its cards know bold, italic, lists and [text](url) links only),
# so brackets, and the "://" of any URL in input, are replaced too: input can never be
# a link in either client.
_LOOKALIKES = str.maketrans(
    {"`": "\u02cb", "<": "\u2039", ">": "\u203a", "&": "\uff06", "@": "\uff20", "[": "\uff3b", "]": "\uff3d"}
)
_SCHEME = re.compile(r":/+")
#: What a group name may contain to be pasted into a shell command as is.
_SHELL_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:/=+\-]{0,254}")
#: What may be shown outside inline code (keywords, summary, related resources): nothing
#: a client could turn into a link (no dots in tags) or a mention.
_TAG = re.compile(r"[A-Za-z0-9_-]{1,75}")
_RESOURCE = re.compile(r"[A-Za-z0-9 _:/+=,-]{1,256}")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
FUNCTION_PLACEHOLDER = "FUNCTION_NAME"
GROUP_PLACEHOLDER = "GROUP_NAME"


def build_chat_message(
    result: Result,
    *,
    account: str,
    region: str,
    function_name: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The custom notification for one result (pure); ``function_name`` None when unknown."""
    group = result.auto_scaling_group_name or ""
    time = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    marker = SEVERITY_MARKERS[result.severity]
    dry_run = " (dry run)" if result.dry_run else ""
    title = f"{marker} {result.severity.value.upper()} · {result.outcome.value} · {_code(group or '-', 120)}{dry_run}"
    return {
        "version": VERSION,
        "source": SOURCE,
        "content": {
            "textType": TEXT_TYPE,
            "title": _cut(title, TITLE_LIMIT),
            "description": _cut(_description(result, account=account, region=region, time=time), DESCRIPTION_LIMIT),
            "nextSteps": [_cut(step, NEXT_STEP_LIMIT) for step in _next_steps(result, region, function_name)][
                :NEXT_STEPS_MAX
            ],
            "keywords": [word for word in (result.outcome.value, result.severity.value, _tag(group)) if word][
                :KEYWORDS_MAX
            ],
        },
        "metadata": {
            "threadId": thread_id(result, account=account, region=region),
            "summary": _cut(
                f"auto-rollback {result.outcome.value} {_tag(group) or 'for a group named in the message'}",
                SUMMARY_LIMIT,
            ),
            "eventType": EVENT_TYPE,
            "relatedResources": _related(result),
            "additionalContext": {
                key: _cut(_plain(str(value)), CONTEXT_VALUE_LIMIT)
                for key, value in {
                    "outcome": result.outcome.value,
                    "severity": result.severity.value,
                    "reason": result.reason,
                    "autoScalingGroupName": group or "-",
                    "instanceRefreshId": result.instance_refresh_id or "-",
                    "refreshStatus": result.refresh_status or "-",
                    "dryRun": "true" if result.dry_run else "false",
                    "account": account,
                    "region": region,
                    "time": time,
                }.items()
            },
        },
    }


def thread_id(result: Result, *, account: str, region: str) -> str:
    """One thread per group and refresh: a digest, so any group name gives a short, plain id."""
    key = json.dumps([account, region, result.auto_scaling_group_name or "", result.instance_refresh_id or ""])
    return f"auto-rollback-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}"[:THREAD_ID_LIMIT]


def evaluate_command(group: str, region: str, function_name: str | None, account: str | None = None) -> str:
    """The ``aws lambda invoke`` that asks the function what it would do now, to paste into a shell.

    A name that is not safe to paste (quotes, ``$``, backticks, non-ASCII...) is left
    as a placeholder rather than quoted, so that what is pasted is never input's. A
    hub's invoke names the member account (``account``), which it requires.
    """
    name = function_name if function_name and _FUNCTION_NAME.fullmatch(function_name) else FUNCTION_PLACEHOLDER
    target = group if _SHELL_SAFE.fullmatch(group) and group == group.strip() else GROUP_PLACEHOLDER
    request = {"action": "evaluate", "autoScalingGroupName": target}
    if account is not None and ACCOUNT_ID.fullmatch(account):
        request["account"] = account
    payload = json.dumps(request, separators=(",", ":"))
    return (
        f"aws lambda invoke --region {region} --function-name {name} "
        f"--cli-binary-format raw-in-base64-out --payload '{payload}' /dev/stdout"
    )


def console_url(group: str, region: str) -> str:
    """The group's instance refreshes in the EC2 console: the link the email and the chat message both give."""
    return (
        f"https://{region}.console.aws.amazon.com/ec2/home?region={region}"
        f"#AutoScalingGroupDetails:id={quote(group, safe='')};view=instanceRefresh"
    )


def groups_console_url(region: str) -> str:
    return f"https://{region}.console.aws.amazon.com/ec2/home?region={region}#AutoScalingGroups:"


def render_text(message: dict[str, Any]) -> str:
    """Roughly how Slack shows the notification: title, description, next steps, keywords."""
    content = message["content"]
    lines = [content.get("title", ""), "", content["description"], ""]
    steps = content.get("nextSteps", [])
    if steps:
        lines.append("Next steps")
        lines += [f"  • {step}" for step in steps]
    if content.get("keywords"):
        lines += ["", "  ".join(f"[{word}]" for word in content["keywords"])]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- parts


def _description(result: Result, *, account: str, region: str, time: str) -> str:
    lines = []
    if result.summary:
        lines.append(f"*What happened:* {_code(result.summary, 1200)}")
    lines += [
        f"*Reason:* {_code(result.reason, 120)}",
        f"*Trigger:* {_trigger(result.trigger)}",
        f"*Instance refresh:* {_code(result.instance_refresh_id or '-', 120)} "
        f"(status {_code(result.refresh_status or 'unknown', 60)})",
        f"*Dry run:* {'yes, nothing was changed' if result.dry_run else 'no'}",
        f"*Account / region:* {_code(account, 40)} / {_code(region, 40)}",
        f"*Time:* {time}",
    ]
    return "\n".join(lines)


def _trigger(trigger: dict[str, Any]) -> str:
    kind = trigger.get("type")
    if kind == "alarm":
        return f"alarm {_code(str(trigger.get('alarmName', '')), 256)} ({_code(str(trigger.get('state', '-')), 40)})"
    if kind == "refresh-event":
        return f"event {_code(str(trigger.get('eventType', '')), 120)}"
    return f"manual {_code(str(trigger.get('action', '')), 40)}"


def _next_steps(result: Result, region: str, function_name: str | None) -> list[str]:
    steps = []
    if hint := OUTCOME_HINTS.get(result.outcome):
        steps.append(hint)
    group = result.auto_scaling_group_name
    if group:
        # Our own link to the AWS console; the group name in it is percent-encoded, which
        # can make it too long for one step: the list of groups is linked instead.
        link = f"Instance refreshes of the group: {console_url(group, region)}"
        if len(link) > NEXT_STEP_LIMIT:
            link = f"Auto Scaling groups: {groups_console_url(region)}"
        steps.append(link)
        command = evaluate_command(group, region, function_name, result.account)
        steps.append(f"What the function would do now: `{_plain(command)}`")
    return steps


def _related(result: Result) -> list[str]:
    trigger = result.trigger
    items = [
        result.auto_scaling_group_name or "",
        result.instance_refresh_id or "",
        str(trigger.get("alarmArn") or trigger.get("alarmName") or ""),
    ]
    return [item for item in items if _RESOURCE.fullmatch(item)][:RELATED_RESOURCES_MAX]


def _tag(text: str) -> str:
    """``text`` if it is a plain word a chat client can show as a tag as is, else empty."""
    return text if _TAG.fullmatch(text) else ""


def _plain(text: str) -> str:
    """Untrusted text on one line, with no character that ends code or makes a mention, link or entity."""
    flattened = " ".join(_INVISIBLE.sub(" ", text.encode("utf-8", "replace").decode("utf-8")).split())
    return _SCHEME.sub(lambda found: ":" + "\u2215" * (len(found.group()) - 1), flattened.translate(_LOOKALIKES))


def _code(text: str, limit: int) -> str:
    """Untrusted text as inline code: shown literally by Slack and Teams."""
    return f"`{_cut(_plain(text), limit) or '-'}`"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
