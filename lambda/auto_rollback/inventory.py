"""The fleet inventory: which groups are opted in, by which alarms, and whether their refreshes can be rolled back.

Answers the manual invoke ``{"action": "inventory"}`` (and ``"nextToken"`` to go on).
Read-only: it makes no call that changes anything, and publishes nothing: the
outcomes topic carries what the function did or would do to a refresh, and an
inventory is neither; the operator who asked reads the answer in the console, and
the function's log keeps it (one line per invoke).

Bounded: an invoke lists at most :data:`MAX_GROUPS` groups and makes at most
:data:`CALL_BUDGET` AWS calls whatever the account's size, following every page
token up to per-step page limits and saying so where a limit cut a list short. An
account with more groups answers with a ``nextToken`` to invoke again with. It also
stops early, with a ``nextToken``, when the invocation's remaining time runs low.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from auto_rollback import decision as rules
from auto_rollback.aws import error_code
from auto_rollback.events import InvalidEventError, InventoryCursor
from auto_rollback.facts import MOVING_VERSIONS, AlarmFacts, GroupConfig, RefreshFacts
from auto_rollback.gateway import MAX_ALARM_NAME, MAX_ALARM_NAMES, MAX_TAG_FILTER_VALUES, AwsGateway
from auto_rollback.vocabulary import (
    ALARM_GROUP_TAG,
    ALARM_PREFIX_TAG,
    ALARM_PREFIX_TOO_LONG,
    ALARMS_NOT_ALL_LISTED,
    DRY_RUN_GROUP,
    DRY_RUN_SETTING,
    INVENTORY_ACTION,
    IRREVERSIBLE,
    MODE_TAG,
    MOVING_LAUNCH_TEMPLATE_VERSION,
    NO_LINKED_ALARM,
    OPT_IN_NOT_EXACT,
    OPT_IN_UNRECOGNISED,
    OUT_OF_TIME,
    TARGET_TRACKING_ALARM,
    TARGET_TRACKING_ALARM_PREFIX,
    TARGET_TRACKING_PREFIX,
    GroupMode,
)

#: Groups per invoke: the 20 values one GetResources tag filter takes, so one paged call finds
#: the tagged alarms of every group listed; and an answer short enough to read in the console.
MAX_GROUPS = MAX_TAG_FILTER_VALUES
#: DescribeAutoScalingGroups pages read per invoke. AWS may answer a page with fewer groups than
#: asked for ("even when more items are available"), so a few pages may be needed for 20 groups.
MAX_GROUP_PAGES = 3
#: DescribeAlarms pages (100 alarms each) per group's prefix: 200 alarms.
PREFIX_PAGES_PER_GROUP = 2
#: GetResources pages (100 alarms each) for the tagged alarms of all the groups of an invoke.
TAGGED_PAGES = 4
#: DescribeAlarms pages per batch of 100 tagged alarm names (AWS may split even 100 names).
STATE_PAGES_PER_BATCH = 2
_STATE_BATCHES = -(-TAGGED_PAGES * 100 // MAX_ALARM_NAMES)
#: Every AWS call an invoke can make: group pages; per group its newest refresh and its prefix's
#: alarms; the tagged alarms' names, then their states.
CALL_BUDGET = (
    MAX_GROUP_PAGES + MAX_GROUPS * (1 + PREFIX_PAGES_PER_GROUP) + TAGGED_PAGES + _STATE_BATCHES * STATE_PAGES_PER_BATCH
)
#: A group's reads are not started with less time than this left: each read may be retried by
#: botocore for several seconds under throttling, and the answer must still be returned.
TIME_RESERVE_SECONDS = 15.0
#: Linked alarms named in a group's entry (those in ALARM first); all are counted.
MAX_ALARMS_SHOWN = 10


@dataclass(frozen=True)
class LinkedAlarm:
    """An alarm that watches a group, how it is linked, and its state (None: not read)."""

    name: str
    by_tag: bool
    by_prefix: bool
    state: str | None = None

    def describe(self) -> dict[str, str]:
        linked_by = "+".join(kind for kind, linked in (("tag", self.by_tag), ("prefix", self.by_prefix)) if linked)
        return {"name": self.name, "state": self.state or "unknown", "by": linked_by}


@dataclass(frozen=True)
class GroupWarning:
    code: str
    message: str


@dataclass(frozen=True)
class GroupReport:
    """One group's inventory entry."""

    config: GroupConfig
    refresh: RefreshFacts | None
    alarms: list[LinkedAlarm]
    can_roll_back: bool
    reason: str | None
    warnings: list[GroupWarning] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.config.tags.name

    def to_dict(self) -> dict[str, Any]:
        """Most important first: mode, what a rollback would do now, warnings, then the alarms."""
        tags = self.config.tags
        entry: dict[str, Any] = {"group": self.name, "mode": tags.mode.value}
        if tags.unrecognised_mode is not None and tags.unrecognised_mode != GroupMode.DISABLED.value:
            entry["modeTag"] = tags.unrecognised_mode
        entry["canRollBack"] = self.can_roll_back
        entry["reason"] = self.reason
        if self.warnings:
            entry["warnings"] = [warning.code for warning in self.warnings]
        states = Counter(alarm.state or "unknown" for alarm in self.alarms)
        shown = sorted(self.alarms, key=lambda alarm: (alarm.state != "ALARM", alarm.name))[:MAX_ALARMS_SHOWN]
        entry["alarms"] = {
            "linked": len(self.alarms),
            "states": dict(sorted(states.items())),
            "shown": [alarm.describe() for alarm in shown],
        }
        if self.refresh is not None:
            entry["refresh"] = {
                "id": self.refresh.instance_refresh_id,
                "status": self.refresh.status,
                "startTime": self.refresh.start_time.isoformat() if self.refresh.start_time else None,
            }
        else:
            entry["refresh"] = None
        entry["alarmPrefix"] = tags.alarm_prefix
        entry["launchTemplateVersion"] = self.config.launch_template_version
        return entry


