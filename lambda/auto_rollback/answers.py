"""AWS's answers (DescribeAlarms, DescribeTags, DescribeAutoScalingGroups, DescribeInstanceRefreshes) as facts.

Pure: no calls. :mod:`auto_rollback.gateway` hands each answer here, and the
decision reads only the facts (:mod:`auto_rollback.facts`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from auto_rollback.facts import AlarmFacts, GroupConfig, GroupTags, RefreshFacts
from auto_rollback.observability import logger
from auto_rollback.vocabulary import ALARM_PREFIX_TAG, MODE_TAG, GroupMode


def alarms_of(response: Any) -> list[Any]:
    """Every alarm in a DescribeAlarms answer, whatever its kind (each kind has its own list)."""
    return [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", []), *response.get("LogAlarms", [])]


def alarms_in_state_since(page: Any, changed_since: datetime | None) -> Iterator[AlarmFacts]:
    for alarm in alarms_of(page):
        changed_at = _state_changed_at(alarm)
        if changed_since is None or changed_at >= changed_since:
            yield AlarmFacts(
                name=alarm["AlarmName"],
                arn=alarm["AlarmArn"],
                state=alarm["StateValue"],
                state_reason=alarm.get("StateReason", ""),
                state_changed_at=changed_at,
                # Only composite alarms carry these; present only while actions are held back.
                actions_suppressed_by=alarm.get("ActionsSuppressedBy") or None,
                actions_suppressed_reason=alarm.get("ActionsSuppressedReason", ""),
            )


def alarm_name_of(arn: str) -> str | None:
    """``arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`` -> ``<name>`` (which may hold colons)."""
    parts = arn.split(":", 6)
    return parts[6] if len(parts) == 7 and parts[5] == "alarm" and parts[6] else None


def _state_changed_at(alarm: Any) -> datetime:
    """When the alarm entered its current state.

    ``StateTransitionedTimestamp``, not ``StateUpdatedTimestamp``: the latter also
    moves when a metric alarm's EvaluationState changes and on any update of a
    composite alarm, so an alarm in ALARM since before a refresh would look new.
    """
    transitioned = alarm.get("StateTransitionedTimestamp")
    if transitioned is None:  # not in AWS's answers today; an older API version lacked it
        logger.warning("DescribeAlarms gave no StateTransitionedTimestamp", extra={"alarm": alarm.get("AlarmName")})
        return cast(datetime, alarm["StateUpdatedTimestamp"])
    return cast(datetime, transitioned)


def group_tags(name: str, tags: dict[str, str]) -> GroupTags:
    mode = GroupMode.from_tag(tags.get(MODE_TAG))
    return GroupTags(
        name=name,
        mode=mode,
        alarm_prefix=tags.get(ALARM_PREFIX_TAG) or None,
        # Kept only when it is not exactly a mode: GroupTags.meant_mode reads it for near misses.
        unrecognised_mode=tags.get(MODE_TAG) if mode is GroupMode.DISABLED else None,
    )


def _launch_template_version(configuration: Any) -> str | None:
    """The launch template Version of a group or desired configuration; None without a launch template.

    A launch template specification without Version means $Default (LaunchTemplateSpecification).
    """
    template = configuration.get("LaunchTemplate") or (
        (configuration.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
    )
    return str(template.get("Version") or "$Default") if template else None


def group_config(group: Any) -> GroupConfig:
    tags = {
        tag["Key"]: tag.get("Value", "")
        for tag in group.get("Tags", [])
        if tag.get("Key") in {MODE_TAG, ALARM_PREFIX_TAG}
    }
    return GroupConfig(group_tags(group["AutoScalingGroupName"], tags), _launch_template_version(group))


def refresh_facts(refresh: Any) -> RefreshFacts:
    desired = refresh.get("DesiredConfiguration") or {}
    return RefreshFacts(
        instance_refresh_id=refresh["InstanceRefreshId"],
        status=refresh["Status"],
        start_time=refresh.get("StartTime"),
        has_desired_configuration=bool(desired),
        launch_template_version=_launch_template_version(desired),
    )
