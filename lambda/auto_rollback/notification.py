"""Turn a result into an SNS notification, and publish it.

The message is JSON for machines (``default``, what SQS, Lambda and HTTP
subscribers receive) and plain text for people (``email``), sent with
``MessageStructure=json``. Message attributes let subscribers filter by outcome,
group and severity. Whatever the input, the subject stays within SNS's rules
(printable ASCII, no line breaks, at most 100 characters) and the message within
its size limit, because alarm names and reasons are text that anyone who can
create an alarm controls.

With a chat topic configured, the same result is also published there, alone and
as a plain message, in the custom-notification format Amazon Q Developer in chat
applications renders (auto_rollback.chat): SNS's message structure offers no key
for Amazon Q Developer, whose subscriptions use the ``https`` protocol, which any
other HTTPS subscriber would share.

One of the modules that call AWS (SNS; see :mod:`auto_rollback.aws`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from auto_rollback.aws import CLIENT_CONFIG, aws_session
from auto_rollback.chat import build_chat_message, console_url
from auto_rollback.observability import logger, metrics
from auto_rollback.outcomes import Result
from auto_rollback.vocabulary import CHAT_FAILURE_METRIC

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

SCHEMA_VERSION = "1.0"
SUBJECT_LIMIT = 100
# SNS allows 256 KiB for the whole message; each untrusted text field is capped
# far below that so the JSON body, the email body and the attributes all fit.
FIELD_LIMIT = 4096
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# In the email, one value is one line: anything a mail reader may break a line on
# becomes a space, and controls or bidirectional overrides (which can make text
# read as something else) become '?', so no input can add a line or a field.
_LINE_BREAKS = re.compile("[\n\r\t\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_INVISIBLE_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Notification:
    subject: str
    body: dict[str, Any]
    email: str
    attributes: dict[str, str]


def build_notification(result: Result, *, account: str, region: str, now: datetime | None = None) -> Notification:
    """The subject, JSON body, email text and attributes for one result (pure)."""
    group = result.auto_scaling_group_name or "-"
    body: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        **_bounded(result.to_dict()),
        "account": result.account or account,
        "region": region,
        "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "consoleUrl": console_url(group, region) if result.auto_scaling_group_name else None,
    }
    return Notification(
        subject=subject_line(result),
        body=body,
        email=_email_text(body),
        attributes={
            "outcome": result.outcome.value,
            "autoScalingGroupName": _printable(group, 256) or "-",
            "severity": result.severity.value,
            # Hub mode: lets a subscriber of the hub's topic filter on one member account.
            **({"account": result.account} if result.account else {}),
        },
    )


def subject_line(result: Result) -> str:
    """``[auto-rollback] ROLLBACK_STARTED web-prod - alarm web-prod-5xx``, within SNS's rules."""
    group = result.auto_scaling_group_name or "-"
    trigger = result.trigger
    if trigger.get("type") == "alarm":
        cause = f"alarm {trigger.get('alarmName', '')}"
    elif trigger.get("type") == "refresh-event":
        cause = str(trigger.get("eventType", "")).replace("EC2 Auto Scaling Instance ", "")
    else:
        cause = f"manual {trigger.get('action', '')}"
    subject = _printable(f"[auto-rollback] {result.outcome.value} {group} - {cause}", None)
    return subject if len(subject) <= SUBJECT_LIMIT else subject[: SUBJECT_LIMIT - 3] + "..."


