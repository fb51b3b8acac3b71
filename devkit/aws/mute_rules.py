"""CloudWatch alarm mute rules for moto, as botocore's model and the API reference describe them.

moto 5.2.5 has no mute rules. :func:`install` adds PutAlarmMuteRule,
GetAlarmMuteRule, ListAlarmMuteRules and DeleteAlarmMuteRule to moto's
CloudWatchResponse (botocore sends CloudWatch JSON with an ``X-Amz-Target`` that
moto turns into these method names), so a rule is created and read over HTTP as on
AWS, and the function's decision about a muted alarm is tested against the rule
CloudWatch would report:

* A rule's ``Rule.Schedule`` is ``at(...)`` (ONE_TIME) or ``cron(...)`` (RECURRING), with a
  ``Duration`` and a ``Timezone``, read as :mod:`devkit.aws.mute_schedules` documents.
* Status at the emulator's clock (:func:`devkit.aws.cloudwatch_clock.now`, which
  :func:`set_clock` stops): ACTIVE while a window [occurrence, occurrence +
  duration) covers it and StartDate ≤ now < ExpireDate; EXPIRED at or after
  ExpireDate, or after a one-time rule's only window; SCHEDULED otherwise. A
  recurring rule is active when an occurrence within the last ``duration`` (to the
  minute, in its time zone) covers the instant.
* Errors, in the service's protocol. The model's constraints (required members,
  lengths, list sizes, ranges, enums) and the rules between members (ExpireDate
  after StartDate) and references to alarms that do not exist (the API reference:
  "The alarm names must match existing alarms") are ``ValidationError``, as
  CloudWatch answers any request its model or an alarm reference refuses. A value
  the model accepts but the documentation does not (expression, duration, time
  zone) is ``InvalidParameterValue``: "An invalid or out-of-range value was
  supplied for the input parameter", in CloudWatch's common errors. GetAlarmMuteRule
  of an unknown name and ListAlarmMuteRules of an unknown ``AlarmName`` are
  ``ResourceNotFoundException`` (both declare it); a NextToken not issued by
  ListAlarmMuteRules is ``InvalidNextToken``; ``LimitExceeded`` (declared for Put)
  once the quota :func:`set_quota` sets is reached, since AWS publishes none.
  DeleteAlarmMuteRule of an unknown name succeeds, as documented.
* ListAlarmMuteRules filters by ``AlarmName`` (rules whose MuteTargets name it) and
  ``Statuses``, pages 1-100 (default 50) in name order, and answers the model's
  summary shape. Put on an existing name replaces the rule and keeps its tags (as
  PutMetricAlarm does: the documentation says nothing of tags on update).
* Rules live on moto's cloudwatch backend (per account and region), so moto's reset
  forgets them; their tags live in its tagger, so ListTagsForResource reads them.

:func:`mute_detail` is the control API's answer to "what does an alarm state-change
event say about a mute at this instant": ``detail.muteDetail`` exactly as AWS's
example events carry it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from moto.cloudwatch.exceptions import ResourceNotFoundException, ValidationError
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult

from devkit.aws import cloudwatch_clock
from devkit.aws.cloudwatch_alarms import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, MUTE_RULES_ATTRIBUTE
from devkit.aws.cloudwatch_clock import cloudwatch_time
from devkit.aws.cloudwatch_protocol import CloudWatchError, check_input, decode_token, encode_token
from devkit.aws.mute_schedules import Cron, OneTime, parse_duration, parse_expression, parse_timezone
from devkit.aws.patch import install_handlers

SCHEDULED, ACTIVE, EXPIRED = "SCHEDULED", "ACTIVE", "EXPIRED"
ONE_TIME, RECURRING = "ONE_TIME", "RECURRING"
DEFAULT_MAX_RECORDS = 50

_QUOTA_ATTRIBUTE = "_alarm_mute_rule_quota"
_LOCK = threading.RLock()


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class MuteRule:
    """One alarm mute rule as PutAlarmMuteRule stored it (dates in UTC, to the millisecond)."""

    name: str
    arn: str
    description: str | None
    expression: str
    duration: str
    timezone: str | None
    alarm_names: tuple[str, ...] | None
    start_date: datetime | None
    expire_date: datetime | None
    last_updated: datetime
    schedule: Cron | OneTime
    length: timedelta
    zone: ZoneInfo

    @property
    def mute_type(self) -> str:
        return ONE_TIME if isinstance(self.schedule, OneTime) else RECURRING

    def _local(self, moment: datetime | None) -> datetime | None:
        """A StartDate/ExpireDate read in the rule's time zone: its UTC wall clock, taken as local time."""
        if moment is None:
            return None
        return moment.replace(tzinfo=None).replace(tzinfo=self.zone).astimezone(UTC)

    def _latest_start(self, moment: datetime) -> datetime | None:
        if isinstance(self.schedule, OneTime):
            start = self.schedule.at.replace(tzinfo=self.zone).astimezone(UTC)
            return start if start <= moment < start + self.length else None
        return self.schedule.latest_start(moment, self.zone, self.length)

    def window(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """The mute window covering ``moment``, cut to StartDate and ExpireDate, or None."""
        start = self._latest_start(moment)
        if start is None:
            return None
        begins, ends = self._local(self.start_date), self._local(self.expire_date)
        first = max(start, begins) if begins else start
        last = min(start + self.length, ends) if ends else start + self.length
        return (first, last) if first <= moment < last else None

    def status(self, moment: datetime) -> str:
        expires = self._local(self.expire_date)
        if expires is not None and moment >= expires:
            return EXPIRED
        if isinstance(self.schedule, OneTime):
            start = self.schedule.at.replace(tzinfo=self.zone).astimezone(UTC)
            if moment >= start + self.length:
                return EXPIRED
        return ACTIVE if self.window(moment) is not None else SCHEDULED

    def described(self, moment: datetime) -> dict[str, Any]:
        """GetAlarmMuteRule's answer."""
        schedule = {"Expression": self.expression, "Duration": self.duration, "Timezone": self.timezone}
        return _without_none(
            {
                "Name": self.name,
                "AlarmMuteRuleArn": self.arn,
                "Description": self.description,
                "Rule": {"Schedule": _without_none(schedule)},
                "MuteTargets": None if self.alarm_names is None else {"AlarmNames": list(self.alarm_names)},
                "StartDate": self.start_date,
                "ExpireDate": self.expire_date,
                "Status": self.status(moment),
                "LastUpdatedTimestamp": self.last_updated,
                "MuteType": self.mute_type,
            }
        )

    def summary(self, moment: datetime) -> dict[str, Any]:
        """An AlarmMuteRuleSummary, exactly the model's members."""
        return _without_none(
            {
                "AlarmMuteRuleArn": self.arn,
                "ExpireDate": self.expire_date,
                "Status": self.status(moment),
                "MuteType": self.mute_type,
                "LastUpdatedTimestamp": self.last_updated,
            }
        )


def _without_none(wire: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in wire.items() if value is not None}


def _rules(backend: CloudWatchBackend) -> dict[str, MuteRule]:
    """The backend's rules by name (an attribute of moto's backend, so that moto's reset drops them)."""
    rules: dict[str, MuteRule] | None = getattr(backend, MUTE_RULES_ATTRIBUTE, None)
    if rules is None:
        rules = {}
        setattr(backend, MUTE_RULES_ATTRIBUTE, rules)
    return rules


def _utc(moment: datetime | None) -> datetime | None:
    """A request timestamp (moto parses it without a zone, in UTC) to the millisecond."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return cloudwatch_clock.milliseconds(aware)


def _arn(backend: CloudWatchBackend, name: str) -> str:
    return f"arn:aws:cloudwatch:{backend.region_name}:{backend.account_id}:alarm-mute-rule:{name}"


# --------------------------------------------------------------------------- handlers


def put_alarm_mute_rule(self: CloudWatchResponse) -> ActionResult:
    params = dict(self.params)
    check_input("PutAlarmMuteRule", params)
    schedule = params["Rule"]["Schedule"]
    parsed = parse_expression(schedule["Expression"])
    length = parse_duration(schedule["Duration"])
    zone = parse_timezone(schedule.get("Timezone"))
    start, expire = _utc(params.get("StartDate")), _utc(params.get("ExpireDate"))
    if start is not None and expire is not None and expire <= start:
        raise ValidationError("ExpireDate must be later than StartDate.")
    targets = params.get("MuteTargets")
    alarm_names = None if targets is None else tuple(targets["AlarmNames"])
    backend = self.cloudwatch_backend
    name: str = params["Name"]
    with _LOCK:
        missing = sorted({alarm for alarm in alarm_names or () if alarm not in backend.alarms})
        if missing:
            raise ValidationError(f"Could not save the alarm mute rule: alarms {missing} do not exist.")
        rules = _rules(backend)
        quota: int | None = getattr(backend, _QUOTA_ATTRIBUTE, None)
        if name not in rules and quota is not None and len(rules) >= quota:
            raise CloudWatchError("LimitExceeded", f"The quota of {quota} alarm mute rules has been reached.")
        rule = MuteRule(
            name=name,
            arn=_arn(backend, name),
            description=params.get("Description"),
            expression=schedule["Expression"],
            duration=schedule["Duration"],
            timezone=schedule.get("Timezone"),
            alarm_names=alarm_names,
            start_date=start,
            expire_date=expire,
            last_updated=cloudwatch_clock.now(),
            schedule=parsed,
            length=length,
            zone=zone,
        )
        if name not in rules and params.get("Tags"):
            backend.tagger.tag_resource(rule.arn, list(params["Tags"]))
        rules[name] = rule
    return EmptyResult()


def get_alarm_mute_rule(self: CloudWatchResponse) -> ActionResult:
    params = dict(self.params)
    check_input("GetAlarmMuteRule", params)
    with _LOCK:
        rule = _rules(self.cloudwatch_backend).get(params["AlarmMuteRuleName"])
        if rule is None:
            raise ResourceNotFoundException(f"Alarm mute rule {params['AlarmMuteRuleName']} does not exist.")
        return ActionResult(rule.described(cloudwatch_clock.now()))


def list_alarm_mute_rules(self: CloudWatchResponse) -> ActionResult:
    params = {key: value for key, value in dict(self.params).items() if value not in (None, [], "")}
    check_input("ListAlarmMuteRules", params)
    max_records: int = params.get("MaxRecords", DEFAULT_MAX_RECORDS)
    alarm_name: str | None = params.get("AlarmName")
    statuses = set(params.get("Statuses", ()))
    backend = self.cloudwatch_backend
    moment = cloudwatch_clock.now()
    with _LOCK:
        if alarm_name is not None and alarm_name not in backend.alarms:
            raise ResourceNotFoundException(f"Alarm {alarm_name} does not exist.")
        listed = [
            rule
            for rule in sorted(_rules(backend).values(), key=lambda rule: rule.name)
            if (alarm_name is None or alarm_name in (rule.alarm_names or ()))
            and (not statuses or rule.status(moment) in statuses)
        ]
    if params.get("NextToken"):
        after = decode_token(params["NextToken"], "ListAlarmMuteRules")
        listed = [rule for rule in listed if rule.name > after]
    page = listed[:max_records]
    result: dict[str, Any] = {"AlarmMuteRuleSummaries": [rule.summary(moment) for rule in page]}
    if len(listed) > max_records:
        result["NextToken"] = encode_token(page[-1].name, "ListAlarmMuteRules")
    return ActionResult(result)


def delete_alarm_mute_rule(self: CloudWatchResponse) -> ActionResult:
    params = dict(self.params)
    check_input("DeleteAlarmMuteRule", params)
    backend = self.cloudwatch_backend
    with _LOCK:
        rule = _rules(backend).pop(params["AlarmMuteRuleName"], None)  # unknown names succeed, as documented
        if rule is not None:
            backend.tagger.delete_all_tags_for_resource(rule.arn)
    return EmptyResult()


_HANDLERS: dict[str, Callable[[CloudWatchResponse], ActionResult]] = {
    "put_alarm_mute_rule": put_alarm_mute_rule,
    "get_alarm_mute_rule": get_alarm_mute_rule,
    "list_alarm_mute_rules": list_alarm_mute_rules,
    "delete_alarm_mute_rule": delete_alarm_mute_rule,
}


def install() -> None:
    """Serve the four mute-rule actions (idempotent)."""
    install_handlers(CloudWatchResponse, "_strict_mute_rule_emulation", _HANDLERS)


# --------------------------------------------------------------------------- control API


def set_clock(moment: datetime | None) -> None:
    """Stop the emulator's clock at ``moment``; None restarts it (one clock with the alarms).

    The clock is :mod:`devkit.aws.cloudwatch_clock`'s.
    """
    cloudwatch_clock.set_clock(moment)


def set_quota(limit: int | None, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = DEFAULT_REGION) -> None:
    """Refuse a new rule with ``LimitExceeded`` once ``limit`` rules exist (None: no quota, the default).

    AWS declares the error but publishes no number; moto's reset clears the quota with the rules.
    """
    if limit is not None and limit < 0:
        raise ValueError("a quota cannot be negative")
    with _LOCK:
        setattr(cloudwatch_backends[account_id][region], _QUOTA_ATTRIBUTE, limit)


def mute_detail(
    alarm_name: str,
    at: datetime,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> dict[str, str] | None:
    """The ``detail.muteDetail`` of alarm ``alarm_name``'s state-change event at ``at``, or None if not muted.

    ``{"mutedByArn": ..., "muteWindowStart": ..., "muteWindowEnd": ...}`` as in AWS's
    example events, for the ACTIVE rule that targets the alarm at ``at``; the window is
    the occurrence's, cut to the rule's StartDate and ExpireDate. When several rules
    mute it, the one whose window ends last (then the first by name) is reported.
    """
    moment = cloudwatch_clock.milliseconds(at)
    with _LOCK:
        rules = _rules(cloudwatch_backends[account_id][region]).values()
        windows = [
            (window, rule)
            for rule in sorted(rules, key=lambda rule: rule.name)
            if alarm_name in (rule.alarm_names or ()) and (window := rule.window(moment)) is not None
        ]
    if not windows:
        return None
    (start, end), rule = max(windows, key=lambda found: found[0][1])
    return {"mutedByArn": rule.arn, "muteWindowStart": cloudwatch_time(start), "muteWindowEnd": cloudwatch_time(end)}
