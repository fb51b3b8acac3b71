"""The candidate of scripts/parser_evaluation: auto_rollback.events' validation as Powertools parser models.

A faithful rewrite, not a sketch: the same three shapes, the same limits and the same
leniency (``muteDetail``, ``actionsSuppressedBy``), turned into the same triggers, so
that timing it against the hand-written parser compares equal work. Where
``EventBridgeModel`` requires what the function never reads (``version``, ``time``,
``resources``), the fields are made optional again: requiring them would refuse
events the function accepts today.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, ValidationError

from auto_rollback.events import (
    AlarmTrigger,
    InvalidEventError,
    InventoryCursor,
    InventoryTrigger,
    ManualTrigger,
    RefreshTrigger,
    Trigger,
)
from auto_rollback.facts import MuteFacts
from auto_rollback.vocabulary import (
    ALARM_DETAIL_TYPE,
    ALARM_SOURCE,
    INVENTORY_ACTION,
    REFRESH_DETAIL_TYPE_PREFIX,
    REFRESH_SOURCE,
    ManualAction,
    RefreshEventType,
)

_CONTROL = r"^[^\x00-\x1f\x7f]*$"
_PRINTABLE = r"^[\x20-\x7e\u0080-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$"


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode") from None
    return value


def _aware(value: object) -> datetime:
    """Strict pydantic takes no text for a datetime, and lax takes numbers: the function takes ISO text only."""
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ValueError("expected an ISO 8601 timestamp of 1-64 characters")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return parsed


def _percentage(value: object) -> int:
    if not isinstance(value, str) or not value.isdigit() or not 0 <= int(value) <= 100:
        raise ValueError("expected 0-100 as a string")
    return int(value)


def _text(limit: int) -> Any:
    return StringConstraints(strict=True, min_length=1, max_length=limit)


Text = Annotated[str, _text(1024)]
Id = Annotated[str, _text(255)]
Region = Annotated[str, _text(64)]
Account = Annotated[str, _text(32)]
AlarmName = Annotated[str, _text(255), AfterValidator(_unicode), Field(pattern=_CONTROL)]
GroupName = Annotated[str, _text(255), AfterValidator(_unicode), Field(pattern=_PRINTABLE)]
Timestamp = Annotated[datetime, PlainValidator(_aware)]
OptionalText = Annotated[str | None, Field(strict=True)]
AccountId = Annotated[str, _text(32), Field(pattern=r"^\d{12}$")]


class _EnvelopeOptional(EventBridgeModel):
    """EventBridgeModel, minus the requirements the function never had."""

    model_config = ConfigDict(strict=True, populate_by_name=True)
    version: Any = None
    time: Any = None
    id: Id
    account: Account
    region: Region
    source: str
    resources: list[str] | None = None  # type: ignore[assignment]


class AlarmState(BaseModel):
    model_config = ConfigDict(strict=True)
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: OptionalText = None
    timestamp: Timestamp
    actionsSuppressedBy: Any = None
    actionsSuppressedReason: Any = None


class AlarmDetail(BaseModel):
    model_config = ConfigDict(strict=True)
    alarmName: AlarmName
    state: AlarmState
    configuration: dict[str, Any] | None = None
    alarmTags: dict[str, str] | None = None
    muteDetail: Any = None  # read leniently: see _mute


class AlarmEvent(_EnvelopeOptional):
    detail: AlarmDetail


class MuteDetail(BaseModel):
    model_config = ConfigDict(strict=True)
    mutedByArn: Annotated[str, _text(1600)]
    muteWindowStart: Timestamp | None = None
    muteWindowEnd: Timestamp | None = None


class RefreshDetail(BaseModel):
    model_config = ConfigDict(strict=True)
    AutoScalingGroupName: GroupName
    InstanceRefreshId: Id
    CheckpointPercentage: Annotated[int, PlainValidator(_percentage)] | None = None


class RefreshEvent(_EnvelopeOptional):
    detail: RefreshDetail


class ManualEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    action: Literal["rollback", "evaluate"]
    autoScalingGroupName: GroupName
    reason: Annotated[str | None, Field(strict=True, max_length=1024)] = None
    dryRun: bool = False
    account: AccountId | None = None


class InventoryEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    action: Literal["inventory"]
    nextToken: Annotated[str, _text(4096)] | None = None
    account: AccountId | None = None


def parse_event(event: object) -> Trigger | InventoryTrigger:
    """auto_rollback.events.parse_event, validated by the models above (same dispatch, same triggers)."""
    if not isinstance(event, dict):
        raise InvalidEventError("event", f"expected a JSON object, got {type(event).__name__}")
    try:
        if event.get("action") == INVENTORY_ACTION:
            inventory = parse(event, InventoryEvent)
            cursor = InventoryCursor.decode(inventory.nextToken) if inventory.nextToken else InventoryCursor()
            return InventoryTrigger(cursor, inventory.account)
        if "action" in event:
            manual = parse(event, ManualEvent)
            return ManualTrigger(
                ManualAction(manual.action),
                manual.autoScalingGroupName,
                manual.reason or "manual invoke",
                manual.dryRun,
                manual.account,
            )
        source, detail_type = event.get("source"), event.get("detail-type")
        if source == ALARM_SOURCE and detail_type == ALARM_DETAIL_TYPE:
            return _alarm(parse(event, AlarmEvent))
        if (
            source == REFRESH_SOURCE
            and isinstance(detail_type, str)
            and detail_type.startswith(REFRESH_DETAIL_TYPE_PREFIX)
        ):
            refresh = parse(event, RefreshEvent)
            return RefreshTrigger(
                refresh.id,
                RefreshEventType(detail_type[len(REFRESH_DETAIL_TYPE_PREFIX) :]),
                refresh.detail.AutoScalingGroupName,
                refresh.detail.InstanceRefreshId,
                refresh.region,
                refresh.account,
                refresh.detail.CheckpointPercentage,
            )
    except ValidationError as invalid:
        raise _named(invalid) from None
    except InvalidEventError:  # InventoryCursor.decode's, already named
        raise
    except ValueError:  # RefreshEventType: an unknown suffix
        raise InvalidEventError("detail-type", f"unknown instance-refresh event {detail_type!r}") from None
    raise InvalidEventError(
        "detail-type",
        f"unsupported event {source!r} / {detail_type!r}; expected '{ALARM_DETAIL_TYPE}' from {ALARM_SOURCE}, "
        f"an instance-refresh event from {REFRESH_SOURCE}, or a manual invoke with 'action'",
    )


def _named(invalid: ValidationError) -> InvalidEventError:
    """Pydantic's first error as the function's: the field's dotted path, and pydantic's message."""
    error = invalid.errors(include_url=False)[0]
    path = ".".join(str(part) for part in error["loc"]) or "event"
    return InvalidEventError(path, error["msg"])


def _alarm(event: AlarmEvent) -> AlarmTrigger:
    detail, state = event.detail, event.detail.state
    name = detail.alarmName
    default_arn = f"arn:aws:cloudwatch:{event.region}:{event.account}:alarm:{name}"
    arns = [
        arn
        for arn in event.resources or []
        if arn.startswith("arn:") and ":cloudwatch:" in arn and ":alarm:" in arn and len(arn) <= 1024
    ]
    suppressed, suppressed_reason = state.actionsSuppressedBy, state.actionsSuppressedReason
    return AlarmTrigger(
        event_id=event.id,
        alarm_name=name,
        alarm_arn=arns[0] if arns else default_arn,
        state=state.value,
        state_reason=(state.reason or "")[:1024],
        state_changed_at=state.timestamp,
        region=event.region,
        account=event.account,
        is_composite=bool(detail.configuration and "alarmRule" in detail.configuration),
        alarm_tags=detail.alarmTags,
        mute=_mute(detail.muteDetail),
        # Never refused, as in events.py: any value means suppressed.
        actions_suppressed_by=(suppressed[:64] if isinstance(suppressed, str) else "(unreadable)")
        if suppressed
        else None,
        actions_suppressed_reason=suppressed_reason[:1024] if isinstance(suppressed_reason, str) else "",
    )


def _mute(raw: object) -> MuteFacts | None:
    if raw is None:
        return None
    try:
        mute = MuteDetail.model_validate(raw)
    except ValidationError as unreadable:
        named = _named(unreadable)
        arn = raw.get("mutedByArn") if isinstance(raw, dict) else None
        readable = arn if isinstance(arn, str) and len(arn) <= 1600 else ""
        return MuteFacts(rule_arn=readable, problem=f"detail.muteDetail.{named.field}: {named.problem}")
    return MuteFacts(
        rule_arn=mute.mutedByArn,
        window_start=mute.muteWindowStart,
        window_end=mute.muteWindowEnd,
    )
