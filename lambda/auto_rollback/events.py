"""Parse what reaches the function into a typed trigger, or refuse it by name.

Three shapes are accepted: a CloudWatch "Alarm State Change" event, an EC2 Auto
Scaling instance-refresh event, and a manual invoke typed into the Lambda
console (``rollback`` or ``evaluate`` one group, or ``inventory`` the fleet).
Anything else raises :class:`InvalidEventError` naming the offending field,
before any AWS call is made. Parsing is strict on purpose: a mistyped
``dryrun`` in a console event must not silently become a real rollback.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auto_rollback.facts import MuteFacts
from auto_rollback.vocabulary import (
    ACCOUNT_ID,
    ALARM_DETAIL_TYPE,
    ALARM_SOURCE,
    ALARM_STATES,
    INVENTORY_ACTION,
    REFRESH_DETAIL_TYPE_PREFIX,
    REFRESH_SOURCE,
    ManualAction,
    RefreshEventType,
)

# Limits come from the AWS APIs: group names are 1-255 characters, alarm names
# 1-255, and nothing legitimate is larger than this in the fields we keep.
_MAX_NAME = 255
_MAX_TEXT = 1024
_MAX_ID = 255
_MAX_ARN = 1024
#: CloudWatch's ARN shape (alarm mute rules, ``AlarmMuteRuleArn``) allows 1600.
_MAX_RULE_ARN = 1600
#: ``ActionsSuppressedBy`` is one of three short words today; room for a new one.
_MAX_SUPPRESSION_KIND = 64
_MANUAL_FIELDS = frozenset({"action", "autoScalingGroupName", "reason", "dryRun", "account"})
_INVENTORY_FIELDS = frozenset({"action", "nextToken", "account"})
#: An inventory token holds an Auto Scaling NextToken (the model sets no length) and a group
#: name (255); real ones are a few hundred characters. Anything this long is not ours.
_MAX_INVENTORY_TOKEN = 4096
_INVENTORY_TOKEN_VERSION = 1
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# What each service's API refuses in a name; anything else is a name AWS may send us.
# CloudWatch (PutMetricAlarm): UTF-8, no ASCII control characters.
_NOT_IN_ALARM_NAMES = _CONTROL_CHARS
# Auto Scaling: the model's pattern (XmlStringMaxLen255) is the XML character range,
# which still admits tab, CR and LF; CreateAutoScalingGroup's own documentation allows
# printable characters only, so no group has a line break in its name. Non-ASCII
# letters are let through: a name that cannot exist is harmless, it matches no group.
_NOT_IN_GROUP_NAMES = re.compile("[^\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|\x7f")


class InvalidEventError(ValueError):
    """The event is not one the function accepts; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"invalid event: {field}: {problem}")


@dataclass(frozen=True)
class AlarmTrigger:
    """A CloudWatch alarm changed state (metric, metric-math, anomaly detection, composite or log alarm)."""

    event_id: str
    alarm_name: str
    alarm_arn: str
    state: str
    state_reason: str
    state_changed_at: datetime
    region: str
    account: str
    is_composite: bool
    alarm_tags: Mapping[str, str] | None  # present only with CloudWatch alarm tag propagation
    #: The mute rule silencing the alarm's actions when it changed state (``detail.muteDetail``).
    mute: MuteFacts | None = None
    #: Composite alarms: why CloudWatch held the alarm's actions back (``detail.state.actionsSuppressedBy``).
    actions_suppressed_by: str | None = None
    actions_suppressed_reason: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "type": "alarm",
            "eventId": self.event_id,
            "alarmName": self.alarm_name,
            "alarmArn": self.alarm_arn,
            "state": self.state,
            "stateReason": self.state_reason,
            "stateChangedAt": self.state_changed_at.isoformat(),
        }


@dataclass(frozen=True)
class RefreshTrigger:
    """EC2 Auto Scaling reported an instance-refresh milestone (best-effort delivery)."""

    event_id: str
    event_type: RefreshEventType
    auto_scaling_group_name: str
    instance_refresh_id: str
    region: str
    account: str
    checkpoint_percentage: int | None = None

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "type": "refresh-event",
            "eventId": self.event_id,
            "eventType": self.event_type.detail_type,
            "instanceRefreshId": self.instance_refresh_id,
        }
        if self.checkpoint_percentage is not None:
            described["checkpointPercentage"] = self.checkpoint_percentage
        return described


@dataclass(frozen=True)
class ManualTrigger:
    """An operator invoked the function by hand (Lambda console test event)."""

    action: ManualAction
    auto_scaling_group_name: str
    reason: str
    dry_run: bool
    #: Hub mode: the member account of the group (None: the function's own account).
    account: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"type": "manual", "action": self.action.value, "reason": self.reason}


