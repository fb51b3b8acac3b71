"""Every branch of the pure decision functions, without AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from auto_rollback import decision as rules
from auto_rollback import vocabulary as reasons
from auto_rollback.decision import Decision, Verdict
from auto_rollback.facts import AlarmFacts, GroupTags, MuteFacts, RefreshFacts
from auto_rollback.vocabulary import (
    GroupMode,
    InsufficientDataAction,
    MutedAlarmAction,
    Outcome,
    RefreshEventType,
    Severity,
)

STARTED = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ENABLED = GroupTags(name="web-prod", mode=GroupMode.ENABLED, alarm_prefix="web-prod-")


def refresh(status: str = "InProgress", *, desired: bool = True, version: str | None = "2") -> RefreshFacts:
    return RefreshFacts("r-1", status, STARTED, has_desired_configuration=desired, launch_template_version=version)


def alarm(name: str, arn: str | None = None) -> AlarmFacts:
    return AlarmFacts(name, arn or f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}", "ALARM", "", STARTED)


@pytest.mark.parametrize(
    ("state", "policy", "acts"),
    [
        ("ALARM", InsufficientDataAction.IGNORE, True),
        ("OK", InsufficientDataAction.ROLLBACK, False),
        ("INSUFFICIENT_DATA", InsufficientDataAction.IGNORE, False),
        ("INSUFFICIENT_DATA", InsufficientDataAction.ROLLBACK, True),
    ],
)
def test_only_alarm_state_acts_unless_insufficient_data_is_configured(
    state: str, policy: InsufficientDataAction, acts: bool
) -> None:
    assert rules.alarm_state_acts(state, policy) is acts


def test_alarm_links_by_its_group_tag_and_by_group_prefixes() -> None:
    # Given one group linked by tag and two groups with alarm-name prefixes
    prefixes = {"web-prod": "web-prod ", "api-prod": "api-"}
    # When an alarm with spaces in its name and a group tag is resolved
    linked = rules.linked_groups("web-prod error rate", {"auto-rollback:group": "batch"}, prefixes)
    # Then the tagged group comes first, then prefix matches; the non-matching prefix is not linked
    assert linked == ["batch", "web-prod"]


def test_a_group_linked_twice_is_listed_once() -> None:
    assert rules.linked_groups("web-5xx", {"auto-rollback:group": "web-prod"}, {"web-prod": "web-"}) == ["web-prod"]


def test_the_group_tag_is_taken_exactly_as_written() -> None:
    # Given a group tag with a trailing space: the Tagging API a checkpoint asks matches values exactly
    # Then the alarm names the group "web-prod " (which does not exist), not "web-prod"
    assert rules.linked_groups("latency", {"auto-rollback:group": "web-prod "}, {}) == ["web-prod "]


def test_the_scaling_dimension_alone_links_nothing() -> None:
    # A target-tracking alarm: no link tag, no prefix match.
    assert rules.linked_groups("TargetTracking-web-prod-AlarmHigh-1234", {}, {}) == []


def test_disabled_group_is_skipped_before_anything_else() -> None:
    decided = rules.decide_rollback(
        group=GroupTags("web-prod"), refresh=refresh(), signal_at=STARTED, dry_run_setting=False
    )
    assert decided == Decision(Verdict.SKIP, reasons.GROUP_NOT_ENABLED)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, Decision(Verdict.SKIP, reasons.NO_ACTIVE_REFRESH)),
        ("Successful", Decision(Verdict.SKIP, reasons.NO_ACTIVE_REFRESH)),
        ("Failed", Decision(Verdict.SKIP, reasons.NO_ACTIVE_REFRESH)),
        ("Cancelled", Decision(Verdict.SKIP, reasons.NO_ACTIVE_REFRESH)),
        ("RollbackSuccessful", Decision(Verdict.SKIP, reasons.NO_ACTIVE_REFRESH)),
        ("RollbackFailed", Decision(Verdict.SKIP, reasons.NO_ACTIVE_REFRESH)),
        ("Cancelling", Decision(Verdict.SKIP, reasons.REFRESH_CANCELLING)),
        ("RollbackInProgress", Decision(Verdict.DEDUPLICATE, reasons.ROLLBACK_IN_PROGRESS)),
        ("Pending", Decision(Verdict.ROLLBACK, "alarm")),
        ("InProgress", Decision(Verdict.ROLLBACK, "alarm")),
        ("Baking", Decision(Verdict.ROLLBACK, "alarm")),
    ],
)
def test_refresh_status_decides_whether_a_rollback_can_help(status: str | None, expected: Decision) -> None:
    current = refresh(status) if status else None
    decided = rules.decide_rollback(group=ENABLED, refresh=current, signal_at=STARTED, dry_run_setting=False)
    assert decided == expected


def test_alarm_that_changed_before_the_refresh_started_is_not_blamed_on_it() -> None:
    earlier = STARTED - timedelta(milliseconds=1)
    decided = rules.decide_rollback(group=ENABLED, refresh=refresh(), signal_at=earlier, dry_run_setting=False)
    assert decided == Decision(Verdict.SKIP, reasons.ALARM_PREDATES_REFRESH)


def test_alarm_that_changed_exactly_at_the_start_counts() -> None:
    decided = rules.decide_rollback(group=ENABLED, refresh=refresh(), signal_at=STARTED, dry_run_setting=False)
    assert decided.verdict is Verdict.ROLLBACK


@pytest.mark.parametrize(
    ("mode", "setting", "requested", "reason"),
    [
        (GroupMode.ENABLED, True, False, reasons.DRY_RUN_SETTING),
        (GroupMode.DRY_RUN, False, False, reasons.DRY_RUN_GROUP),
        (GroupMode.ENABLED, False, True, reasons.DRY_RUN_REQUEST),
    ],
)
def test_dry_run_from_setting_group_tag_or_request(
    mode: GroupMode, setting: bool, requested: bool, reason: str
) -> None:
    group = GroupTags("web-prod", mode)
    decided = rules.decide_rollback(
        group=group, refresh=refresh(), signal_at=STARTED, dry_run_setting=setting, dry_run_requested=requested
    )
    assert decided == Decision(Verdict.DRY_RUN, reason)


def test_manual_request_has_no_alarm_time_to_compare() -> None:
    decided = rules.decide_rollback(group=ENABLED, refresh=refresh(), signal_at=None, dry_run_setting=False)
    assert decided == Decision(Verdict.ROLLBACK, "manual-request")


@pytest.mark.parametrize(
    ("tag", "mode", "meant"),
    [
        ("enabled", GroupMode.ENABLED, None),
        ("dry-run", GroupMode.DRY_RUN, None),
        ("disabled", GroupMode.DISABLED, None),
        ("Enabled", GroupMode.DISABLED, GroupMode.ENABLED),
        ("enabled ", GroupMode.DISABLED, GroupMode.ENABLED),
        (" ENABLED\u00a0", GroupMode.DISABLED, GroupMode.ENABLED),
        ("Dry-Run", GroupMode.DISABLED, GroupMode.DRY_RUN),
        ("Disabled ", GroupMode.DISABLED, None),
        ("", GroupMode.DISABLED, None),
        ("yes", GroupMode.DISABLED, None),
        (None, GroupMode.DISABLED, None),
    ],
)
def test_only_the_exact_opt_in_values_count_and_near_misses_are_named(
    tag: str | None, mode: GroupMode, meant: GroupMode | None
) -> None:
    # The IAM condition compares the tag with StringEquals: exact, case-sensitive, untrimmed
    assert GroupMode.from_tag(tag) is mode
    assert GroupMode.near_miss(tag) is meant


def test_a_near_miss_group_is_skipped_with_its_own_reason_and_a_refresh_start_is_news() -> None:
    # Given a group whose owner wrote "Enabled"
    group = GroupTags("web-prod", GroupMode.DISABLED, None, unrecognised_mode="Enabled")
    # When an alarm asks for a rollback, or its refresh starts
    rollback = rules.decide_rollback(group=group, refresh=refresh(), signal_at=STARTED, dry_run_setting=False)
    started = rules.decide_lifecycle(group, RefreshEventType.STARTED)
    succeeded = rules.decide_lifecycle(group, RefreshEventType.SUCCEEDED)
    # Then nothing is rolled back, and the start of an unprotected refresh is published
    assert rollback == Decision(Verdict.SKIP, reasons.OPT_IN_NOT_EXACT)
    assert started == Decision(Verdict.NOTIFY, reasons.OPT_IN_NOT_EXACT)
    assert succeeded == Decision(Verdict.SKIP, reasons.OPT_IN_NOT_EXACT)
    assert "'Enabled'" in rules.not_enabled_summary(group)
    assert "NOT protected" in rules.not_enabled_summary(group)


@pytest.mark.parametrize(
    ("event_tags", "settled"),
    [
        ({"auto-rollback:group": "web-prod"}, True),
        ({"team": "web"}, False),  # filtered by IncludedTagKeys / ExcludedTagKeys: look the alarm up
        ({}, False),
        ({"auto-rollback:group": " "}, False),
    ],
)
def test_event_tags_settle_the_link_only_when_they_carry_the_group_tag(
    event_tags: dict[str, str], settled: bool
) -> None:
    assert rules.tags_settle_link(event_tags) is settled


def no_mute(name: str) -> MuteFacts | None:
    return None


def first_acting(
    by_prefix: list[AlarmFacts],
    by_tag: Iterable[AlarmFacts] = (),
    mute_of: Callable[[str], MuteFacts | None] = no_mute,
    policy: MutedAlarmAction = MutedAlarmAction.IGNORE,
) -> rules.FiringAlarms:
    return rules.first_acting_alarm(rules.linked_firing_alarms(by_prefix, by_tag), mute_of, policy)


def test_the_acting_alarm_is_found_by_prefix_first_without_reading_tagged_alarms() -> None:
    # Given a prefix-linked alarm, and tag-linked alarms that cost AWS calls to read
    read: list[str] = []

    def by_tag() -> Iterator[AlarmFacts]:
        read.append("tagged alarms")
        yield alarm("latency")

    # When the acting alarm is searched
    found = first_acting([alarm("web-prod-5xx")], by_tag())
    # Then the prefix match wins, and the tagged alarms were never read
    assert found.acting is not None and found.acting.name == "web-prod-5xx"
    assert read == []


def test_tag_linked_alarms_act_when_no_prefix_linked_alarm_does() -> None:
    tagged = alarm("latency", arn="arn:latency")
    assert first_acting([], [tagged]).acting == tagged
    assert first_acting([], []) == rules.FiringAlarms(None, [])


def test_an_alarm_linked_both_ways_is_considered_once() -> None:
    # Given an alarm that matches the prefix and is tagged for the group, and is muted
    both = alarm("web-prod-5xx")
    asked: list[str] = []

    def mute_of(name: str) -> MuteFacts | None:
        asked.append(name)
        return MUTE

    # When the acting alarm is searched, then its mute is asked about once, and it is named once
    found = first_acting([both], [both], mute_of)
    assert asked == ["web-prod-5xx"] and len(found.silenced) == 1


MUTE = MuteFacts("arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:patching")


def test_a_suppressed_composite_is_passed_over_without_a_mute_look_up() -> None:
    # Given a suppressed composite alarm linked by prefix, then an unsuppressed one
    suppressed = replace(alarm("web-prod-composite"), actions_suppressed_by="WaitPeriod")
    asked: list[str] = []

    def mute_of(name: str) -> MuteFacts | None:
        asked.append(name)
        return None

    # When the acting alarm is searched
    found = first_acting([suppressed, alarm("web-prod-5xx")], [], mute_of)
    # Then the unsuppressed alarm acts, the suppressed one is named, and only the acting one was asked about
    assert found.acting is not None and found.acting.name == "web-prod-5xx"
    assert found.silenced == [rules.SilencedAlarm(suppressed, reasons.ACTIONS_SUPPRESSED)]
    assert asked == ["web-prod-5xx"]


def test_a_muted_alarm_is_passed_over_and_named_with_its_rule() -> None:
    muted = alarm("web-prod-5xx")
    found = first_acting([muted], [], lambda name: MUTE)
    assert found == rules.FiringAlarms(None, [rules.SilencedAlarm(muted, reasons.ALARM_MUTED, MUTE)])
    assert found.silenced[0].mute is not None and found.silenced[0].mute.rule_name == "patching"


def test_muted_alarms_act_without_any_mute_look_up_when_the_operator_says_so() -> None:
    def mute_of(name: str) -> MuteFacts | None:
        raise AssertionError("no look-up is needed when muted alarms act anyway")

    found = first_acting([alarm("web-prod-5xx")], [], mute_of, MutedAlarmAction.ROLLBACK)
    assert found.acting is not None and found.silenced == []


@pytest.mark.parametrize(
    ("mute", "suppressed_by", "now", "policy", "expected"),
    [
        (None, None, STARTED, MutedAlarmAction.IGNORE, None),
        (None, "Alarm", STARTED, MutedAlarmAction.ROLLBACK, reasons.ACTIONS_SUPPRESSED),
        (MUTE, None, STARTED, MutedAlarmAction.IGNORE, reasons.ALARM_MUTED),
        (MUTE, None, STARTED, MutedAlarmAction.ROLLBACK, None),
        # An event handled after its mute window ended (a late retry) is no longer muted.
        (
            replace(MUTE, window_start=STARTED, window_end=STARTED + timedelta(hours=2)),
            None,
            STARTED + timedelta(hours=2),
            MutedAlarmAction.IGNORE,
            None,
        ),
        (
            replace(MUTE, window_start=STARTED, window_end=STARTED + timedelta(hours=2)),
            None,
            STARTED + timedelta(hours=2) - timedelta(milliseconds=1),
            MutedAlarmAction.IGNORE,
            reasons.ALARM_MUTED,
        ),
    ],
)
def test_cloudwatch_own_controls_hold_an_alarm_back(
    mute: MuteFacts | None, suppressed_by: str | None, now: datetime, policy: MutedAlarmAction, expected: str | None
) -> None:
    decision = rules.why_alarm_silenced(
        mute=mute, actions_suppressed_by=suppressed_by, now=now, muted_alarm_action=policy
    )
    assert decision == (None if expected is None else Decision(Verdict.SKIP, expected))


def test_lifecycle_events_notify_only_opted_in_groups() -> None:
    assert rules.decide_lifecycle(GroupTags("g"), RefreshEventType.SUCCEEDED) == Decision(
        Verdict.SKIP, reasons.GROUP_NOT_ENABLED
    )
    assert rules.decide_lifecycle(ENABLED, RefreshEventType.ROLLBACK_FAILED) == Decision(
        Verdict.NOTIFY, "refresh-rollback-failed"
    )


@pytest.mark.parametrize(
    ("event_type", "warnings", "severity"),
    [
        (RefreshEventType.ROLLBACK_FAILED, [], Severity.HIGH),
        (RefreshEventType.FAILED, [], Severity.MEDIUM),
        (RefreshEventType.ROLLBACK_STARTED, [], Severity.MEDIUM),
        (RefreshEventType.STARTED, ["x"], Severity.MEDIUM),
        (RefreshEventType.STARTED, [], Severity.INFO),
        (RefreshEventType.SUCCEEDED, [], Severity.INFO),
    ],
)
def test_lifecycle_severity(event_type: RefreshEventType, warnings: list[str], severity: Severity) -> None:
    assert rules.lifecycle_severity(event_type, warnings) is severity


@pytest.mark.parametrize(
    ("current", "alarms", "count"),
    [
        (refresh(desired=False), 1, 1),
        (refresh(version="$Latest"), 1, 1),
        (refresh(version="$Default"), 0, 2),
        (refresh(), 0, 1),
        (refresh(), 3, 0),
    ],
)
def test_started_warnings(current: RefreshFacts, alarms: int, count: int) -> None:
    assert len(rules.started_warnings(current, alarms)) == count


@pytest.mark.parametrize("prefix", ["TargetTracking-", "TargetTracking-web-prod-AlarmHigh"])
def test_a_refresh_starting_with_a_target_tracking_alarm_prefix_warns_that_those_alarms_never_arrive(
    prefix: str,
) -> None:
    # Given a group whose alarm-prefix tag names alarms as target-tracking policies do,
    # and alarms that match it (the scaling policy's own)
    # When its refresh starts
    warnings = rules.started_warnings(refresh(), 2, alarm_prefix=prefix)

    # Then the one warning says their state changes never reach the function, naming the tag value
    (warning,) = warnings
    assert f"auto-rollback:alarm-prefix tag {prefix!r} starts with 'TargetTracking-'" in warning
    assert "never reach the function" in warning


@pytest.mark.parametrize("prefix", [None, "web-prod-", "targettracking-web", "Target", "web TargetTracking-"])
def test_other_alarm_prefixes_start_a_refresh_without_the_target_tracking_warning(prefix: str | None) -> None:
    # Given a group with no prefix, an ordinary one, one that differs only in case (EventBridge's
    # prefix match is case-sensitive, so those alarms are delivered), one that the prefix merely
    # begins, and one that contains it later
    # When its refresh starts with linked alarms and a reversible refresh
    # Then nothing is worth a warning
    assert rules.started_warnings(refresh(), 2, alarm_prefix=prefix) == []


def test_a_late_muted_event_is_rechecked_only_when_its_window_ended_and_mutes_matter() -> None:
    window = replace(MUTE, window_start=STARTED, window_end=STARTED + timedelta(hours=1))
    after = STARTED + timedelta(hours=2)
    assert rules.mute_window_ended(window, after, MutedAlarmAction.IGNORE)
    assert not rules.mute_window_ended(window, STARTED, MutedAlarmAction.IGNORE)
    assert not rules.mute_window_ended(window, after, MutedAlarmAction.ROLLBACK)
    assert not rules.mute_window_ended(None, after, MutedAlarmAction.IGNORE)
    # A mute whose end is unknown (an unreadable muteDetail) never ends by itself
    assert not rules.mute_window_ended(MUTE, after, MutedAlarmAction.IGNORE)


@pytest.mark.parametrize(
    ("current_state", "current_mute", "expected"),
    [
        ("ALARM", None, None),
        ("OK", None, reasons.NOT_ALARM_STATE),
        (None, None, reasons.NOT_ALARM_STATE),  # deleted since
        ("ALARM", MUTE, reasons.ALARM_MUTED),  # another rule mutes it now
    ],
)
def test_a_late_muted_event_acts_only_as_cloudwatch_would_now(
    current_state: str | None, current_mute: MuteFacts | None, expected: str | None
) -> None:
    decision = rules.why_held_after_mute_window("ALARM", current_state, current_mute)
    assert decision == (None if expected is None else Decision(Verdict.SKIP, expected))


@pytest.mark.parametrize(
    ("tagged", "group", "near_miss"),
    [
        ("web-prod ", GroupTags("web-prod "), True),
        (" web-prod", GroupTags(" web-prod"), True),
        ("web-prod", GroupTags("web-prod"), False),  # exact: an unopted group is simply not enabled
        ("web-prod ", GroupTags("web-prod ", GroupMode.ENABLED), False),  # a group really named so, opted in
        ("", GroupTags("web-prod"), False),
    ],
)
def test_a_group_tag_with_spaces_around_a_name_is_a_near_miss(tagged: str, group: GroupTags, near_miss: bool) -> None:
    assert rules.group_tag_near_miss(tagged, group) is near_miss


@pytest.mark.parametrize(
    ("verdict", "outcome", "dry_run"),
    [
        (Verdict.ROLLBACK, Outcome.ROLLBACK_STARTED, False),
        (Verdict.DRY_RUN, Outcome.DRY_RUN, True),
        (Verdict.SKIP, Outcome.SKIPPED, False),
        (Verdict.DEDUPLICATE, Outcome.DEDUPLICATED, False),
        (Verdict.NOTIFY, Outcome.NOTIFIED, False),
    ],
)
def test_every_verdict_says_its_outcome(verdict: Verdict, outcome: Outcome, dry_run: bool) -> None:
    # Given a decision of each verdict
    decision = Decision(verdict, "some-reason")

    # When its outcome is asked (a rollback's is what the action reports when it succeeds)
    said = (decision.outcome, decision.dry_run)

    # Then the result can be built from it once, with nothing left to fill in
    assert said == (outcome, dry_run)
