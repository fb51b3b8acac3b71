"""The decision: pure functions from facts to a verdict. No AWS, no clock, no I/O.

Every branch here is a row of the README's decision table, and each has a unit
test in ``tests/unit/test_decision.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import chain

from auto_rollback.facts import AlarmFacts, GroupTags, MuteFacts, RefreshFacts
from auto_rollback.vocabulary import (
    ACTIONS_SUPPRESSED,
    ALARM_GROUP_TAG,
    ALARM_MUTED,
    ALARM_PREDATES_REFRESH,
    ALARM_PREFIX_TAG,
    ALARM_STATE,
    DRY_RUN_GROUP,
    DRY_RUN_REQUEST,
    DRY_RUN_SETTING,
    GROUP_NOT_ENABLED,
    INSUFFICIENT_DATA_STATE,
    LIFECYCLE_REASONS,
    NO_ACTIVE_REFRESH,
    NOT_ALARM_STATE,
    OPT_IN_NOT_EXACT,
    REFRESH_CANCELLING,
    ROLLBACK_BY_ALARM,
    ROLLBACK_BY_REQUEST,
    ROLLBACK_IN_PROGRESS,
    TARGET_TRACKING_ALARM_PREFIX,
    GroupMode,
    InsufficientDataAction,
    MutedAlarmAction,
    Outcome,
    RefreshEventType,
    RefreshStatus,
    Severity,
)


class Verdict(StrEnum):
    ROLLBACK = "ROLLBACK"  # call RollbackInstanceRefresh (once per refresh)
    DRY_RUN = "DRY_RUN"  # would roll back; publish, change nothing
    SKIP = "SKIP"
    DEDUPLICATE = "DEDUPLICATE"  # a rollback is already under way
    NOTIFY = "NOTIFY"  # lifecycle news, nothing to change


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str  # machine-readable, e.g. "alarm-predates-refresh"

    @property
    def outcome(self) -> Outcome:
        """What the result says; for ROLLBACK, what the action reports when it succeeds (it may say otherwise)."""
        return _VERDICT_OUTCOMES[self.verdict]

    @property
    def dry_run(self) -> bool:
        """A dry run is news for the on-call (MEDIUM): it says what would have been done."""
        return self.verdict is Verdict.DRY_RUN


_VERDICT_OUTCOMES = {
    Verdict.ROLLBACK: Outcome.ROLLBACK_STARTED,
    Verdict.DRY_RUN: Outcome.DRY_RUN,
    Verdict.SKIP: Outcome.SKIPPED,
    Verdict.DEDUPLICATE: Outcome.DEDUPLICATED,
    Verdict.NOTIFY: Outcome.NOTIFIED,
}


def alarm_state_acts(state: str, insufficient_data: InsufficientDataAction) -> bool:
    """Only ALARM is a failure signal, and INSUFFICIENT_DATA when the operator says so."""
    if state == ALARM_STATE:
        return True
    return state == INSUFFICIENT_DATA_STATE and insufficient_data is InsufficientDataAction.ROLLBACK


def why_alarm_silenced(
    *,
    mute: MuteFacts | None,
    actions_suppressed_by: str | None,
    now: datetime,
    muted_alarm_action: MutedAlarmAction,
) -> Decision | None:
    """Why CloudWatch's own controls say this alarm must not act now; None when nothing holds it back.

    A composite alarm's actions suppression is part of the alarm's definition, so it
    always holds. A mute rule holds while its window lasts, unless the operator chose
    ``MUTED_ALARM_ACTION=rollback``.
    """
    if actions_suppressed_by:
        return Decision(Verdict.SKIP, ACTIONS_SUPPRESSED)
    if mute is not None and mute.mutes_at(now) and muted_alarm_action is MutedAlarmAction.IGNORE:
        return Decision(Verdict.SKIP, ALARM_MUTED)
    return None


def mute_window_ended(mute: MuteFacts | None, now: datetime, muted_alarm_action: MutedAlarmAction) -> bool:
    """Whether an event muted when it was sent is handled after its window ended, and mutes matter."""
    return mute is not None and not mute.mutes_at(now) and muted_alarm_action is MutedAlarmAction.IGNORE


def why_held_after_mute_window(
    event_state: str, current_state: str | None, current_mute: MuteFacts | None
) -> Decision | None:
    """Why a late event whose mute window has ended is not acted on; None when it acts as usual.

    It acts only as CloudWatch would act now: CloudWatch runs the actions a mute held
    back only if the alarm is still in that state when the window ends, and not while
    another rule mutes it ("How alarm mute rules work"). ``current_state`` is None for
    an alarm deleted since.
    """
    if current_state != event_state:
        return Decision(Verdict.SKIP, NOT_ALARM_STATE)
    if current_mute is not None:
        return Decision(Verdict.SKIP, ALARM_MUTED)
    return None


def linked_groups(alarm_name: str, alarm_tags: Mapping[str, str], prefixes: Mapping[str, str]) -> list[str]:
    """The groups an alarm watches: by the alarm's group tag, or by a group's alarm-name prefix.

    ``prefixes`` maps groups to their alarm-name prefix; it need hold only the groups
    whose prefix starts the alarm's name (the function asks AWS for exactly those).
    The group tag is taken as written, as the Resource Groups Tagging API matches it
    when a checkpoint looks for tagged alarms.

    The ``AutoScalingGroupName`` metric dimension is deliberately not a link:
    target-tracking and step-scaling alarms carry it and go to ALARM on every
    scale-out, which is not a reason to roll anything back.
    """
    linked: list[str] = []
    tagged = group_named_by(alarm_tags)
    if tagged:
        linked.append(tagged)
    for name in sorted(prefixes):
        prefix = prefixes[name]
        if prefix and alarm_name.startswith(prefix) and name not in linked:
            linked.append(name)
    return linked


def tags_settle_link(event_tags: Mapping[str, str]) -> bool:
    """Whether the tags an alarm event carries are enough to know which group the alarm watches.

    With alarm tag propagation, ``alarmTags`` may be a filtered subset of the alarm's
    tags (``IncludedTagKeys`` / ``ExcludedTagKeys``): a missing group tag means only
    that it was not propagated, so the alarm's own tags must be read.
    """
    return bool(group_named_by(event_tags))


def group_named_by(alarm_tags: Mapping[str, str]) -> str:
    """The group tag's value exactly as written (a blank one names no group)."""
    value = alarm_tags.get(ALARM_GROUP_TAG, "")
    return value if value.strip() else ""