@dataclass(frozen=True)
class InventoryCursor:
    """Where an inventory resumes: a DescribeAutoScalingGroups page, after a group already listed.

    ``page_token`` is AWS's NextToken for that page (None: the first page). ``after``
    names the last group listed from that page; the groups up to it are skipped. If it
    is no longer on the page (deleted since), the whole page is listed again: a group
    may then appear twice across invokes, never not at all.
    """

    page_token: str | None = None
    after: str | None = None

    def encode(self) -> str:
        raw = json.dumps({"v": _INVENTORY_TOKEN_VERSION, "page": self.page_token, "after": self.after})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> InventoryCursor:
        """A cursor from a ``nextToken`` an inventory answer gave; InvalidEventError("nextToken") otherwise."""
        problem = "is not a token an inventory answer gave; invoke without nextToken to start over"
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidEventError("nextToken", problem) from None
        if not isinstance(data, dict) or set(data) != {"v", "page", "after"} or data["v"] != _INVENTORY_TOKEN_VERSION:
            raise InvalidEventError("nextToken", problem)
        page, after = data["page"], data["after"]
        if not all(value is None or (isinstance(value, str) and value) for value in (page, after)):
            raise InvalidEventError("nextToken", problem)
        if after is not None and (len(after) > _MAX_NAME or _NOT_IN_GROUP_NAMES.search(after)):
            raise InvalidEventError("nextToken", problem)
        return cls(page, after)


@dataclass(frozen=True)
class InventoryTrigger:
    """An operator asked for the fleet inventory (read-only), from the start or from ``cursor``."""

    cursor: InventoryCursor
    #: Hub mode: the member account to list (None: the function's own account).
    account: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"type": "manual", "action": INVENTORY_ACTION, "resumed": self.cursor != InventoryCursor()}


Trigger = AlarmTrigger | RefreshTrigger | ManualTrigger


def parse_event(event: object) -> Trigger | InventoryTrigger:
    """Turn a raw invocation payload into a trigger; raise InvalidEventError otherwise."""
    if not isinstance(event, dict):
        raise InvalidEventError("event", f"expected a JSON object, got {_type_name(event)}")
    if event.get("action") == INVENTORY_ACTION:
        return _parse_inventory(event)
    if "action" in event:
        return _parse_manual(event)
    source = _text(event, "source", "source")
    detail_type = _text(event, "detail-type", "detail-type")
    if source == ALARM_SOURCE and detail_type == ALARM_DETAIL_TYPE:
        return _parse_alarm(event)
    if source == REFRESH_SOURCE and detail_type.startswith(REFRESH_DETAIL_TYPE_PREFIX):
        return _parse_refresh(event, detail_type)
    raise InvalidEventError(
        "detail-type",
        f"unsupported event {_shown(source)} / {_shown(detail_type)}; expected "
        f"'{ALARM_DETAIL_TYPE}' from {ALARM_SOURCE}, an instance-refresh event from {REFRESH_SOURCE}, "
        "or a manual invoke with 'action'",
    )


def _parse_alarm(event: dict[str, Any]) -> AlarmTrigger:
    detail = _object(event, "detail", "detail")
    state = _object(detail, "state", "detail.state")
    value = _text(state, "value", "detail.state.value")
    if value not in ALARM_STATES:
        raise InvalidEventError("detail.state.value", f"expected one of {', '.join(ALARM_STATES)}, got {_shown(value)}")
    name = _name(detail, "alarmName", "detail.alarmName", refused=_NOT_IN_ALARM_NAMES)
    region = _text(event, "region", "region", limit=64)
    account = _text(event, "account", "account", limit=32)
    configuration = detail.get("configuration")
    if configuration is not None and not isinstance(configuration, dict):
        raise InvalidEventError("detail.configuration", f"expected an object, got {_type_name(configuration)}")
    return AlarmTrigger(
        event_id=_text(event, "id", "id", limit=_MAX_ID),
        alarm_name=name,
        alarm_arn=_alarm_arn(event, region, account, name),
        state=value,
        state_reason=_optional_text(state, "reason", "detail.state.reason", limit=None)[:_MAX_TEXT],
        state_changed_at=_timestamp(state, "timestamp", "detail.state.timestamp"),
        region=region,
        account=account,
        is_composite=bool(configuration and "alarmRule" in configuration),
        alarm_tags=_tags(detail),
        mute=_mute(detail),
        actions_suppressed_by=_suppression_kind(state.get("actionsSuppressedBy")),
        actions_suppressed_reason=_shown_text(state.get("actionsSuppressedReason")),
    )


