"""How what was read and what was decided read as a result: the summaries and details people see.

Pure but for logging and the one publication of a failure; the service decides
which of these to build, and :mod:`auto_rollback.hub` builds the member refusals too.
"""

from __future__ import annotations

from dataclasses import replace

from auto_rollback import decision as rules
from auto_rollback.decision import Decision, FiringAlarms
from auto_rollback.events import AlarmTrigger
from auto_rollback.facts import RefreshFacts
from auto_rollback.members import MemberAccessError, member_refusal
from auto_rollback.notification import Notifier
from auto_rollback.observability import logger
from auto_rollback.outcomes import Draft, Result
from auto_rollback.vocabulary import (
    ACTIONS_SUPPRESSED,
    GROUP_TAG_NOT_EXACT,
    MEMBER_ACCESS_DENIED,
    MEMBER_ROLE_REFUSED,
    Outcome,
    Severity,
)


def near_miss_group_tag(base: Draft, trigger: AlarmTrigger, tagged: str) -> Result:
    """An alarm whose group tag has spaces around a group's name: not linked, and said loudly."""
    summary = (
        f"Alarm '{trigger.alarm_name}' is tagged auto-rollback:group={tagged!r}, with spaces around the name. "
        f"The tag is taken exactly as written, so it links no opted-in group: remove the spaces to link "
        f"{tagged.strip()!r}."
    )
    logger.warning("The alarm's auto-rollback:group tag has spaces around the name", extra={"groupTag": tagged})
    return base.decided(Outcome.SKIPPED, GROUP_TAG_NOT_EXACT, summary=summary, details={"groupTag": tagged})


def silenced_alarm(base: Draft, decision: Decision, trigger: AlarmTrigger) -> Result:
    """An alarm event CloudWatch's own controls hold back: what held it, for the logs and the caller."""
    if decision.reason == ACTIONS_SUPPRESSED:
        summary = (
            f"Alarm '{trigger.alarm_name}' is in {trigger.state}, but CloudWatch suppresses its actions "
            f"({trigger.actions_suppressed_by}): not acted on."
        )
        details: dict[str, object] = {
            "actionsSuppressedBy": trigger.actions_suppressed_by,
            "actionsSuppressedReason": trigger.actions_suppressed_reason,
        }
    else:
        mute = trigger.mute
        assert mute is not None  # why_alarm_silenced returns ALARM_MUTED only for a mute
        window = f" from {mute.window_start.isoformat()}" if mute.window_start else ""
        window += f" until {mute.window_end.isoformat()}" if mute.window_end else ""
        summary = (
            f"Alarm '{trigger.alarm_name}' is in {trigger.state}, but mute rule '{mute.rule_name}' "
            f"silences it{window}: not acted on (MUTED_ALARM_ACTION=ignore)."
        )
        details = {"mutedBy": mute.describe()}
    logger.info("Alarm held back by CloudWatch's own controls", extra={"reason": decision.reason, **details})
    return base.decided(decision.outcome, decision.reason, summary=summary, details=details)


def with_firing(base: Draft, firing: FiringAlarms) -> Draft:
    """Name the alarm that acts, and the linked alarms passed over because CloudWatch holds them back."""
    details = dict(base.details)
    summary = base.summary
    if firing.silenced:
        details["silencedAlarms"] = [_silenced_entry(entry) for entry in firing.silenced]
    alarm = firing.acting
    if alarm is not None:
        summary = f"Alarm '{alarm.name}' has been in ALARM since {alarm.state_changed_at.isoformat()}."
        details["firingAlarm"] = {"alarmName": alarm.name, "alarmArn": alarm.arn, "stateReason": alarm.state_reason}
    elif firing.silenced:
        first = firing.silenced[0]
        held = (
            f"mute rule '{first.mute.rule_name}' silences it now"
            if first.mute is not None
            else f"CloudWatch suppresses its actions ({first.alarm.actions_suppressed_by})"
        )
        summary = f"Linked alarm '{first.alarm.name}' is in ALARM, but {held}: not acted on."
    return replace(base, summary=summary, details=details)


def _silenced_entry(entry: rules.SilencedAlarm) -> dict[str, object]:
    described: dict[str, object] = {"alarmName": entry.alarm.name, "reason": entry.reason}
    if entry.mute is not None:
        described["mutedBy"] = entry.mute.describe()
    if entry.alarm.actions_suppressed_by:
        described["actionsSuppressedBy"] = entry.alarm.actions_suppressed_by
        described["actionsSuppressedReason"] = entry.alarm.actions_suppressed_reason
    return described


def with_unread(base: Draft, unread: list[str]) -> Draft:
    """Hub mode: say which monitoring accounts' alarms were not considered, so a skip is never silent."""
    if not unread:
        return base
    summary = f"{base.summary} Alarms of account(s) {', '.join(unread)} could not be read (their role refused)."
    return replace(base, summary=summary.strip(), details={**base.details, "unreadAlarmAccounts": unread})


def with_refresh(base: Draft, refresh: RefreshFacts | None) -> Draft:
    if refresh is None:
        return base
    return replace(base, instance_refresh_id=refresh.instance_refresh_id, refresh_status=refresh.status)


def as_result(decision: Decision, base: Draft) -> Result:
    """What was read and what was decided, as one result: a dry run is news (MEDIUM) and says it is one."""
    changes: dict[str, object] = {"dry_run": True, "severity": Severity.MEDIUM} if decision.dry_run else {}
    return base.decided(decision.outcome, decision.reason, **changes)


def member_failed(base: Draft, error: BaseException) -> Result:
    """FAILED for a member role's refusal that ``error`` is or wraps: of the AssumeRole, or of a later call."""
    refusal = member_refusal(error)
    if isinstance(refusal, MemberAccessError):
        return member_refused(base, refusal)
    return member_denied(base, refusal or error)


def member_denied(base: Draft, error: BaseException) -> Result:
    """FAILED: the member role was assumed, then refused a call the function needs."""
    account = base.account or "?"
    return base.decided(
        Outcome.FAILED,
        MEMBER_ACCESS_DENIED,
        severity=Severity.HIGH,
        summary=f"Account {account}'s auto-rollback member role refused a call the function needs ({error}). "
        "Its groups are not protected until the role has the spoke template's permissions again: "
        "check the StackSet's stack instance for this account (drift, a failed update, or edits by hand).",
    )


def member_refused(base: Draft, error: MemberAccessError) -> Result:
    """FAILED: the member account's role refused the hub, so its groups are not protected until it is fixed."""
    return base.decided(
        Outcome.FAILED,
        MEMBER_ROLE_REFUSED,
        severity=Severity.HIGH,
        account=error.account,
        summary=f"The hub {error}. Nothing can be read or rolled back in account {error.account} until its "
        "auto-rollback spoke (the StackSet's stack instance) is deployed and trusts the hub.",
    )


def publish_failure(notifier: Notifier, failed: Result) -> None:
    """FAILED is published on every failed attempt: each one is news to the on-call."""
    try:
        notifier.publish(failed)
    except Exception:  # the invocation fails anyway; the failure destination keeps the event
        logger.exception("Could not publish the FAILED outcome")