# --- pure parts ---------------------------------------------------------------------------------------------


def rollback_status(
    config: GroupConfig, refresh: RefreshFacts | None, *, dry_run_setting: bool
) -> tuple[bool, str | None]:
    """Whether the group's current refresh can be rolled back now, and the decision's reason when not.

    Uses the decision's own reasons: a group that is not opted in, then the refresh's
    state (:func:`decision.why_refresh_cannot_roll_back`), then what AWS refuses up front
    (``rollback-irreversible``, as when RollbackInstanceRefresh refuses). Possible but
    only reported: ``dry-run`` (the deployment) or ``group-dry-run``.
    """
    tags = config.tags
    if tags.mode is GroupMode.DISABLED:
        return False, rules.decide_not_enabled(tags).reason
    blocked = rules.why_refresh_cannot_roll_back(refresh)
    if blocked is not None:
        return False, blocked.reason
    assert refresh is not None  # why_refresh_cannot_roll_back returned None: there is an active refresh
    if refresh.known_irreversible or config.launch_template_version in MOVING_VERSIONS:
        return False, IRREVERSIBLE
    if dry_run_setting:
        return True, DRY_RUN_SETTING
    if tags.mode is GroupMode.DRY_RUN:
        return True, DRY_RUN_GROUP
    return True, None


def group_warnings(
    config: GroupConfig, refresh: RefreshFacts | None, alarms: Sequence[LinkedAlarm], *, alarms_cut_short: bool
) -> list[GroupWarning]:
    """What an owner should fix for the group to be protected as they believe it is.

    A group tagged exactly ``disabled`` was opted out on purpose: nothing about its
    protection is news, so it gets no warning.
    """
    tags = config.tags
    warnings: list[GroupWarning] = []
    if tags.mode is GroupMode.DISABLED and tags.unrecognised_mode == GroupMode.DISABLED.value:
        return warnings
    if tags.meant_mode:
        warnings.append(GroupWarning(OPT_IN_NOT_EXACT, rules.not_enabled_summary(tags)))
    elif tags.mode is GroupMode.DISABLED:
        warnings.append(
            GroupWarning(
                OPT_IN_UNRECOGNISED,
                f"The group's {MODE_TAG} tag is {tags.unrecognised_mode!r}, which is no mode, so the group is NOT "
                f"protected: use '{GroupMode.ENABLED.value}', '{GroupMode.DRY_RUN.value}' or "
                f"'{GroupMode.DISABLED.value}'.",
            )
        )
    if not alarms and not alarms_cut_short:
        warnings.append(
            GroupWarning(
                NO_LINKED_ALARM,
                f"No alarm is linked, by its {ALARM_GROUP_TAG} tag or by the group's {ALARM_PREFIX_TAG} tag: "
                "no alarm can roll this group's refreshes back.",
            )
        )
    moving = _moving_version(config, refresh)
    if moving:
        warnings.append(GroupWarning(MOVING_LAUNCH_TEMPLATE_VERSION, moving))
    if tags.alarm_prefix is not None and len(tags.alarm_prefix) > MAX_ALARM_NAME:
        warnings.append(
            GroupWarning(
                ALARM_PREFIX_TOO_LONG,
                f"The group's {ALARM_PREFIX_TAG} tag is longer than an alarm name ({MAX_ALARM_NAME} characters): "
                "it links no alarm.",
            )
        )
    target_tracking = rules.target_tracking_prefix_problem(tags.alarm_prefix)
    if target_tracking:
        warnings.append(
            GroupWarning(
                TARGET_TRACKING_PREFIX,
                target_tracking[:1].upper()
                + target_tracking[1:]
                + ": they act only at checkpoints or when baking starts.",
            )
        )
    tracking_alarms = [
        alarm.name for alarm in alarms if alarm.by_tag and alarm.name.startswith(TARGET_TRACKING_ALARM_PREFIX)
    ]
    if tracking_alarms:
        warnings.append(
            GroupWarning(
                TARGET_TRACKING_ALARM,
                f"{len(tracking_alarms)} tagged alarm(s) named like target-tracking alarms "
                f"({tracking_alarms[0]!r}...): their state changes never reach the function; they act only at "
                "checkpoints or when baking starts.",
            )
        )
    if alarms_cut_short:
        warnings.append(
            GroupWarning(
                ALARMS_NOT_ALL_LISTED,
                "More alarms are linked than one inventory reads: the alarm counts are a lower bound.",
            )
        )
    return warnings