def _suppression_kind(value: object) -> str | None:
    """``actionsSuppressedBy``: any value means suppressed (as any ``muteDetail`` means muted), never refused."""
    if not value:
        return None
    return value[:_MAX_SUPPRESSION_KIND] if isinstance(value, str) else "(unreadable)"


def _shown_text(value: object) -> str:
    return value[:_MAX_TEXT] if isinstance(value, str) else ""


def _parse_refresh(event: dict[str, Any], detail_type: str) -> RefreshTrigger:
    suffix = detail_type[len(REFRESH_DETAIL_TYPE_PREFIX) :]
    try:
        event_type = RefreshEventType(suffix)
    except ValueError:
        raise InvalidEventError("detail-type", f"unknown instance-refresh event {_shown(detail_type)}") from None
    detail = _object(event, "detail", "detail")
    percentage = None
    if "CheckpointPercentage" in detail:
        raw = _text(detail, "CheckpointPercentage", "detail.CheckpointPercentage", limit=3)
        if not raw.isdigit() or not 0 <= int(raw) <= 100:
            raise InvalidEventError("detail.CheckpointPercentage", f"expected 0-100 as a string, got {_shown(raw)}")
        percentage = int(raw)
    return RefreshTrigger(
        event_id=_text(event, "id", "id", limit=_MAX_ID),
        event_type=event_type,
        auto_scaling_group_name=_name(
            detail, "AutoScalingGroupName", "detail.AutoScalingGroupName", refused=_NOT_IN_GROUP_NAMES
        ),
        instance_refresh_id=_text(detail, "InstanceRefreshId", "detail.InstanceRefreshId", limit=_MAX_ID),
        region=_text(event, "region", "region", limit=64),
        account=_text(event, "account", "account", limit=32),
        checkpoint_percentage=percentage,
    )


def _parse_manual(event: dict[str, Any]) -> ManualTrigger:
    unknown = sorted(str(key) for key in event if key not in _MANUAL_FIELDS)
    if unknown:
        raise InvalidEventError(
            _shown(unknown[0], quote=False), f"unknown field; a manual invoke takes {', '.join(sorted(_MANUAL_FIELDS))}"
        )
    action = _text(event, "action", "action", limit=32)
    try:
        parsed_action = ManualAction(action)
    except ValueError:
        allowed = " | ".join([*(member.value for member in ManualAction), INVENTORY_ACTION])
        raise InvalidEventError("action", f"expected {allowed}, got {_shown(action)}") from None
    dry_run = event.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise InvalidEventError("dryRun", f"expected true or false, got {_type_name(dry_run)}")
    return ManualTrigger(
        action=parsed_action,
        auto_scaling_group_name=_name(
            event, "autoScalingGroupName", "autoScalingGroupName", refused=_NOT_IN_GROUP_NAMES
        ),
        reason=_optional_text(event, "reason", "reason", limit=_MAX_TEXT) or "manual invoke",
        dry_run=dry_run,
        account=_optional_account(event),
    )


def _parse_inventory(event: dict[str, Any]) -> InventoryTrigger:
    unknown = sorted(str(key) for key in event if key not in _INVENTORY_FIELDS)
    if unknown:
        raise InvalidEventError(
            _shown(unknown[0], quote=False),
            f"unknown field; an inventory invoke takes {', '.join(sorted(_INVENTORY_FIELDS))}",
        )
    account = _optional_account(event)
    if event.get("nextToken") is None:
        return InventoryTrigger(InventoryCursor(), account)
    cursor = InventoryCursor.decode(_text(event, "nextToken", "nextToken", limit=_MAX_INVENTORY_TOKEN))
    return InventoryTrigger(cursor, account)


def _optional_account(event: Mapping[str, Any]) -> str | None:
    if event.get("account") is None:
        return None
    account = _text(event, "account", "account", limit=32)
    if not ACCOUNT_ID.fullmatch(account):
        raise InvalidEventError("account", f"expected a 12-digit AWS account id, got {_shown(account)}")
    return account


# --- field readers: each names the field it failed on ---------------------------------------------------


