"""The inventory's pure parts: rollback status, warnings, alarm links and the answer's shape. No AWS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auto_rollback.events import InventoryCursor
from auto_rollback.facts import AlarmFacts, GroupConfig, GroupTags, RefreshFacts
from auto_rollback.inventory import (
    CALL_BUDGET,
    MAX_GROUPS,
    GroupReport,
    LinkedAlarm,
    answer,
    group_warnings,
    link_alarms,
    rollback_status,
)
from auto_rollback.vocabulary import GroupMode

STARTED = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def _config(
    mode: str | None = "enabled", *, version: str | None = "1", prefix: str | None = None, name: str = "web-prod"
) -> GroupConfig:
    parsed = GroupMode.from_tag(mode)
    tags = GroupTags(
        name, parsed, alarm_prefix=prefix, unrecognised_mode=mode if parsed is GroupMode.DISABLED else None
    )
    return GroupConfig(tags, version)


def _refresh(status: str = "InProgress", *, version: str | None = "2", desired: bool = True) -> RefreshFacts:
    return RefreshFacts("r-1", status, STARTED, has_desired_configuration=desired, launch_template_version=version)


def _alarm(name: str, state: str = "OK") -> AlarmFacts:
    return AlarmFacts(name, f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}", state, "", STARTED)


@pytest.mark.parametrize(
    ("config", "refresh", "dry_run_setting", "expected"),
    [
        (_config(), _refresh(), False, (True, None)),
        (_config("dry-run"), _refresh(), False, (True, "group-dry-run")),
        (_config(), _refresh(), True, (True, "dry-run")),
        (_config("Enabled"), _refresh(), False, (False, "opt-in-tag-not-exact")),
        (_config("disabled"), _refresh(), False, (False, "group-not-enabled")),
        (_config(), None, False, (False, "no-active-refresh")),
        (_config(), _refresh("Successful"), False, (False, "no-active-refresh")),
        (_config(), _refresh("RollbackInProgress"), False, (False, "rollback-in-progress")),
        (_config(), _refresh("Cancelling"), False, (False, "refresh-cancelling")),
        (_config(), _refresh(desired=False, version=None), False, (False, "rollback-irreversible")),
        (_config(), _refresh(version="$Default"), False, (False, "rollback-irreversible")),
        (_config(version="$Latest"), _refresh(), False, (False, "rollback-irreversible")),
    ],
    ids=[
        "active",
        "group-dry-run",
        "deployment-dry-run",
        "near-miss",
        "disabled",
        "no-refresh",
        "finished",
        "rolling-back",
        "cancelling",
        "no-desired-configuration",
        "refresh-to-default",
        "group-on-latest",
    ],
)
def test_rollback_status_speaks_in_the_decisions_reasons(
    config: GroupConfig, refresh: RefreshFacts | None, dry_run_setting: bool, expected: tuple[bool, str | None]
) -> None:
    # Given a group and its newest refresh
    # When the inventory asks whether that refresh can be rolled back now
    # Then the answer and its reason are the decision module's (or the rollback's own refusal)
    assert rollback_status(config, refresh, dry_run_setting=dry_run_setting) == expected


def _codes(
    config: GroupConfig, refresh: RefreshFacts | None = None, alarms: list[LinkedAlarm] | None = None
) -> list[str]:
    linked = [LinkedAlarm("web-prod 5xx", by_tag=True, by_prefix=False, state="OK")] if alarms is None else alarms
    return [warning.code for warning in group_warnings(config, refresh, linked, alarms_cut_short=False)]


def test_a_protected_group_with_a_numbered_version_and_an_alarm_has_no_warning() -> None:
    assert _codes(_config()) == []


@pytest.mark.parametrize("value", ["Enabled", "enabled ", "DRY-RUN"])
def test_a_near_miss_opt_in_is_a_warning_and_a_group_without_alarm_says_so(value: str) -> None:
    # Given a group whose owner meant to opt in, with no linked alarm
    # When its warnings are listed
    # Then the near miss comes first, then the missing alarm (the owner believes it protected)
    assert _codes(_config(value), alarms=[]) == ["opt-in-tag-not-exact", "no-linked-alarm"]


def test_an_unrecognised_opt_in_value_is_a_warning_but_disabled_is_not() -> None:
    assert _codes(_config("yes")) == ["opt-in-tag-unrecognised"]
    assert _codes(_config("disabled"), alarms=[]) == []


@pytest.mark.parametrize("version", ["$Latest", "$Default"])
def test_a_group_on_a_moving_launch_template_version_is_warned(version: str) -> None:
    # Given an opted-in group whose launch template version moves
    [warning] = group_warnings(
        _config(version=version), None, [LinkedAlarm("a", True, False, "OK")], alarms_cut_short=False
    )
    # Then the warning names the version and AWS's limitation
    assert warning.code == "launch-template-moving-version"
    assert version in warning.message and "Undo changes with a manual or auto rollback" in warning.message


def test_an_active_refresh_to_a_moving_version_is_warned_but_a_finished_one_is_not() -> None:
    assert _codes(_config(), _refresh(version="$Latest")) == ["launch-template-moving-version"]
    assert _codes(_config(), _refresh("Successful", version="$Latest")) == []


def test_target_tracking_names_and_overlong_prefixes_are_warned() -> None:
    tracking = [LinkedAlarm("TargetTracking-web-AlarmHigh-1", by_tag=True, by_prefix=False, state="OK")]
    assert _codes(_config(prefix="TargetTracking-web")) == ["target-tracking-prefix"]
    assert _codes(_config(), alarms=tracking) == ["target-tracking-alarm"]
    assert _codes(_config(prefix="p" * 256)) == ["alarm-prefix-too-long"]


def test_a_list_cut_short_is_warned_and_not_taken_for_no_alarm() -> None:
    warnings = group_warnings(_config(), None, [], alarms_cut_short=True)
    assert [warning.code for warning in warnings] == ["alarms-not-all-listed"]


def test_an_alarm_linked_both_ways_is_listed_once_with_both_links_and_its_state() -> None:
    # Given an alarm tagged for the group that also matches its prefix, and one tagged alarm not read
    linked = link_alarms(["web-prod-5xx", "gone"], [_alarm("web-prod-5xx", "ALARM")], {})
    # Then each is listed once, by name, with how it is linked; the unread one's state is unknown
    assert [alarm.describe() for alarm in linked] == [
        {"name": "gone", "state": "unknown", "by": "tag"},
        {"name": "web-prod-5xx", "state": "ALARM", "by": "tag+prefix"},
    ]


def _report(name: str, *, warnings: bool) -> GroupReport:
    config = _config(name=name)
    alarms = [] if warnings else [LinkedAlarm(f"{name} 5xx", True, False, "ALARM")]
    return GroupReport(
        config,
        _refresh(),
        alarms,
        True,
        None,
        group_warnings(config, None, alarms, alarms_cut_short=False),
    )


def test_the_answer_puts_counts_warnings_and_token_first_and_groups_with_warnings_first() -> None:
    # Given two groups, the second with a warning, and more to come
    reports = [_report("a-group", warnings=False), _report("b-group", warnings=True)]
    cursor = InventoryCursor("page", "b-group")
    # When the answer is made
    made = answer(reports, cursor, dry_run_setting=False)
    # Then it leads with what matters, and hands back where to resume
    assert list(made) == ["action", "complete", "nextToken", "summary", "warnings", "groups"]
    assert [group["group"] for group in made["groups"]] == ["b-group", "a-group"]
    assert made["warnings"][0].startswith("b-group: [no-linked-alarm] ")
    assert made["summary"]["alarmsInAlarm"] == 1 and made["summary"]["groupsWithWarnings"] == 1
    assert InventoryCursor.decode(made["nextToken"]) == cursor


def test_the_call_budget_covers_a_full_invoke() -> None:
    # Group pages, then per group its refresh and two prefix pages, then tagged alarms and their states
    assert MAX_GROUPS == 20
    assert CALL_BUDGET == 3 + 20 * 3 + 4 + 4 * 2