def _moving_version(config: GroupConfig, refresh: RefreshFacts | None) -> str | None:
    """Why a moving launch template version keeps a rollback from restoring the group; None if none does."""
    version = config.launch_template_version
    if version in MOVING_VERSIONS:
        return (
            f"The group uses launch template version {version}: AWS rolls back only to a numbered version "
            "(Amazon EC2 Auto Scaling User Guide, 'Undo changes with a manual or auto rollback'), so no refresh "
            "of this group can be rolled back. Set a version number."
        )
    if refresh is not None and refresh.is_active and refresh.launch_template_version in MOVING_VERSIONS:
        return (
            f"The active refresh deploys launch template version {refresh.launch_template_version}: AWS refuses to "
            "roll it back (RollbackInstanceRefresh). Start refreshes with a version number."
        )
    return None


def link_alarms(
    tagged: Iterable[str], by_prefix: Iterable[AlarmFacts], states: Mapping[str, AlarmFacts]
) -> list[LinkedAlarm]:
    """The group's alarms, each once, with how it is linked; by name."""
    prefixed = {alarm.name: alarm for alarm in by_prefix}
    tagged_names = set(tagged)
    linked = []
    for name in sorted(tagged_names | set(prefixed)):
        facts = prefixed.get(name) or states.get(name)
        linked.append(
            LinkedAlarm(
                name, by_tag=name in tagged_names, by_prefix=name in prefixed, state=facts.state if facts else None
            )
        )
    return linked


def answer(
    reports: Sequence[GroupReport], cursor: InventoryCursor | None, *, dry_run_setting: bool, notes: Sequence[str] = ()
) -> dict[str, Any]:
    """The invoke's answer: counts and warnings first, then the groups (those with warnings first)."""
    modes = Counter(report.config.tags.mode for report in reports)
    warnings = [
        f"{report.name}: [{warning.code}] {warning.message}" for report in reports for warning in report.warnings
    ]
    result: dict[str, Any] = {"action": INVENTORY_ACTION, "complete": cursor is None}
    if cursor is not None:
        result["nextToken"] = cursor.encode()
    result["summary"] = {
        "groups": len(reports),
        "enabled": modes[GroupMode.ENABLED],
        "dryRun": modes[GroupMode.DRY_RUN],
        "notProtected": modes[GroupMode.DISABLED],
        "canRollBackNow": sum(report.can_roll_back for report in reports),
        "alarmsInAlarm": sum(alarm.state == "ALARM" for report in reports for alarm in report.alarms),
        "groupsWithWarnings": sum(bool(report.warnings) for report in reports),
    }
    if dry_run_setting:
        result["summary"]["deploymentDryRun"] = True
    result["warnings"] = [*notes, *warnings]
    ordered = sorted(reports, key=lambda report: (not report.warnings, report.name))
    result["groups"] = [report.to_dict() for report in ordered]
    return result


# --- the reads ----------------------------------------------------------------------------------------------