def linked_firing_alarms(by_prefix: Iterable[AlarmFacts], by_tag: Iterable[AlarmFacts]) -> Iterator[AlarmFacts]:
    """The alarms that watch the group, lazily and each once: those linked by prefix first.

    ``by_tag`` is not touched while an alarm linked by prefix acts: reading it costs
    two more AWS calls, one to find the tagged alarms and one for their states.
    """
    seen: set[str] = set()
    for alarm in chain(by_prefix, by_tag):
        if alarm.arn not in seen:
            seen.add(alarm.arn)
            yield alarm


@dataclass(frozen=True)
class SilencedAlarm:
    """A linked alarm in ALARM that CloudWatch's own controls hold back."""

    alarm: AlarmFacts
    reason: str  # ALARM_MUTED or ACTIONS_SUPPRESSED
    mute: MuteFacts | None = None


@dataclass(frozen=True)
class FiringAlarms:
    """The result of a checkpoint's search: the alarm that acts, and those passed over first."""

    acting: AlarmFacts | None
    silenced: list[SilencedAlarm] = field(default_factory=list)


def first_acting_alarm(
    linked: Iterable[AlarmFacts],
    mute_of: Callable[[str], MuteFacts | None],
    muted_alarm_action: MutedAlarmAction,
) -> FiringAlarms:
    """The first linked alarm in ALARM that is neither suppressed nor muted now.

    ``mute_of(alarm_name)`` is asked only for the alarms that would otherwise act, and
    not at all when muted alarms act anyway: each question is one AWS call.
    """
    silenced: list[SilencedAlarm] = []
    for alarm in linked:
        if alarm.actions_suppressed_by:
            silenced.append(SilencedAlarm(alarm, ACTIONS_SUPPRESSED))
            continue
        mute = mute_of(alarm.name) if muted_alarm_action is MutedAlarmAction.IGNORE else None
        if mute is not None:
            silenced.append(SilencedAlarm(alarm, ALARM_MUTED, mute))
            continue
        return FiringAlarms(alarm, silenced)
    return FiringAlarms(None, silenced)


def group_tag_near_miss(tagged: str, group: GroupTags) -> bool:
    """Whether an alarm's group tag names no opted-in group only because of spaces around the name.

    The tag is taken exactly as written (the Tagging API a checkpoint asks matches it
    so), so ``"web-prod "`` does not link ``web-prod``; saying so beats a silent skip.
    """
    return group.name == tagged and tagged != tagged.strip() and group.mode is GroupMode.DISABLED


def decide_not_enabled(group: GroupTags) -> Decision:
    """Why a disabled group is left alone: no opt-in, or an opt-in value that is not exact."""
    return Decision(Verdict.SKIP, OPT_IN_NOT_EXACT if group.meant_mode else GROUP_NOT_ENABLED)


def not_enabled_summary(group: GroupTags) -> str:
    """For people: what an inexact ``auto-rollback`` tag value means, and how to fix it."""
    if not group.meant_mode:
        return (
            f"The group is not opted in: its auto-rollback tag is absent or neither "
            f"'{GroupMode.ENABLED.value}' nor '{GroupMode.DRY_RUN.value}'."
        )
    return (
        f"The group's auto-rollback tag is {group.unrecognised_mode!r}, not exactly "
        f"{group.meant_mode.value!r}, so the group is NOT protected. Only the exact values "
        f"'{GroupMode.ENABLED.value}' and '{GroupMode.DRY_RUN.value}' opt a group in, as in the IAM policy."
    )


