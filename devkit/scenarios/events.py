"""Events with the exact shapes AWS documents, built from the samples in events/.

Only the fields a scenario needs are changed; everything else stays as in the
sample, so the function always sees a realistic event.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from devkit.aws.cloudwatch_clock import cloudwatch_time
from infra import SAMPLE_EVENTS_DIR

__all__ = ["cloudwatch_time"]  # the alarm event's timestamp format, which the emulated CloudWatch also writes


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLE_EVENTS_DIR / name).read_text())
    return data


def alarm_event(
    name: str,
    *,
    state: str = "ALARM",
    at: datetime | None = None,
    tags: dict[str, str] | None = None,
    composite: bool = False,
    event_id: str | None = None,
    included_keys: Sequence[str] | None = None,
    excluded_keys: Sequence[str] | None = None,
    mute_detail: Mapping[str, str] | None = None,
    suppressed_by: str | None = None,
    suppressed_reason: str | None = None,
    log_alarm: bool = False,
) -> dict[str, Any]:
    """A CloudWatch "Alarm State Change" event for alarm ``name`` entering ``state`` at ``at``.

    ``tags`` are the alarm's tags, and giving them turns alarm tag propagation on:
    the event then carries what CloudWatch sends, ``alarmTags`` filtered by
    ``included_keys`` or ``excluded_keys`` (the alarm's AlarmTagsPropagation
    settings) and never with ``aws:`` keys, and ``alarmTagsStatus: "SUCCESS"``.
    Without ``tags`` propagation is off and the event has neither field.

    ``mute_detail`` is the ``detail.muteDetail`` of an alarm an alarm mute rule
    silences (``mute_rules.mute_detail`` gives the one the emulator's rules imply).
    ``suppressed_by`` / ``suppressed_reason`` are a composite alarm's
    ``detail.state.actionsSuppressedBy`` / ``actionsSuppressedReason``
    (``cloudwatch_api.suppression``); only composite alarms have them. ``log_alarm``
    builds a log alarm's event (the ``alarm-log.json`` sample) instead of a metric
    alarm's.
    """
    if composite and log_alarm:
        raise ValueError("an alarm is a composite alarm or a log alarm, not both")
    if (suppressed_by is not None or suppressed_reason is not None) and not composite:
        raise ValueError("only composite alarms have their actions suppressed: pass composite=True")
    if suppressed_by is not None and suppressed_by not in SUPPRESSED_BY:
        raise ValueError(f"actionsSuppressedBy is one of {sorted(SUPPRESSED_BY)}, not {suppressed_by!r}")
    if suppressed_reason is not None and suppressed_by is None:
        raise ValueError("a suppression reason needs suppressed_by")
    kind = "composite" if composite else "log" if log_alarm else "metric"
    event = copy.deepcopy(sample(f"alarm-{kind}.json"))
    moment = at or datetime.now(UTC)
    event["id"] = event_id or str(uuid.uuid4())
    event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:cloudwatch:{event['region']}:{event['account']}:alarm:{name}"]
    event["detail"]["alarmName"] = name
    event["detail"]["state"]["value"] = state
    event["detail"]["state"]["timestamp"] = cloudwatch_time(moment)
    if tags is not None:
        event["detail"]["alarmTags"] = propagated_tags(tags, included_keys=included_keys, excluded_keys=excluded_keys)
        event["detail"]["alarmTagsStatus"] = TAGS_STATUS_SUCCESS
    elif included_keys is not None or excluded_keys is not None:
        raise ValueError("included_keys and excluded_keys filter the alarm's tags: give tags too")
    if mute_detail is not None:
        event["detail"]["muteDetail"] = dict(mute_detail)
    if suppressed_by is not None:
        event["detail"]["state"]["actionsSuppressedBy"] = suppressed_by
    if suppressed_reason is not None:
        event["detail"]["state"]["actionsSuppressedReason"] = suppressed_reason
    return event


#: ``detail.state.actionsSuppressedBy`` of a composite alarm (CompositeAlarm.ActionsSuppressedBy's enum).
SUPPRESSED_BY = frozenset({"Alarm", "WaitPeriod", "ExtensionPeriod"})


#: alarmTagsStatus when "the tags were retrieved and any key filter was applied"
#: (CloudWatch docs, "Alarm tags in action payloads"); the list may then be empty.
TAGS_STATUS_SUCCESS = "SUCCESS"
#: Reserved for AWS, never propagated.
RESERVED_TAG_PREFIX = "aws:"
MAX_PROPAGATION_KEYS = 50


def propagated_tags(
    tags: Mapping[str, str],
    *,
    included_keys: Sequence[str] | None = None,
    excluded_keys: Sequence[str] | None = None,
) -> dict[str, str]:
    """The subset of an alarm's tags that CloudWatch puts in ``detail.alarmTags``.

    Mirrors AlarmTagsPropagation's validation: IncludedTagKeys and ExcludedTagKeys
    exclude each other and hold 1 to 50 keys.
    """
    if included_keys is not None and excluded_keys is not None:
        raise ValueError("AlarmTagsPropagation takes IncludedTagKeys or ExcludedTagKeys, not both")
    for keys in (included_keys, excluded_keys):
        if keys is not None and not 1 <= len(keys) <= MAX_PROPAGATION_KEYS:
            raise ValueError(f"IncludedTagKeys / ExcludedTagKeys hold 1 to {MAX_PROPAGATION_KEYS} keys")
    return {
        key: value
        for key, value in tags.items()
        if not key.startswith(RESERVED_TAG_PREFIX)
        and (included_keys is None or key in included_keys)
        and (excluded_keys is None or key not in excluded_keys)
    }


def refresh_event(kind: str, group: str, refresh_id: str, *, event_id: str | None = None) -> dict[str, Any]:
    """An instance-refresh event; ``kind`` is the sample's slug, e.g. "checkpoint-reached"."""
    event = copy.deepcopy(sample(f"refresh-{kind}.json"))
    event["id"] = event_id or str(uuid.uuid4())
    event["resources"] = [
        event["resources"][0].replace("autoScalingGroupName/web-prod", f"autoScalingGroupName/{group}")
    ]
    event["detail"]["AutoScalingGroupName"] = group
    event["detail"]["InstanceRefreshId"] = refresh_id
    return event


def manual_event(action: str, group: str, *, dry_run: bool | None = None, reason: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"action": action, "autoScalingGroupName": group}
    if dry_run is not None:
        event["dryRun"] = dry_run
    if reason is not None:
        event["reason"] = reason
    return event


def from_account(event: dict[str, Any], account: str) -> dict[str, Any]:
    """The same event as a member account emits it: its ``account`` and the account in every ARN it carries."""
    original = str(event["account"])
    text = json.dumps(event).replace(f":{original}:", f":{account}:")
    moved: dict[str, Any] = json.loads(text)
    moved["account"] = account
    return moved