def _object(container: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
    value = container.get(key)
    if not isinstance(value, dict):
        problem = "is required" if value is None else f"expected an object, got {_type_name(value)}"
        raise InvalidEventError(path, problem)
    return value


def _text(container: Mapping[str, Any], key: str, path: str, *, limit: int | None = _MAX_TEXT) -> str:
    value = container.get(key)
    if value is None:
        raise InvalidEventError(path, "is required")
    if not isinstance(value, str):
        raise InvalidEventError(path, f"expected a string, got {_type_name(value)}")
    if not value:
        raise InvalidEventError(path, "must not be empty")
    if limit is not None and len(value) > limit:
        raise InvalidEventError(path, f"longer than {limit} characters ({len(value)})")
    return value


def _optional_text(container: Mapping[str, Any], key: str, path: str, *, limit: int | None) -> str:
    if container.get(key) is None:
        return ""
    value = container[key]
    if not isinstance(value, str):
        raise InvalidEventError(path, f"expected a string, got {_type_name(value)}")
    if limit is not None and len(value) > limit:
        raise InvalidEventError(path, f"longer than {limit} characters ({len(value)})")
    return value


def _name(container: Mapping[str, Any], key: str, path: str, *, refused: re.Pattern[str]) -> str:
    """A group or alarm name: refused only for what the service itself refuses in names.

    Spaces, no-break spaces and letters of any script are valid; names are made safe
    where they are displayed (notification.py), not rejected here.
    """
    value = _text(container, key, path, limit=_MAX_NAME)
    if _has_surrogates(value):
        raise InvalidEventError(path, "is not valid Unicode")
    bad = refused.search(value)
    if bad:
        raise InvalidEventError(path, f"contains {_shown(bad.group())}, which AWS does not allow in this name")
    return value


def _timestamp(container: Mapping[str, Any], key: str, path: str) -> datetime:
    raw = _text(container, key, path, limit=64)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidEventError(path, f"expected an ISO 8601 timestamp, got {_shown(raw)}") from None
    if parsed.tzinfo is None:
        raise InvalidEventError(path, f"timestamp has no time zone: {_shown(raw)}")
    return parsed


def _tags(detail: Mapping[str, Any]) -> Mapping[str, str] | None:
    tags = detail.get("alarmTags")
    if tags is None:
        return None
    if not isinstance(tags, dict):
        raise InvalidEventError("detail.alarmTags", f"expected an object, got {_type_name(tags)}")
    for key, value in tags.items():
        if not isinstance(value, str):
            raise InvalidEventError(f"detail.alarmTags.{_shown(key, quote=False)}", "expected a string value")
    return dict(tags)


def _mute(detail: Mapping[str, Any]) -> MuteFacts | None:
    """``detail.muteDetail``, read leniently: its presence is what says the alarm is muted.

    AWS documents one example of it. A shape that drifts from it must neither reject
    the whole event (and with it every rollback by muted alarms, even where the
    operator chose to act on them) nor lift the mute: the alarm stays muted, with the
    problem named, and no window (so no end to wait for).
    """
    if detail.get("muteDetail") is None:
        return None
    try:
        mute = _object(detail, "muteDetail", "detail.muteDetail")
        return MuteFacts(
            rule_arn=_text(mute, "mutedByArn", "detail.muteDetail.mutedByArn", limit=_MAX_RULE_ARN),
            window_start=_optional_timestamp(mute, "muteWindowStart", "detail.muteDetail.muteWindowStart"),
            window_end=_optional_timestamp(mute, "muteWindowEnd", "detail.muteDetail.muteWindowEnd"),
        )
    except InvalidEventError as unreadable:
        raw = detail.get("muteDetail")
        arn = raw.get("mutedByArn") if isinstance(raw, dict) else None
        readable_arn = arn if isinstance(arn, str) and len(arn) <= _MAX_RULE_ARN else ""
        return MuteFacts(rule_arn=readable_arn, problem=f"{unreadable.field}: {unreadable.problem}")


def _optional_timestamp(container: Mapping[str, Any], key: str, path: str) -> datetime | None:
    return None if container.get(key) is None else _timestamp(container, key, path)


def _alarm_arn(event: Mapping[str, Any], region: str, account: str, name: str) -> str:
    """The alarm's ARN from ``resources``; built from the name when resources is absent."""
    resources = event.get("resources")
    if resources is None:
        return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    if not isinstance(resources, list) or not all(isinstance(item, str) for item in resources):
        raise InvalidEventError("resources", "expected a list of ARNs")
    for arn in resources:
        # ListTagsForResource refuses an ARN over 1024 characters; a real alarm's is far shorter.
        if arn.startswith("arn:") and ":cloudwatch:" in arn and ":alarm:" in arn and len(arn) <= _MAX_ARN:
            return str(arn)
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _type_name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _shown(value: str, *, quote: bool = True) -> str:
    """A safe, short rendering of untrusted text for an error message or a log line."""
    cleaned = value.encode("ascii", "backslashreplace").decode("ascii")
    cleaned = _CONTROL_CHARS.sub("?", cleaned)
    if len(cleaned) > 80:
        cleaned = cleaned[:77] + "..."
    return repr(cleaned) if quote else cleaned