def decide_rollback(  # noqa: PLR0911 - one return per row of the decision table
    *,
    group: GroupTags,
    refresh: RefreshFacts | None,
    signal_at: datetime | None,
    dry_run_setting: bool,
    dry_run_requested: bool = False,
) -> Decision:
    """Whether this group's refresh must be rolled back now, given a failure signal at ``signal_at``.

    ``signal_at`` is when the alarm entered its state (``detail.state.timestamp``,
    finer than the event's ``time``); None for a manual request, which has no alarm.
    """
    if group.mode is GroupMode.DISABLED:
        return decide_not_enabled(group)
    not_active = why_refresh_cannot_roll_back(refresh)
    if not_active is not None:
        return not_active
    assert refresh is not None  # why_refresh_cannot_roll_back returned None, so there is an active refresh
    if signal_at is not None and refresh.start_time is not None and signal_at < refresh.start_time:
        return Decision(Verdict.SKIP, ALARM_PREDATES_REFRESH)
    if dry_run_requested:
        return Decision(Verdict.DRY_RUN, DRY_RUN_REQUEST)
    if dry_run_setting:
        return Decision(Verdict.DRY_RUN, DRY_RUN_SETTING)
    if group.mode is GroupMode.DRY_RUN:
        return Decision(Verdict.DRY_RUN, DRY_RUN_GROUP)
    return Decision(Verdict.ROLLBACK, ROLLBACK_BY_ALARM if signal_at is not None else ROLLBACK_BY_REQUEST)


def why_refresh_cannot_roll_back(refresh: RefreshFacts | None) -> Decision | None:
    """Why nothing is to be done to the refresh; None when it is active, so a rollback can help."""
    if refresh is None:
        return Decision(Verdict.SKIP, NO_ACTIVE_REFRESH)
    if refresh.status == RefreshStatus.ROLLBACK_IN_PROGRESS:
        return Decision(Verdict.DEDUPLICATE, ROLLBACK_IN_PROGRESS)
    if refresh.status == RefreshStatus.CANCELLING:
        return Decision(Verdict.SKIP, REFRESH_CANCELLING)
    if not refresh.is_active:
        return Decision(Verdict.SKIP, NO_ACTIVE_REFRESH)
    return None


def decide_lifecycle(group: GroupTags, event_type: RefreshEventType) -> Decision:
    """Lifecycle events are news for opted-in groups only.

    One exception: a refresh starting on a group whose opt-in value is a near miss
    (``Enabled``, ``enabled ``) is news, because its owner believes it is protected.
    """
    if group.mode is GroupMode.DISABLED:
        if group.meant_mode and event_type is RefreshEventType.STARTED:
            return Decision(Verdict.NOTIFY, OPT_IN_NOT_EXACT)
        return decide_not_enabled(group)
    return Decision(Verdict.NOTIFY, LIFECYCLE_REASONS[event_type])


def lifecycle_severity(event_type: RefreshEventType, warnings: Iterable[str] = ()) -> Severity:
    if event_type is RefreshEventType.ROLLBACK_FAILED:
        return Severity.HIGH
    if event_type in {RefreshEventType.FAILED, RefreshEventType.ROLLBACK_STARTED} or any(warnings):
        return Severity.MEDIUM
    return Severity.INFO


def started_warnings(
    refresh: RefreshFacts | None, linked_alarm_count: int, *, alarm_prefix: str | None = None
) -> list[str]:
    """What an operator should know when a protected refresh starts.

    ``alarm_prefix`` is the group's ``auto-rollback:alarm-prefix`` tag value. One that
    starts like a target-tracking alarm's name links alarms whose state changes the
    stack's rule drops: the owner believes they act the moment they fire, and they do not.
    Case-sensitive, as EventBridge's prefix match is.
    """
    warnings = []
    if refresh is not None and refresh.known_irreversible:
        warnings.append(f"cannot be rolled back: {refresh.known_irreversible}")
    if linked_alarm_count == 0:
        warnings.append(
            "no alarm is linked by the group's auto-rollback:alarm-prefix tag; "
            "only alarms tagged auto-rollback:group can stop this refresh"
        )
    target_tracking = target_tracking_prefix_problem(alarm_prefix)
    if target_tracking:
        warnings.append(target_tracking + "; they can stop this refresh only at a checkpoint or when baking starts")
    return warnings


def target_tracking_prefix_problem(alarm_prefix: str | None) -> str | None:
    """Why an ``auto-rollback:alarm-prefix`` that starts like a target-tracking alarm's name misleads; None if not.

    Case-sensitive, as EventBridge's prefix match is.
    """
    if alarm_prefix is None or not alarm_prefix.startswith(TARGET_TRACKING_ALARM_PREFIX):
        return None
    return (
        f"the group's {ALARM_PREFIX_TAG} tag {alarm_prefix!r} starts with {TARGET_TRACKING_ALARM_PREFIX!r}, "
        "and the state changes of alarms named so (target-tracking scaling alarms) never reach the function"
    )
