"""What the function knows about the world when it decides: plain, immutable records.

The records are filled in by :mod:`auto_rollback.answers` and read by the pure
:mod:`auto_rollback.decision`, so decisions can be tested without AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auto_rollback.vocabulary import ACTIVE_STATUSES, GroupMode

#: Launch template versions that name no fixed version: a rollback cannot restore them
#: (AWS, "Undo changes with a manual or auto rollback", Considerations).
MOVING_VERSIONS = frozenset({"$Latest", "$Default"})


@dataclass(frozen=True)
class GroupTags:
    """The auto-rollback tags of one group."""

    name: str
    mode: GroupMode = GroupMode.DISABLED
    alarm_prefix: str | None = None
    #: The ``auto-rollback`` tag's value as written, when it is not exactly a known mode.
    unrecognised_mode: str | None = None

    @property
    def meant_mode(self) -> GroupMode | None:
        """The mode a near-miss tag value was probably meant to set (it does not set it)."""
        return GroupMode.near_miss(self.unrecognised_mode)


@dataclass(frozen=True)
class GroupConfig:
    """A group as ``DescribeAutoScalingGroups`` lists it: its auto-rollback tags and its launch template."""

    tags: GroupTags
    #: The Version of the group's launch template specification (``$Default`` when it has none), or None
    #: when the group has no launch template (a launch configuration).
    launch_template_version: str | None


@dataclass(frozen=True)
class RefreshFacts:
    """The parts of ``DescribeInstanceRefreshes`` the decision needs."""

    instance_refresh_id: str
    status: str
    start_time: datetime | None
    has_desired_configuration: bool
    launch_template_version: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def known_irreversible(self) -> str | None:
        """Why AWS will refuse to roll this refresh back, when that is visible up front."""
        if not self.has_desired_configuration:
            return "the refresh has no desired configuration"
        if self.launch_template_version in MOVING_VERSIONS:
            return f"the refresh uses launch template version {self.launch_template_version}"
        return None


@dataclass(frozen=True)
class AlarmFacts:
    """An alarm in ALARM, as ``DescribeAlarms`` reports it."""

    name: str
    arn: str
    state: str
    state_reason: str
    state_changed_at: datetime
    #: Composite alarms only: why CloudWatch is holding the alarm's actions back now
    #: (``Alarm``, ``WaitPeriod`` or ``ExtensionPeriod``), None when it is not.
    actions_suppressed_by: str | None = None
    actions_suppressed_reason: str = ""


@dataclass(frozen=True)
class MuteFacts:
    """An alarm mute rule silencing an alarm's actions (``detail.muteDetail`` or ListAlarmMuteRules)."""

    rule_arn: str
    #: The mute window, when CloudWatch says (alarm events do; ListAlarmMuteRules does not).
    window_start: datetime | None = None
    window_end: datetime | None = None
    #: Why an event's ``muteDetail`` could not be read in full; the alarm still counts as muted.
    problem: str | None = None

    @property
    def rule_name(self) -> str:
        """``arn:aws:cloudwatch:<region>:<account>:alarm-mute-rule:<name>`` -> ``<name>``."""
        return self.rule_arn.split(":alarm-mute-rule:", 1)[-1] or "(unreadable)"

    def mutes_at(self, moment: datetime) -> bool:
        """Whether the window still covers ``moment``; an event handled after the window ends is not muted.

        A window CloudWatch did not bound (no end known) is taken to cover ``moment``.
        """
        return self.window_end is None or moment < self.window_end

    def describe(self) -> dict[str, str]:
        described = {"ruleName": self.rule_name, "ruleArn": self.rule_arn}
        if self.window_start is not None:
            described["windowStart"] = self.window_start.isoformat()
        if self.window_end is not None:
            described["windowEnd"] = self.window_end.isoformat()
        if self.problem is not None:
            described["problem"] = self.problem
        return described