def take_inventory(
    gateway: AwsGateway, cursor: InventoryCursor, *, remaining: Callable[[], float], dry_run_setting: bool
) -> dict[str, Any]:
    """List up to MAX_GROUPS groups from ``cursor``, within CALL_BUDGET calls and the time left."""
    if remaining() < TIME_RESERVE_SECONDS:
        note = f"{OUT_OF_TIME}: less than {TIME_RESERVE_SECONDS:.0f} s were left; invoke again with nextToken"
        return answer([], cursor, dry_run_setting=dry_run_setting, notes=[note])
    selected, after_selected = _select_groups(gateway, cursor)
    names = [config.tags.name for config, _ in selected]
    tagged, tagged_cut_short = gateway.alarms_tagged_for_groups(names, max_pages=TAGGED_PAGES)
    states, states_cut_short = _tagged_alarm_states(gateway, tagged.values())
    reports: list[GroupReport] = []
    next_cursor = after_selected
    notes: list[str] = []
    for config, page_token in selected:
        if remaining() < TIME_RESERVE_SECONDS:
            done = reports[-1].name if reports else None
            next_cursor = InventoryCursor(page_token, done) if done else cursor
            notes.append(f"{OUT_OF_TIME}: stopped with {TIME_RESERVE_SECONDS:.0f} s left; invoke again with nextToken")
            break
        reports.append(
            _report(
                gateway,
                config,
                tagged[config.tags.name],
                states,
                tagged_cut_short=tagged_cut_short or states_cut_short,
                dry_run_setting=dry_run_setting,
            )
        )
    return answer(reports, next_cursor, dry_run_setting=dry_run_setting, notes=notes)


def _select_groups(
    gateway: AwsGateway, cursor: InventoryCursor
) -> tuple[list[tuple[GroupConfig, str | None]], InventoryCursor | None]:
    """Up to MAX_GROUPS groups from the cursor on, each with its page's token; and where the next invoke resumes."""
    selected: list[tuple[GroupConfig, str | None]] = []
    page_token, after = cursor.page_token, cursor.after
    for _ in range(MAX_GROUP_PAGES):
        try:
            groups, next_token = gateway.tagged_groups_page(page_token)
        except ClientError as error:
            if page_token and error_code(error) in {"InvalidNextToken", "ValidationError"}:
                raise InvalidEventError(
                    "nextToken",
                    f"AWS refused its page token ({error_code(error)}); invoke without nextToken to start over",
                ) from None
            raise
        names = [config.tags.name for config in groups]
        if after is not None and after in names:
            groups = groups[names.index(after) + 1 :]
        after = None
        for config in groups:
            if len(selected) == MAX_GROUPS:
                return selected, InventoryCursor(page_token, selected[-1][0].tags.name)
            selected.append((config, page_token))
        if next_token is None:
            return selected, None
        page_token = next_token
        if len(selected) == MAX_GROUPS:
            break
    return selected, InventoryCursor(page_token, None)


def _tagged_alarm_states(gateway: AwsGateway, tagged: Iterable[Sequence[str]]) -> tuple[dict[str, AlarmFacts], bool]:
    names = sorted({name for group_alarms in tagged for name in group_alarms})
    states: dict[str, AlarmFacts] = {}
    cut_short = False
    for start in range(0, len(names), MAX_ALARM_NAMES):
        alarms, more = gateway.alarms_named(names[start : start + MAX_ALARM_NAMES], max_pages=STATE_PAGES_PER_BATCH)
        states |= {alarm.name: alarm for alarm in alarms}
        cut_short = cut_short or more
    return states, cut_short


def _report(
    gateway: AwsGateway,
    config: GroupConfig,
    tagged: Sequence[str],
    states: Mapping[str, AlarmFacts],
    *,
    tagged_cut_short: bool,
    dry_run_setting: bool,
) -> GroupReport:
    refresh = gateway.latest_refresh(config.tags.name)
    by_prefix: list[AlarmFacts] = []
    prefix_cut_short = False
    if config.tags.alarm_prefix:
        by_prefix, prefix_cut_short = gateway.alarms_with_prefix(
            config.tags.alarm_prefix, max_pages=PREFIX_PAGES_PER_GROUP
        )
    alarms = link_alarms(tagged, by_prefix, states)
    can_roll_back, reason = rollback_status(config, refresh, dry_run_setting=dry_run_setting)
    cut_short = tagged_cut_short or prefix_cut_short
    return GroupReport(
        config,
        refresh,
        alarms,
        can_roll_back,
        reason,
        group_warnings(config, refresh, alarms, alarms_cut_short=cut_short),
    )
