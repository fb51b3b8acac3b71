"""A large account in the emulator: thousands of opted-in groups and alarms around the groups under test.

The bulk is there to make any read that lists the account page: every bulk group
is opted in with an alarm-name prefix of its own, and the bulk alarms are linked to
the bulk groups (by prefix, and every other one also by tag), half of them in ALARM.
None is linked to the groups a scenario watches, so a function that reads only what
an event concerns makes the same calls at any size.

Groups have no instances and alarms are created over HTTP like any other, so the
account looks to the function exactly as a real one would, page for page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devkit.aws import refresh_api
from devkit.scenarios.events import alarm_event, refresh_event
from devkit.scenarios.fleet import (
    AVAILABILITY_ZONES,
    GOOD_IMAGE_ID,
    Fleet,
    make_alarm,
    make_fleet,
    make_launch_template,
    restart_refresh,
)

#: Bulk names: no prefix of any scenario alarm or group ("web-", "api-"...) starts them.
BULK_PREFIX = "zz-bulk-"
#: Every bulk alarm went to ALARM long before any refresh a scenario starts.
BULK_ALARM_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class LargeAccount:
    """Grows the bulk of an account; sizes only ever go up (``grow`` adds what is missing)."""

    ec2: Any
    autoscaling: Any
    cloudwatch: Any
    groups: int = 0
    alarms: int = 0
    _template_id: str | None = None

    def grow(self, *, groups: int, alarms: int) -> None:
        """Add bulk groups and alarms until there are ``groups`` and ``alarms`` (half of the alarms in ALARM)."""
        if self._template_id is None and groups > self.groups:
            self._template_id = make_launch_template(self.ec2, f"{BULK_PREFIX}lt", image_ids=(GOOD_IMAGE_ID,)).id
        for index in range(self.groups, groups):
            name = bulk_group(index)
            self.autoscaling.create_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchTemplate={"LaunchTemplateId": self._template_id, "Version": "1"},
                MinSize=0,
                MaxSize=1,
                DesiredCapacity=0,
                AvailabilityZones=list(AVAILABILITY_ZONES),
                Tags=[
                    {"Key": "auto-rollback", "Value": "enabled", "PropagateAtLaunch": False},
                    {"Key": "auto-rollback:alarm-prefix", "Value": f"{name}-", "PropagateAtLaunch": False},
                ],
            )
        self.groups = max(self.groups, groups)
        for index in range(self.alarms, alarms):
            group = bulk_group(index % max(self.groups, 1))
            make_alarm(
                self.cloudwatch,
                f"{group}-alarm-{index:05d}",
                group=group if index % 2 == 0 else None,
                state="ALARM" if index % 2 == 0 else "OK",
                at=BULK_ALARM_TIME,
            )
        self.alarms = max(self.alarms, alarms)


def bulk_group(index: int) -> str:
    return f"{BULK_PREFIX}{index:05d}"


#: The groups the measured events concern, and the alarm-name prefix of those linked by prefix.
SUBJECT_GROUPS: dict[str, str | None] = {
    "tagged": None,
    "looked-up": None,
    "prefixed": "prefixed-",
    "cp-prefix": "cp-prefix-",
    "cp-tag": None,
    "cp-both": "cp-both-",
}

#: Each kind of event on the way to a rollback, by how its alarm is linked to its group.
EVENT_KINDS = (
    "alarm event, alarmTags name the group",
    "alarm event without alarmTags, linked by tag",
    "alarm event without alarmTags, linked by prefix",
    "checkpoint, alarm linked by prefix",
    "checkpoint, alarm linked by tag",
    "checkpoint, group with both links, alarm linked by tag",
)


@dataclass
class Subjects:
    """The opted-in groups the measured events concern; each event gets a refresh of its own."""

    autoscaling: Any
    cloudwatch: Any
    fleets: dict[str, Fleet]

    @classmethod
    def create(cls, ec2: Any, autoscaling: Any, cloudwatch: Any) -> Subjects:
        fleets = {}
        for group, prefix in SUBJECT_GROUPS.items():
            tags = {"auto-rollback": "enabled", **({"auto-rollback:alarm-prefix": prefix} if prefix else {})}
            fleets[group] = make_fleet(ec2, autoscaling, group, tags=tags)
        return cls(autoscaling, cloudwatch, fleets)

    def event(self, kind: str, round_: int) -> dict[str, Any]:
        """A fresh refresh of the kind's group, its alarm in ALARM since just after the start, and the event."""
        group, alarm, tagged, event_type = _KINDS[kind]
        refresh_id = restart_refresh(self.autoscaling, self.fleets[group])
        name = f"{alarm}-{round_}"
        if event_type == "alarm-with-tags":  # the alarm exists only in its event
            return alarm_event(name, tags={"auto-rollback:group": group})
        fired = refresh_api.refreshes(group)[0]["StartTime"] + timedelta(seconds=1)
        make_alarm(self.cloudwatch, name, group=group if tagged else None, at=fired)
        if event_type == "alarm":
            return alarm_event(name)
        return refresh_event(event_type, group, refresh_id)


#: kind -> (group, alarm name stem, whether the alarm is tagged for the group, event)
_KINDS: dict[str, tuple[str, str, bool, str]] = {
    EVENT_KINDS[0]: ("tagged", "tagged-5xx", True, "alarm-with-tags"),
    EVENT_KINDS[1]: ("looked-up", "latency", True, "alarm"),
    EVENT_KINDS[2]: ("prefixed", "prefixed-5xx", False, "alarm"),
    EVENT_KINDS[3]: ("cp-prefix", "cp-prefix-5xx", False, "checkpoint-reached"),
    EVENT_KINDS[4]: ("cp-tag", "cp-tag-latency", True, "checkpoint-reached"),
    EVENT_KINDS[5]: ("cp-both", "other-latency", True, "checkpoint-reached"),
}
