"""Alarm mute rules in the emulator behave as botocore's model and the API reference say.

moto 5.2.5 has no mute rules at all; every test here goes through boto3 over HTTP
to the embedded AWS. Statuses are read at instants set with ``mute_rules.set_clock``
(never two readings of the wall clock), and windows are far from the present so
that no outcome depends on when the tests run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devkit.aws import cloudwatch_api, mute_rules
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.events import alarm_event, cloudwatch_time
from devkit.scenarios.fleet import make_alarm, make_mute_rule
from tests.conftest import load_event

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
#: A client that sends what botocore would refuse, to see what the server answers.
UNCHECKED = Config(retries={"mode": "standard", "total_max_attempts": 1}, parameter_validation=False)
#: Monday 5 January 2026, 10:00 UTC: a window far from the present.
MONDAY = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
EVENT_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


@pytest.fixture
def cloudwatch(aws: AwsEmulator) -> Any:
    return boto3.client("cloudwatch", config=NO_RETRIES)


@pytest.fixture
def unchecked(aws: AwsEmulator) -> Any:
    return boto3.client("cloudwatch", config=UNCHECKED)


@pytest.fixture(autouse=True)
def wall_clock() -> Iterator[None]:
    """Every test leaves the emulator on the wall clock, whatever it set."""
    yield
    mute_rules.set_clock(None)


def _error(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def _put(cloudwatch: Any, name: str, expression: str, duration: str = "PT2H", **kwargs: Any) -> None:
    schedule = {"Expression": expression, "Duration": duration}
    if "Timezone" in kwargs:
        schedule["Timezone"] = kwargs.pop("Timezone")
    cloudwatch.put_alarm_mute_rule(Name=name, Rule={"Schedule": schedule}, **kwargs)


def _status(cloudwatch: Any, name: str, at: datetime) -> str:
    mute_rules.set_clock(at)
    return str(cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName=name)["Status"])


# --------------------------------------------------------------------------- put, get, delete


def test_a_one_time_rule_is_described_as_it_was_put(cloudwatch: Any) -> None:
    # Given an alarm, and the emulator's clock at a known instant
    make_alarm(cloudwatch, "web-5xx")
    mute_rules.set_clock(datetime(2026, 1, 2, 9, 0, 0, 123456, tzinfo=UTC))
    # When a one-time rule mutes it for two hours on Monday, with dates, a description and tags
    cloudwatch.put_alarm_mute_rule(
        Name="deploy",
        Description="Monday's deployment",
        Rule={"Schedule": {"Expression": "at(2026-01-05T10:00)", "Duration": "PT2H", "Timezone": "UTC"}},
        MuteTargets={"AlarmNames": ["web-5xx"]},
        StartDate=datetime(2026, 1, 1, tzinfo=UTC),
        ExpireDate=datetime(2026, 2, 1, 0, 0, 0, 999999, tzinfo=UTC),
        Tags=[{"Key": "team", "Value": "web"}],
    )
    # Then GetAlarmMuteRule answers every member, at millisecond precision, scheduled for Monday
    rule = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")
    rule.pop("ResponseMetadata")
    assert rule == {
        "Name": "deploy",
        "AlarmMuteRuleArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:deploy",
        "Description": "Monday's deployment",
        "Rule": {"Schedule": {"Expression": "at(2026-01-05T10:00)", "Duration": "PT2H", "Timezone": "UTC"}},
        "MuteTargets": {"AlarmNames": ["web-5xx"]},
        "StartDate": datetime(2026, 1, 1, tzinfo=UTC),
        "ExpireDate": datetime(2026, 2, 1, 0, 0, 0, 999000, tzinfo=UTC),
        "Status": "SCHEDULED",
        "LastUpdatedTimestamp": datetime(2026, 1, 2, 9, 0, 0, 123000, tzinfo=UTC),
        "MuteType": "ONE_TIME",
    }
    # And its tags can be read through the rule's ARN
    tags = cloudwatch.list_tags_for_resource(ResourceARN=rule["AlarmMuteRuleArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "web"}]


def test_a_rule_without_targets_or_dates_has_no_such_members(cloudwatch: Any) -> None:
    # Given nothing
    # When a recurring rule is put with only its name and schedule
    _put(cloudwatch, "nightly", "cron(0 2 * * *)")
    # Then it is recurring, and carries no targets, dates, description or time zone it was not given
    rule = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="nightly")
    assert rule["MuteType"] == "RECURRING"
    assert not {"MuteTargets", "StartDate", "ExpireDate", "Description"} & set(rule)
    assert rule["Rule"] == {"Schedule": {"Expression": "cron(0 2 * * *)", "Duration": "PT2H"}}


def test_putting_an_existing_name_replaces_the_rule_and_keeps_its_tags(cloudwatch: Any) -> None:
    # Given a tagged one-time rule
    make_alarm(cloudwatch, "web-5xx")
    make_alarm(cloudwatch, "web-latency")
    _put(
        cloudwatch,
        "deploy",
        "at(2026-01-05T10:00)",
        MuteTargets={"AlarmNames": ["web-5xx"]},
        Tags=[{"Key": "a", "Value": "1"}],
    )
    # When the same name is put again, recurring, on another alarm, with other tags
    mute_rules.set_clock(MONDAY)
    _put(
        cloudwatch,
        "deploy",
        "cron(0 10 * * MON)",
        "PT1H",
        MuteTargets={"AlarmNames": ["web-latency"]},
        Tags=[{"Key": "b", "Value": "2"}],
    )
    # Then there is one rule, with the new configuration and update time, and the first tags
    rule = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")
    assert (rule["MuteType"], rule["MuteTargets"]["AlarmNames"]) == ("RECURRING", ["web-latency"])
    assert rule["LastUpdatedTimestamp"] == MONDAY
    assert len(cloudwatch.list_alarm_mute_rules()["AlarmMuteRuleSummaries"]) == 1
    assert cloudwatch.list_tags_for_resource(ResourceARN=rule["AlarmMuteRuleArn"])["Tags"] == [
        {"Key": "a", "Value": "1"}
    ]


def test_getting_a_rule_that_does_not_exist_is_resource_not_found(cloudwatch: Any) -> None:
    # Given no rule
    # When one is asked for by name
    with pytest.raises(ClientError) as error:
        cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")
    # Then the model's ResourceNotFoundException comes back
    assert _error(error) == ("ResourceNotFoundException", 404)


def test_deleting_a_rule_forgets_it_and_its_tags_and_deleting_again_succeeds(cloudwatch: Any) -> None:
    # Given a tagged rule
    _put(cloudwatch, "deploy", "at(2026-01-05T10:00)", Tags=[{"Key": "team", "Value": "web"}])
    arn = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")["AlarmMuteRuleArn"]
    # When it is deleted, twice (the operation is documented as idempotent)
    cloudwatch.delete_alarm_mute_rule(AlarmMuteRuleName="deploy")
    cloudwatch.delete_alarm_mute_rule(AlarmMuteRuleName="deploy")
    # Then neither it nor its tags can be read
    with pytest.raises(ClientError) as missing_rule:
        cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")
    with pytest.raises(ClientError) as missing_tags:
        cloudwatch.list_tags_for_resource(ResourceARN=arn)
    assert _error(missing_rule) == _error(missing_tags) == ("ResourceNotFoundException", 404)


def test_rules_belong_to_their_region_and_are_forgotten_on_reset(aws: AwsEmulator, cloudwatch: Any) -> None:
    # Given a rule in us-east-1
    _put(cloudwatch, "deploy", "at(2026-01-05T10:00)")
    west = boto3.client("cloudwatch", region_name="us-west-2", config=NO_RETRIES)
    # When us-west-2 lists its rules, and then moto is reset
    in_west = west.list_alarm_mute_rules()["AlarmMuteRuleSummaries"]
    aws.reset()
    # Then the other region has none, and after the reset neither has any
    assert in_west == []
    assert cloudwatch.list_alarm_mute_rules()["AlarmMuteRuleSummaries"] == []


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("arguments", "member"),
    [
        ({"Rule": None}, "rule"),
        ({"Name": "n" * 256}, "name"),
        ({"Name": ""}, "name"),
        ({"Description": "d" * 1025}, "description"),
        ({"Rule": {"Schedule": {"Expression": "at(2026-01-05T10:00)"}}}, "rule.schedule.duration"),
        ({"Rule": {"Schedule": {"Expression": "c" * 257, "Duration": "PT1H"}}}, "rule.schedule.expression"),
        (
            {"Rule": {"Schedule": {"Expression": "at(2026-01-05T10:00)", "Duration": "P" * 51}}},
            "rule.schedule.duration",
        ),
        (
            {"Rule": {"Schedule": {"Expression": "at(2026-01-05T10:00)", "Duration": "PT1H", "Timezone": "Z" * 51}}},
            "rule.schedule.timezone",
        ),
        ({"MuteTargets": {"AlarmNames": [f"alarm-{index}" for index in range(101)]}}, "muteTargets.alarmNames"),
        ({"MuteTargets": {"AlarmNames": ["a" * 256]}}, "muteTargets.alarmNames.member"),
        ({"MuteTargets": {}}, "muteTargets.alarmNames"),
        ({"Tags": [{"Key": "k" * 129, "Value": "v"}]}, "tags.member.key"),
        ({"Tags": [{"Key": "team"}]}, "tags.member.value"),
    ],
    ids=[
        "no rule",
        "long name",
        "empty name",
        "long description",
        "no duration",
        "long expression",
        "long duration",
        "long time zone",
        "101 targets",
        "long target",
        "targets without names",
        "long tag key",
        "tag without value",
    ],
)
def test_what_the_model_refuses_is_a_validation_error(unchecked: Any, arguments: dict[str, Any], member: str) -> None:
    # Given a request that breaks one of the model's constraints (sent without botocore's own checks)
    request: dict[str, Any] = {
        "Name": "deploy",
        "Rule": {"Schedule": {"Expression": "at(2026-01-05T10:00)", "Duration": "PT1H"}},
        **arguments,
    }
    request = {key: value for key, value in request.items() if value is not None}
    # When it is sent
    with pytest.raises(ClientError) as error:
        unchecked.put_alarm_mute_rule(**request)
    # Then CloudWatch's ValidationError names the member
    assert _error(error) == ("ValidationError", 400)
    assert f"at '{member}'" in error.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "expression",
    [
        "at(2026-02-30T10:00)",
        "at(2026-01-05 10:00)",
        "at(2026-01-05T10:00:00)",
        "at(2026-01-05T24:00)",
        "rate(5 minutes)",
        "cron(0 2 * *)",
        "cron(0 2 * * * *)",
        "cron(0  2 * * *)",
        "cron(60 2 * * *)",
        "cron(0 24 * * *)",
        "cron(0 2 0 * *)",
        "cron(0 2 32 * *)",
        "cron(0 2 * 13 *)",
        "cron(0 2 * * 7)",
        "cron(0 2 * * sun)",
        "cron(0 2 * * FRI-MON)",
        "cron(*/5 2 * * *)",
        "cron(0 2 ? * MON)",
        "cron(0 2 L * *)",
        "cron(0 2 * * MON#1)",
        "cron(0 2 1-2-3 * *)",
        "cron(0 2 *,1 * *)",
        "CRON(0 2 * * *)",
    ],
)
def test_an_expression_the_documentation_does_not_describe_is_an_invalid_value(
    cloudwatch: Any, expression: str
) -> None:
    # Given an expression that is not at(yyyy-MM-ddThh:mm) or a five-field cron of *, -, , and names
    # When a rule is put with it
    with pytest.raises(ClientError) as error:
        _put(cloudwatch, "bad", expression)
    # Then the value is refused
    assert _error(error) == ("InvalidParameterValue", 400)


@pytest.mark.parametrize(
    "duration", ["PT0M", "PT30S", "PT90S", "P15DT1M", "P3W", "P1M", "P1Y", "PT", "P", "PT1.5H", "1H", "pt1h"]
)
def test_a_duration_outside_pt1m_to_p15d_or_not_iso_8601_is_an_invalid_value(cloudwatch: Any, duration: str) -> None:
    # Given a duration of less than a minute, more than 15 days, not whole minutes, or not ISO 8601
    # When a rule is put with it
    with pytest.raises(ClientError) as error:
        _put(cloudwatch, "bad", "cron(0 2 * * *)", duration)
    # Then the value is refused
    assert _error(error) == ("InvalidParameterValue", 400)


@pytest.mark.parametrize("duration", ["PT1M", "PT60S", "PT4H", "P2DT12H", "P15D", "P2W", "PT1H30M"])
def test_a_duration_from_pt1m_to_p15d_is_accepted(cloudwatch: Any, duration: str) -> None:
    # Given an ISO 8601 duration of whole minutes from one minute to 15 days
    # When a rule is put with it
    _put(cloudwatch, "ok", "cron(0 2 * * *)", duration)
    # Then it is kept as written
    assert cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="ok")["Rule"]["Schedule"]["Duration"] == duration


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "utc", "+02:00", "EST+5", "America/New York"])
def test_a_time_zone_that_is_not_an_iana_name_is_an_invalid_value(cloudwatch: Any, timezone: str) -> None:
    # Given a time zone that is not an IANA identifier
    # When a rule is put with it
    with pytest.raises(ClientError) as error:
        _put(cloudwatch, "bad", "cron(0 2 * * *)", Timezone=timezone)
    # Then the value is refused
    assert _error(error) == ("InvalidParameterValue", 400)


def test_an_expire_date_not_after_the_start_date_is_a_validation_error(cloudwatch: Any) -> None:
    # Given dates in the wrong order
    # When a rule is put with them
    with pytest.raises(ClientError) as error:
        _put(cloudwatch, "bad", "cron(0 2 * * *)", StartDate=MONDAY, ExpireDate=MONDAY)
    # Then the combination is refused
    assert _error(error) == ("ValidationError", 400)


def test_targets_must_be_existing_alarms(cloudwatch: Any) -> None:
    # Given one alarm
    make_alarm(cloudwatch, "web-5xx")
    # When a rule targets it and an alarm that does not exist ("must match existing alarms", MuteTargets)
    with pytest.raises(ClientError) as error:
        _put(cloudwatch, "deploy", "at(2026-01-05T10:00)", MuteTargets={"AlarmNames": ["web-5xx", "ghost"]})
    # Then the rule is refused, naming the missing alarm, and not created
    assert _error(error) == ("ValidationError", 400)
    assert "ghost" in error.value.response["Error"]["Message"]
    assert cloudwatch.list_alarm_mute_rules()["AlarmMuteRuleSummaries"] == []


def test_a_new_rule_beyond_the_quota_is_limit_exceeded_but_an_update_is_not(cloudwatch: Any) -> None:
    # Given a quota of one rule (AWS declares LimitExceededFault and publishes no number), and one rule
    mute_rules.set_quota(1)
    _put(cloudwatch, "deploy", "at(2026-01-05T10:00)")
    # When a second rule is put, and the first is updated
    with pytest.raises(ClientError) as error:
        _put(cloudwatch, "nightly", "cron(0 2 * * *)")
    _put(cloudwatch, "deploy", "at(2026-01-06T10:00)")
    # Then the new one is refused with the model's LimitExceededFault, and the update is made
    assert _error(error) == ("LimitExceeded", 400)
    assert isinstance(error.value, cloudwatch.exceptions.LimitExceededFault)
    assert cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")["Rule"]["Schedule"]["Expression"].startswith(
        "at(2026-01-06"
    )


def test_get_and_delete_refuse_what_the_model_refuses(unchecked: Any) -> None:
    # Given requests without a name, and with one too long
    # When they are sent
    with pytest.raises(ClientError) as get_error:
        unchecked.get_alarm_mute_rule(AlarmMuteRuleName="n" * 256)
    with pytest.raises(ClientError) as delete_error:
        unchecked.delete_alarm_mute_rule()
    # Then both are validation errors
    assert _error(get_error) == _error(delete_error) == ("ValidationError", 400)


# --------------------------------------------------------------------------- status over time


def test_a_one_time_rule_is_scheduled_then_active_for_its_duration_then_expired(cloudwatch: Any) -> None:
    # Given a rule muting for two hours from Monday 10:00
    _put(cloudwatch, "deploy", "at(2026-01-05T10:00)")
    # When its status is read before, at the start, at the last millisecond and at the end of the window
    statuses = [
        _status(cloudwatch, "deploy", at)
        for at in (
            MONDAY - timedelta(milliseconds=1),
            MONDAY,
            MONDAY + timedelta(hours=2, milliseconds=-1),
            MONDAY + timedelta(hours=2),
        )
    ]
    # Then the window is [start, start + duration)
    assert statuses == ["SCHEDULED", "ACTIVE", "ACTIVE", "EXPIRED"]


def test_a_start_date_holds_a_rule_back_and_an_expire_date_ends_it(cloudwatch: Any) -> None:
    # Given a daily 10:00 rule for two hours, taking effect on Monday 11:00 and expiring on Wednesday 11:00
    _put(
        cloudwatch,
        "daily",
        "cron(0 10 * * *)",
        StartDate=MONDAY + timedelta(hours=1),
        ExpireDate=MONDAY + timedelta(days=2, hours=1),
    )
    # When its status is read across those days
    moments = {
        "Monday 10:30": MONDAY + timedelta(minutes=30),
        "Monday 11:30": MONDAY + timedelta(hours=1, minutes=30),
        "Tuesday 10:30": MONDAY + timedelta(days=1, minutes=30),
        "Tuesday 13:00": MONDAY + timedelta(days=1, hours=3),
        "Wednesday 10:30": MONDAY + timedelta(days=2, minutes=30),
        "Wednesday 11:00": MONDAY + timedelta(days=2, hours=1),
    }
    statuses = {label: _status(cloudwatch, "daily", at) for label, at in moments.items()}
    # Then it mutes only inside both its dates, and is expired from its expire date
    assert statuses == {
        "Monday 10:30": "SCHEDULED",
        "Monday 11:30": "ACTIVE",
        "Tuesday 10:30": "ACTIVE",
        "Tuesday 13:00": "SCHEDULED",
        "Wednesday 10:30": "ACTIVE",
        "Wednesday 11:00": "EXPIRED",
    }


def test_the_time_zone_applies_to_the_start_and_expire_dates_too(cloudwatch: Any) -> None:
    # Given a New York rule muting 09:00-17:00 local (14:00-22:00 UTC) every day, sent a StartDate of
    # 2026-01-05T10:00Z, which the documented time zone makes 10:00 in New York (15:00 UTC)
    _put(
        cloudwatch,
        "office-hours",
        "cron(0 9 * * *)",
        "PT8H",
        Timezone="America/New_York",
        StartDate=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    )
    # When its status is read at 14:30 and at 15:30 UTC that day (09:30 and 10:30 in New York)
    before = _status(cloudwatch, "office-hours", datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    after = _status(cloudwatch, "office-hours", datetime(2026, 1, 5, 15, 30, tzinfo=UTC))
    # Then the start date counts in New York time: not yet in effect at 14:30 UTC, muting at 15:30 UTC
    assert (before, after) == ("SCHEDULED", "ACTIVE")
    # And GetAlarmMuteRule returns the date as it was sent
    start = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="office-hours")["StartDate"]
    assert start == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "at", "expected"),
    [
        (("cron(0 2 * * *)", "PT2H", None), datetime(2026, 1, 5, 2, 0, tzinfo=UTC), "ACTIVE"),
        (("cron(0 2 * * *)", "PT2H", None), datetime(2026, 1, 5, 3, 59, 59, 999000, tzinfo=UTC), "ACTIVE"),
        (("cron(0 2 * * *)", "PT2H", None), datetime(2026, 1, 5, 4, 0, tzinfo=UTC), "SCHEDULED"),
        (("cron(0 2 * * *)", "PT2H", None), datetime(2026, 1, 5, 1, 59, tzinfo=UTC), "SCHEDULED"),
        (("cron(0 23 * * *)", "PT2H", None), datetime(2026, 1, 6, 0, 30, tzinfo=UTC), "ACTIVE"),  # across midnight
        (("cron(0 2 * * SUN)", "PT4H", None), datetime(2026, 1, 4, 3, 0, tzinfo=UTC), "ACTIVE"),  # a Sunday
        (("cron(0 2 * * SUN)", "PT4H", None), datetime(2026, 1, 5, 3, 0, tzinfo=UTC), "SCHEDULED"),  # a Monday
        (("cron(0 2 * * 0)", "PT4H", None), datetime(2026, 1, 4, 3, 0, tzinfo=UTC), "ACTIVE"),  # 0 is Sunday
        (("cron(0 18 * * FRI)", "P2DT12H", None), datetime(2026, 1, 12, 5, 59, tzinfo=UTC), "ACTIVE"),  # Monday 05:59
        (("cron(0 18 * * FRI)", "P2DT12H", None), datetime(2026, 1, 12, 6, 0, tzinfo=UTC), "SCHEDULED"),
        (("cron(0 1 1 * *)", "PT6H", None), datetime(2026, 2, 1, 6, 59, tzinfo=UTC), "ACTIVE"),
        (("cron(0 1 1 * *)", "PT6H", None), datetime(2026, 2, 2, 1, 30, tzinfo=UTC), "SCHEDULED"),
        (("cron(30 8-10 * * MON-FRI)", "PT15M", None), datetime(2026, 1, 6, 9, 40, tzinfo=UTC), "ACTIVE"),
        (("cron(30 8-10 * * MON-FRI)", "PT15M", None), datetime(2026, 1, 6, 9, 50, tzinfo=UTC), "SCHEDULED"),
        (("cron(30 8-10 * * MON-FRI)", "PT15M", None), datetime(2026, 1, 10, 9, 40, tzinfo=UTC), "SCHEDULED"),  # Sat
        (("cron(0,30 * * * *)", "PT1M", None), datetime(2026, 1, 5, 7, 30, 59, tzinfo=UTC), "ACTIVE"),
        (("cron(0,30 * * * *)", "PT1M", None), datetime(2026, 1, 5, 7, 31, tzinfo=UTC), "SCHEDULED"),
        (("cron(0 0 * JAN,MAR *)", "PT1H", None), datetime(2026, 3, 9, 0, 30, tzinfo=UTC), "ACTIVE"),
        (("cron(0 0 * JAN,MAR *)", "PT1H", None), datetime(2026, 2, 9, 0, 30, tzinfo=UTC), "SCHEDULED"),
        (("cron(0 0 13 * FRI)", "PT1H", None), datetime(2026, 1, 13, 0, 30, tzinfo=UTC), "ACTIVE"),  # 13th, a Tuesday
        (("cron(0 0 13 * FRI)", "PT1H", None), datetime(2026, 1, 9, 0, 30, tzinfo=UTC), "ACTIVE"),  # a Friday, the 9th
        (("cron(0 0 13 * FRI)", "PT1H", None), datetime(2026, 1, 14, 0, 30, tzinfo=UTC), "SCHEDULED"),
        (("cron(0 2 * * *)", "PT2H", "America/New_York"), datetime(2026, 1, 5, 7, 30, tzinfo=UTC), "ACTIVE"),  # EST
        (("cron(0 2 * * *)", "PT2H", "America/New_York"), datetime(2026, 1, 5, 2, 30, tzinfo=UTC), "SCHEDULED"),
        (("cron(0 2 * * *)", "PT2H", "America/New_York"), datetime(2026, 7, 6, 6, 30, tzinfo=UTC), "ACTIVE"),  # EDT
        (("cron(0 2 * * *)", "PT2H", "America/New_York"), datetime(2026, 7, 6, 8, 30, tzinfo=UTC), "SCHEDULED"),
        # Monday 08:30 in Tokyo is Sunday 23:30 UTC
        (("cron(0 8 * * MON)", "PT1H", "Asia/Tokyo"), datetime(2026, 1, 4, 23, 30, tzinfo=UTC), "ACTIVE"),
        (("cron(0 8 * * MON)", "PT1H", "Asia/Tokyo"), datetime(2026, 1, 5, 23, 30, tzinfo=UTC), "SCHEDULED"),
        (("at(2026-01-05T10:00)", "PT1H", "Asia/Tokyo"), datetime(2026, 1, 5, 1, 30, tzinfo=UTC), "ACTIVE"),
        (("at(2026-01-05T10:00)", "PT1H", "Asia/Tokyo"), datetime(2026, 1, 5, 10, 30, tzinfo=UTC), "EXPIRED"),
    ],
)
def test_a_schedule_mutes_at_the_minutes_its_expression_names_in_its_time_zone(
    cloudwatch: Any, schedule: tuple[str, str, str | None], at: datetime, expected: str
) -> None:
    # Given a rule with that schedule (expression, duration, time zone)
    expression, duration, timezone = schedule
    extra = {} if timezone is None else {"Timezone": timezone}
    _put(cloudwatch, "rule", expression, duration, **extra)
    # When its status is read at that instant
    status = _status(cloudwatch, "rule", at)
    # Then it mutes exactly when an occurrence's window covers the instant
    assert status == expected


# --------------------------------------------------------------------------- listing


def test_list_filters_by_alarm_and_by_status_and_answers_the_summary_shape(cloudwatch: Any) -> None:
    # Given three rules at Monday 10:30: one active on web-5xx, one scheduled on both alarms, one expired on latency
    make_alarm(cloudwatch, "web-5xx")
    make_alarm(cloudwatch, "web-latency")
    _put(cloudwatch, "active", "at(2026-01-05T10:00)", MuteTargets={"AlarmNames": ["web-5xx"]})
    _put(
        cloudwatch,
        "scheduled",
        "cron(0 2 * * *)",
        MuteTargets={"AlarmNames": ["web-5xx", "web-latency"]},
        ExpireDate=datetime(2026, 12, 31, tzinfo=UTC),
    )
    _put(cloudwatch, "expired", "at(2026-01-04T10:00)", MuteTargets={"AlarmNames": ["web-latency"]})
    mute_rules.set_clock(MONDAY + timedelta(minutes=30))
    # When they are listed by alarm, by status, and both
    by_alarm = cloudwatch.list_alarm_mute_rules(AlarmName="web-5xx")["AlarmMuteRuleSummaries"]
    by_status = cloudwatch.list_alarm_mute_rules(Statuses=["ACTIVE", "EXPIRED"])["AlarmMuteRuleSummaries"]
    both = cloudwatch.list_alarm_mute_rules(AlarmName="web-latency", Statuses=["SCHEDULED"])["AlarmMuteRuleSummaries"]

    def names(summaries: list[dict[str, Any]]) -> list[str]:
        return [summary["AlarmMuteRuleArn"].rsplit(":", 1)[-1] for summary in summaries]

    # Then each filter holds, and both combine
    assert names(by_alarm) == ["active", "scheduled"]
    assert names(by_status) == ["active", "expired"]
    assert names(both) == ["scheduled"]
    # And each summary has exactly the model's members, ExpireDate only when configured
    assert set(by_alarm[0]) == {"AlarmMuteRuleArn", "Status", "MuteType", "LastUpdatedTimestamp"}
    assert set(by_alarm[1]) == {"AlarmMuteRuleArn", "ExpireDate", "Status", "MuteType", "LastUpdatedTimestamp"}
    assert [(s["Status"], s["MuteType"]) for s in by_alarm] == [("ACTIVE", "ONE_TIME"), ("SCHEDULED", "RECURRING")]


def test_list_answers_fifty_by_default_and_pages_with_next_token(cloudwatch: Any) -> None:
    # Given 60 rules
    for index in range(60):
        _put(cloudwatch, f"rule-{index:02d}", "cron(0 2 * * *)")
    # When they are listed without MaxRecords, then with a page size of 25 through boto3's paginator
    first = cloudwatch.list_alarm_mute_rules()
    rest = cloudwatch.list_alarm_mute_rules(NextToken=first["NextToken"])
    pages = list(cloudwatch.get_paginator("list_alarm_mute_rules").paginate(PaginationConfig={"PageSize": 25}))
    # Then the first page holds 50 in name order, the second the other 10, and the paginator sees all 60 once
    assert len(first["AlarmMuteRuleSummaries"]) == 50
    assert first["AlarmMuteRuleSummaries"][0]["AlarmMuteRuleArn"].endswith(":rule-00")
    assert len(rest["AlarmMuteRuleSummaries"]) == 10
    assert "NextToken" not in rest
    arns = [summary["AlarmMuteRuleArn"] for page in pages for summary in page["AlarmMuteRuleSummaries"]]
    assert [len(page["AlarmMuteRuleSummaries"]) for page in pages] == [25, 25, 10]
    assert len(set(arns)) == 60


def test_list_refuses_a_next_token_it_did_not_issue(cloudwatch: Any) -> None:
    # Given a rule, and a token DescribeAlarms issued
    for index in range(3):
        make_alarm(cloudwatch, f"alarm-{index}", state=None)
    _put(cloudwatch, "deploy", "at(2026-01-05T10:00)")
    alarms_token = cloudwatch.describe_alarms(MaxRecords=1)["NextToken"]
    # When ListAlarmMuteRules is sent that token, or one nobody issued
    with pytest.raises(ClientError) as foreign:
        cloudwatch.list_alarm_mute_rules(NextToken=alarms_token)
    with pytest.raises(ClientError) as invented:
        cloudwatch.list_alarm_mute_rules(NextToken="not-a-token")
    # Then both are the model's InvalidNextToken
    assert _error(foreign) == _error(invented) == ("InvalidNextToken", 400)


def test_list_for_an_alarm_that_does_not_exist_is_resource_not_found(cloudwatch: Any) -> None:
    # Given no alarm named ghost
    # When the rules muting it are listed (ListAlarmMuteRules declares ResourceNotFoundException; AlarmName
    # is the only resource it names)
    with pytest.raises(ClientError) as error:
        cloudwatch.list_alarm_mute_rules(AlarmName="ghost")
    # Then it is not found
    assert _error(error) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    ("arguments", "member"),
    [
        ({"MaxRecords": 101}, "maxRecords"),
        ({"MaxRecords": 0}, "maxRecords"),
        ({"Statuses": ["PAUSED"]}, "statuses.member"),
    ],
    ids=["101 records", "0 records", "unknown status"],
)
def test_list_refuses_what_the_model_refuses(unchecked: Any, arguments: dict[str, Any], member: str) -> None:
    # Given a page size outside 1-100 or a status outside the enum (sent without botocore's checks)
    # When the rules are listed
    with pytest.raises(ClientError) as error:
        unchecked.list_alarm_mute_rules(**arguments)
    # Then CloudWatch's ValidationError names the member
    assert _error(error) == ("ValidationError", 400)
    assert f"at '{member}'" in error.value.response["Error"]["Message"]


# --------------------------------------------------------------------------- muteDetail


def test_mute_detail_is_the_window_of_the_rule_muting_the_alarm_in_aws_format(cloudwatch: Any) -> None:
    # Given an alarm muted on Monday 10:00-12:00, and another alarm
    make_alarm(cloudwatch, "web-5xx")
    make_alarm(cloudwatch, "web-latency")
    arn = make_mute_rule(cloudwatch, "deploy", ["web-5xx"], start=MONDAY, duration="PT2H")
    # When its event's muteDetail is asked for inside the window, at its end, and for the other alarm
    inside = mute_rules.mute_detail("web-5xx", MONDAY + timedelta(hours=1))
    at_end = mute_rules.mute_detail("web-5xx", MONDAY + timedelta(hours=2))
    other = mute_rules.mute_detail("web-latency", MONDAY + timedelta(hours=1))
    # Then it names the rule and its window exactly as AWS's example events do, and nothing otherwise
    assert inside == {
        "mutedByArn": arn,
        "muteWindowStart": "2026-01-05T10:00:00.000+0000",
        "muteWindowEnd": "2026-01-05T12:00:00.000+0000",
    }
    assert at_end is None
    assert other is None
    sample = load_event("alarm-metric-muted.json")["detail"]["muteDetail"]
    assert set(inside) == set(sample)
    assert all(EVENT_TIME.fullmatch(inside[key]) for key in ("muteWindowStart", "muteWindowEnd"))
    assert inside["muteWindowStart"] == cloudwatch_time(MONDAY)


def test_mute_detail_of_a_recurring_rule_is_this_occurrence_cut_to_the_expire_date(cloudwatch: Any) -> None:
    # Given a nightly 23:00 New York rule for 8 hours, expiring on Tuesday 02:00 New York time
    make_alarm(cloudwatch, "web-5xx")
    _put(
        cloudwatch,
        "nightly",
        "cron(0 23 * * *)",
        "PT8H",
        Timezone="America/New_York",
        MuteTargets={"AlarmNames": ["web-5xx"]},
        ExpireDate=datetime(2026, 1, 6, 2, 0, tzinfo=UTC),
    )
    # When the alarm's muteDetail is asked for at 06:00 UTC on Tuesday (01:00 in New York)
    detail = mute_rules.mute_detail("web-5xx", datetime(2026, 1, 6, 6, 0, tzinfo=UTC))
    # Then the window started at 23:00 New York (04:00 UTC) and ends at the expire date, 02:00 New York
    # (07:00 UTC), not at the occurrence's end, 07:00 New York
    assert detail is not None
    assert (detail["muteWindowStart"], detail["muteWindowEnd"]) == (
        "2026-01-06T04:00:00.000+0000",
        "2026-01-06T07:00:00.000+0000",
    )


def test_when_two_rules_mute_an_alarm_the_one_ending_last_is_reported(cloudwatch: Any) -> None:
    # Given two overlapping rules on one alarm
    make_alarm(cloudwatch, "web-5xx")
    make_mute_rule(cloudwatch, "a-short", ["web-5xx"], start=MONDAY, duration="PT1H")
    long_rule = make_mute_rule(cloudwatch, "b-long", ["web-5xx"], start=MONDAY + timedelta(minutes=30), duration="PT4H")
    # When the alarm's muteDetail is asked for where both are active
    detail = mute_rules.mute_detail("web-5xx", MONDAY + timedelta(minutes=45))
    # Then the rule keeping it muted longest is the one named
    assert detail is not None
    assert detail["mutedByArn"] == long_rule


def test_make_mute_rule_floors_its_start_to_the_minute_as_at_expressions_do(cloudwatch: Any) -> None:
    # Given an alarm
    make_alarm(cloudwatch, "web-5xx")
    # When a rule is made to start at 10:00:59.999
    make_mute_rule(cloudwatch, "deploy", ["web-5xx"], start=MONDAY + timedelta(seconds=59, microseconds=999000))
    # Then its expression names 10:00, and it mutes from 10:00:00.000
    rule = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")
    assert rule["Rule"]["Schedule"] == {"Expression": "at(2026-01-05T10:00)", "Duration": "PT4H"}
    assert _status(cloudwatch, "deploy", MONDAY) == "ACTIVE"


def test_an_alarm_event_carries_the_mute_detail_the_emulator_gives(cloudwatch: Any) -> None:
    # Given an alarm muted on Monday
    make_alarm(cloudwatch, "web-5xx")
    make_mute_rule(cloudwatch, "deploy", ["web-5xx"], start=MONDAY)
    at = MONDAY + timedelta(minutes=5)
    # When its state-change event is built with the emulator's muteDetail
    event = alarm_event("web-5xx", at=at, mute_detail=mute_rules.mute_detail("web-5xx", at))
    # Then the event carries it where AWS's muted example does
    assert event["detail"]["muteDetail"]["mutedByArn"].endswith(":alarm-mute-rule:deploy")
    assert set(event["detail"]) >= set(load_event("alarm-metric-muted.json")["detail"]) - {"configuration"}


def test_set_clock_is_one_clock_for_mute_rules_and_alarms(cloudwatch: Any) -> None:
    # Given the clock stopped through mute_rules
    mute_rules.set_clock(MONDAY)
    # When an alarm's state is set through the API
    make_alarm(cloudwatch, "web-5xx")
    # Then the alarm was stamped with the same clock
    alarm = cloudwatch.describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"][0]
    assert alarm["StateUpdatedTimestamp"] == cloudwatch_api.now() == MONDAY