class Notifier:
    """Publishes notifications to the outcome topic, and a chat copy to the chat topic if there is one.

    The outcome topic is the record: :meth:`publish` raises only when *it* refuses, so
    the idempotency layer (actions.py) releases its record and Lambda's retry publishes
    the outcome again, once. The chat copy is published after the record was accepted
    and never raises: had it raised, the retry would publish the record a second time.
    A chat copy SNS refuses (after botocore's retries) is logged at ERROR with the whole
    message, ready for ``aws sns publish --message``, and counted in the
    ``ChatPublishFailures`` metric: it is not lost, and the record is never doubled.
    (The chat copy is at most once: a retry whose outcome publish is replayed by the
    idempotency record publishes no chat copy either.)
    """

    def __init__(
        self,
        topic_arn: str,
        *,
        account: str,
        region: str,
        sns: SNSClient | None = None,
        chat_topic_arn: str | None = None,
        function_name: str | None = None,
    ) -> None:
        self.topic_arn = topic_arn
        self.chat_topic_arn = chat_topic_arn
        self.account = account
        self.region = region
        self.function_name = function_name
        self.sns: SNSClient = sns or aws_session().client("sns", config=CLIENT_CONFIG)

    def publish(self, result: Result) -> str:
        """Publish one result; returns the outcome topic's message id. Raises when that topic refuses."""
        notification = build_notification(result, account=self.account, region=self.region)
        body = json.dumps(notification.body, separators=(",", ":"), default=str)
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            key: {"DataType": "String", "StringValue": value} for key, value in notification.attributes.items()
        }
        response = self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=notification.subject,
            MessageStructure="json",
            Message=json.dumps({"default": body, "email": notification.email}),
            MessageAttributes=attributes,
        )
        if self.chat_topic_arn:
            self._publish_chat(result, attributes)
        return str(response["MessageId"])

    def _publish_chat(self, result: Result, attributes: dict[str, MessageAttributeValueTypeDef]) -> None:
        message = ""
        try:
            message = json.dumps(
                build_chat_message(
                    result, account=result.account or self.account, region=self.region, function_name=self.function_name
                ),
                ensure_ascii=False,
            )
            # A plain message (no MessageStructure): every subscriber, Amazon Q Developer's
            # HTTPS endpoint included, receives exactly the custom notification.
            self.sns.publish(TopicArn=str(self.chat_topic_arn), Message=message, MessageAttributes=attributes)
        except Exception:  # whatever goes wrong, the record was published: never fail (and re-publish) it
            logger.exception(
                "The chat copy of a published outcome could not be published; the outcome topic has it",
                extra={"chatTopicArn": self.chat_topic_arn, "chatMessage": message},
            )
            metrics.add_metric(name=CHAT_FAILURE_METRIC, unit=MetricUnit.Count, value=1)


def _email_text(body: dict[str, Any]) -> str:
    trigger = body.get("trigger") or {}
    lines = [
        ("auto-rollback:", f"{body['outcome']} for Auto Scaling group {body.get('autoScalingGroupName') or '-'}"),
        ("", ""),
        ("Reason:", body["reason"]),
    ]
    if body.get("summary"):
        lines.append(("What happened:", body["summary"]))
    lines += [
        (
            "Instance refresh:",
            f"{body.get('instanceRefreshId') or '-'} ({body.get('refreshStatus') or 'unknown status'})",
        ),
        ("Severity:", body["severity"]),
        ("Dry run:", "yes, nothing was changed" if body["dryRun"] else "no"),
        ("Trigger:", json.dumps(trigger, sort_keys=True)),
        ("Account / region:", f"{body['account']} / {body['region']}"),
        ("Time:", body["time"]),
    ]
    if body.get("consoleUrl"):
        lines.append(("Console:", body["consoleUrl"]))
    first, *rest = lines
    text = [f"{first[0]} {_one_line(first[1])}"]
    text += [f"{label:<19}{_one_line(str(value))}".rstrip() for label, value in rest]
    return "\n".join(text) + "\n"


def _one_line(text: str) -> str:
    """Untrusted text as exactly one line of the email."""
    return _INVISIBLE_CONTROL.sub("?", _LINE_BREAKS.sub(" ", text))


def _bounded(value: Any) -> Any:
    """Cap and clean every string in a JSON-like structure (control characters become '?')."""
    if isinstance(value, str):
        cleaned = _CONTROL.sub("?", value.encode("utf-8", "replace").decode("utf-8"))
        return cleaned if len(cleaned) <= FIELD_LIMIT else cleaned[: FIELD_LIMIT - 3] + "..."
    if isinstance(value, dict):
        return {str(key)[:256]: _bounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_bounded(item) for item in value[:50]]
    return value


def _printable(text: str, limit: int | None) -> str:
    """Printable ASCII on one line: what SNS accepts in subjects and attribute values."""
    flattened = " ".join(_UNPRINTABLE.sub("?", text).split())
    return flattened if limit is None else flattened[:limit]
