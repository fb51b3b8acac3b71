"""CloudWatch alarms in the emulator behave as the API reference and botocore's model say.

Tests that pin a strictness behaviour would fail on plain moto 5.2.5 (one page,
StateValue dropped beside a name filter, composite alarms unasked, no
StateTransitionedTimestamp, no PutCompositeAlarm or PutLogAlarm, no actions
suppression, tags outliving their alarm). Times come from ``cloudwatch_api.set_state``,
``cloudwatch_api.set_clock`` or fixed instants in the past, never from two clock
readings that must differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import StructureShape

from devkit.aws import cloudwatch_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import make_alarm, make_composite_alarm, make_log_alarm
from tests.conftest import load_event

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
BOTH = ["MetricAlarm", "CompositeAlarm"]
ALL_KINDS = ["MetricAlarm", "CompositeAlarm", "LogAlarm"]
#: A client that sends what botocore would refuse, to see what the server answers.
UNCHECKED = Config(retries={"mode": "standard", "total_max_attempts": 1}, parameter_validation=False)
#: Long before any test runs, so "now" is always later.
LONG_AGO = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def cloudwatch(aws: AwsEmulator) -> Any:
    return boto3.client("cloudwatch", config=NO_RETRIES)


@pytest.fixture(autouse=True)
def wall_clock() -> Iterator[None]:
    """Every test leaves the emulator on the wall clock, whatever it set."""
    yield
    cloudwatch_api.set_clock(None)


def _names(response: dict[str, Any], key: str = "MetricAlarms") -> list[str]:
    return [alarm["AlarmName"] for alarm in response.get(key, [])]


def _alarm(cloudwatch: Any, name: str) -> dict[str, Any]:
    response = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=BOTH)
    [alarm] = response["MetricAlarms"] + response["CompositeAlarms"]
    return dict(alarm)


def _error(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


# --------------------------------------------------------------------------- paging


def test_describe_alarms_answers_fifty_alarms_by_default(cloudwatch: Any) -> None:
    # Given 60 metric alarms
    for index in range(60):
        make_alarm(cloudwatch, f"alarm-{index:02d}", state=None)
    # When they are described without MaxRecords
    first = cloudwatch.describe_alarms()
    rest = cloudwatch.describe_alarms(NextToken=first["NextToken"])
    # Then the first page holds 50, in name order, and the second the other 10
    assert _names(first) == [f"alarm-{index:02d}" for index in range(50)]
    assert _names(rest) == [f"alarm-{index:02d}" for index in range(50, 60)]
    assert "NextToken" not in rest


def test_describe_alarms_refuses_a_page_larger_than_one_hundred(cloudwatch: Any) -> None:
    # Given an alarm
    make_alarm(cloudwatch, "alarm", state=None)
    # When a caller asks for 101 per page
    with pytest.raises(ClientError) as error:
        cloudwatch.describe_alarms(MaxRecords=101)
    # Then AWS's validation error comes back
    assert _error(error) == ("ValidationError", 400)


def test_next_token_pages_across_metric_and_composite_alarms(cloudwatch: Any) -> None:
    # Given three metric and two composite alarms
    for name in ("a-metric", "c-metric", "e-metric"):
        make_alarm(cloudwatch, name, state=None)
    for name in ("b-composite", "d-composite"):
        make_composite_alarm(cloudwatch, name, rule="ALARM(a-metric)", state=None)
    # When both kinds are read two at a time
    pages = list(
        cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=BOTH, PaginationConfig={"PageSize": 2})
    )
    # Then three pages come back, each kind under its own key, every alarm once
    assert len(pages) == 3
    assert [name for page in pages for name in _names(page)] == ["a-metric", "c-metric", "e-metric"]
    assert [name for page in pages for name in _names(page, "CompositeAlarms")] == ["b-composite", "d-composite"]
    assert [len(page["MetricAlarms"]) + len(page["CompositeAlarms"]) for page in pages] == [2, 2, 1]


def test_describe_alarms_refuses_a_next_token_it_did_not_issue(cloudwatch: Any) -> None:
    # Given an alarm
    make_alarm(cloudwatch, "alarm", state=None)
    # When a caller sends a token no response carried
    with pytest.raises(ClientError) as error:
        cloudwatch.describe_alarms(NextToken="not-a-token")
    # Then the model's InvalidNextToken comes back
    assert _error(error) == ("InvalidNextToken", 400)


# --------------------------------------------------------------------------- filters


def test_state_value_is_honoured_beside_a_name_prefix_and_beside_names(cloudwatch: Any) -> None:
    # Given two alarms of one prefix, one in ALARM and one OK
    make_alarm(cloudwatch, "web-5xx", state="ALARM")
    make_alarm(cloudwatch, "web-latency", state="OK")
    # When asking for the prefix's, or the names', alarms in ALARM
    by_prefix = cloudwatch.describe_alarms(AlarmNamePrefix="web-", StateValue="ALARM")
    by_names = cloudwatch.describe_alarms(AlarmNames=["web-5xx", "web-latency"], StateValue="ALARM")
    # Then only the firing one comes back
    assert _names(by_prefix) == ["web-5xx"]
    assert _names(by_names) == ["web-5xx"]


def test_alarm_names_and_a_name_prefix_cannot_be_combined(cloudwatch: Any) -> None:
    # Given an alarm
    make_alarm(cloudwatch, "web-5xx", state=None)
    # When both are given
    with pytest.raises(ClientError) as error:
        cloudwatch.describe_alarms(AlarmNames=["web-5xx"], AlarmNamePrefix="web-")
    # Then the request is refused, as documented
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_without_alarm_types_only_metric_alarms_are_returned(cloudwatch: Any) -> None:
    # Given a metric and a composite alarm, both in ALARM
    make_alarm(cloudwatch, "web-5xx")
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)")
    # When described without AlarmTypes, and with composite alarms only
    default = cloudwatch.describe_alarms(StateValue="ALARM")
    composite_only = cloudwatch.describe_alarms(StateValue="ALARM", AlarmTypes=["CompositeAlarm"])
    # Then the default leaves the composite alarm out, and CompositeAlarm leaves the metric alarm out
    assert _names(default) == ["web-5xx"]
    assert _names(default, "CompositeAlarms") == []
    assert _names(composite_only) == []
    assert _names(composite_only, "CompositeAlarms") == ["web-health"]


def test_log_alarms_can_be_asked_for_and_there_are_none(cloudwatch: Any) -> None:
    # Given a metric alarm and no log alarm
    make_alarm(cloudwatch, "web-5xx")
    # When log alarms are asked for beside metric alarms
    response = cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm", "LogAlarm"])
    # Then the metric alarm comes back and the log alarms list is empty
    assert _names(response) == ["web-5xx"]
    assert response["LogAlarms"] == []


def test_children_and_parents_of_a_composite_alarm(cloudwatch: Any) -> None:
    # Given a composite alarm over two metric alarms, named plainly and quoted
    make_alarm(cloudwatch, "web-5xx")
    make_alarm(cloudwatch, "web-latency", state="OK")
    make_alarm(cloudwatch, "unrelated")
    make_composite_alarm(cloudwatch, "web-health", rule='ALARM(web-5xx) OR ALARM("web-latency")')
    # When its children, and the parents of one child, are asked for
    children = cloudwatch.describe_alarms(ChildrenOfAlarmName="web-health")
    parents = cloudwatch.describe_alarms(ParentsOfAlarmName="web-latency")
    # Then the children carry only name, ARN, state and update time; the parents only name and ARN
    assert _names(children) == ["web-5xx", "web-latency"]
    assert set(children["MetricAlarms"][0]) == {"AlarmName", "AlarmArn", "StateValue", "StateUpdatedTimestamp"}
    assert _names(parents, "CompositeAlarms") == ["web-health"]
    assert set(parents["CompositeAlarms"][0]) == {"AlarmName", "AlarmArn"}


def test_children_of_an_alarm_refuses_other_filters(cloudwatch: Any) -> None:
    # Given a composite alarm
    make_alarm(cloudwatch, "web-5xx")
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)")
    # When its children are filtered by state as well
    with pytest.raises(ClientError) as error:
        cloudwatch.describe_alarms(ChildrenOfAlarmName="web-health", StateValue="ALARM")
    # Then the documented validation error comes back
    assert _error(error) == ("ValidationError", 400)


# --------------------------------------------------------------------------- state and timestamps


def test_a_new_alarm_is_in_insufficient_data_since_its_creation(cloudwatch: Any) -> None:
    # Given nothing
    # When an alarm is created
    make_alarm(cloudwatch, "web-5xx", state=None)
    # Then it is in INSUFFICIENT_DATA, transitioned when it was last updated
    alarm = _alarm(cloudwatch, "web-5xx")
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateTransitionedTimestamp"] == alarm["StateUpdatedTimestamp"]


def test_set_alarm_state_to_the_same_value_moves_the_update_but_not_the_transition(cloudwatch: Any) -> None:
    # Given an alarm in ALARM since long ago
    make_alarm(cloudwatch, "web-5xx", at=LONG_AGO)
    # When its state is set to ALARM again
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="still breaching")
    # Then it is still in ALARM since long ago, but was updated now
    alarm = _alarm(cloudwatch, "web-5xx")
    assert alarm["StateTransitionedTimestamp"] == LONG_AGO.replace(microsecond=123000)
    assert alarm["StateUpdatedTimestamp"] > alarm["StateTransitionedTimestamp"]
    assert alarm["StateReason"] == "still breaching"


def test_set_alarm_state_to_a_new_value_moves_both_timestamps_together(cloudwatch: Any) -> None:
    # Given an alarm OK since long ago
    make_alarm(cloudwatch, "web-5xx", state="OK", at=LONG_AGO)
    # When it goes into ALARM
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="breaching")
    # Then it transitioned when it was updated, after long ago
    alarm = _alarm(cloudwatch, "web-5xx")
    assert alarm["StateTransitionedTimestamp"] == alarm["StateUpdatedTimestamp"]
    assert alarm["StateTransitionedTimestamp"] > LONG_AGO


def test_set_alarm_state_on_a_composite_alarm_moves_its_update_only(cloudwatch: Any) -> None:
    # Given a composite alarm in ALARM since long ago
    make_alarm(cloudwatch, "web-5xx")
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", at=LONG_AGO)
    # When its state is set to ALARM again
    cloudwatch.set_alarm_state(AlarmName="web-health", StateValue="ALARM", StateReason="re-evaluated")
    # Then its state is unchanged since long ago, and updated since
    alarm = _alarm(cloudwatch, "web-health")
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateTransitionedTimestamp"] == LONG_AGO.replace(microsecond=123000)
    assert alarm["StateUpdatedTimestamp"] > alarm["StateTransitionedTimestamp"]


def test_the_control_api_sets_in_alarm_since_and_last_updated_at_millisecond_precision(cloudwatch: Any) -> None:
    # Given an alarm
    make_alarm(cloudwatch, "web-5xx", state=None)
    since = datetime(2026, 11, 28, 9, 59, 59, 999999, tzinfo=UTC)
    updated = since + timedelta(minutes=6)
    # When a scenario puts it in ALARM since one instant, last updated at a later one
    cloudwatch_api.set_state("web-5xx", "ALARM", transitioned_at=since, updated_at=updated, reason="scenario")
    # Then DescribeAlarms reports exactly those instants, truncated to milliseconds
    alarm = _alarm(cloudwatch, "web-5xx")
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateTransitionedTimestamp"] == datetime(2026, 11, 28, 9, 59, 59, 999000, tzinfo=UTC)
    assert alarm["StateUpdatedTimestamp"] == datetime(2026, 11, 28, 10, 5, 59, 999000, tzinfo=UTC)
    assert alarm["StateReason"] == "scenario"


def test_the_control_api_refuses_an_update_before_the_transition(cloudwatch: Any) -> None:
    # Given an alarm
    make_alarm(cloudwatch, "web-5xx", state=None)
    # When a scenario asks for an update before the transition
    # Then it is refused, as no alarm can have such a history
    with pytest.raises(ValueError, match="precede"):
        cloudwatch_api.set_state("web-5xx", "ALARM", transitioned_at=LONG_AGO, updated_at=LONG_AGO - timedelta(1))


def test_every_alarm_timestamp_is_at_millisecond_precision(cloudwatch: Any) -> None:
    # Given alarms whose times come from the emulator's clock
    make_alarm(cloudwatch, "web-5xx")
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)")
    # When they are described
    response = cloudwatch.describe_alarms(AlarmTypes=BOTH)
    # Then no timestamp carries more than milliseconds
    stamps = [
        alarm[key]
        for alarm in response["MetricAlarms"] + response["CompositeAlarms"]
        for key in ("StateUpdatedTimestamp", "StateTransitionedTimestamp", "AlarmConfigurationUpdatedTimestamp")
    ]
    assert len(stamps) == 6
    assert all(stamp.microsecond % 1000 == 0 for stamp in stamps)


def test_updating_an_alarm_keeps_its_state_and_ignores_tags(cloudwatch: Any) -> None:
    # Given an alarm in ALARM since long ago, tagged to a group
    arn = make_alarm(cloudwatch, "web-5xx", group="web-prod", at=LONG_AGO)
    # When it is updated with PutMetricAlarm and other tags
    cloudwatch.put_metric_alarm(
        AlarmName="web-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=2,
        Threshold=20,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "auto-rollback:group", "Value": "api-prod"}],
    )
    # Then its state and its tags are unchanged, and its configuration is new
    alarm = _alarm(cloudwatch, "web-5xx")
    assert (alarm["StateValue"], alarm["StateTransitionedTimestamp"]) == ("ALARM", LONG_AGO.replace(microsecond=123000))
    assert alarm["Threshold"] == 20
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "auto-rollback:group", "Value": "web-prod"}
    ]


# --------------------------------------------------------------------------- composite alarms


def test_a_composite_alarm_is_created_described_tagged_and_deleted(cloudwatch: Any) -> None:
    # Given two metric alarms and a suppressor
    for name in ("web-5xx", "web-latency", "maintenance"):
        make_alarm(cloudwatch, name, state="OK")
    # When a composite alarm is put over them, with tags and an actions suppressor
    cloudwatch.put_composite_alarm(
        AlarmName="web-health",
        AlarmRule="ALARM(web-5xx) OR ALARM(web-latency)",
        AlarmDescription="web-prod is unhealthy",
        ActionsSuppressor="maintenance",
        ActionsSuppressorWaitPeriod=120,
        ActionsSuppressorExtensionPeriod=180,
        Tags=[{"Key": "auto-rollback:group", "Value": "web-prod"}],
    )
    cloudwatch.set_alarm_state(AlarmName="web-health", StateValue="ALARM", StateReason="child in ALARM")
    # Then it is described under CompositeAlarms with its rule and suppressor, in ALARM
    alarm = _alarm(cloudwatch, "web-health")
    assert alarm["AlarmRule"] == "ALARM(web-5xx) OR ALARM(web-latency)"
    assert (alarm["ActionsSuppressor"], alarm["ActionsSuppressorWaitPeriod"]) == ("maintenance", 120)
    assert alarm["ActionsSuppressorExtensionPeriod"] == 180
    assert alarm["StateValue"] == "ALARM"
    assert alarm["AlarmArn"].endswith(":alarm:web-health")
    # And its tags can be read
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "auto-rollback:group", "Value": "web-prod"}]
    # And once deleted, it and its tags are gone
    cloudwatch.delete_alarms(AlarmNames=["web-health"])
    assert _names(cloudwatch.describe_alarms(AlarmTypes=BOTH), "CompositeAlarms") == []
    with pytest.raises(ClientError) as error:
        cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])
    assert _error(error) == ("ResourceNotFoundException", 404)


def test_an_actions_suppressor_needs_its_wait_and_extension_periods(cloudwatch: Any) -> None:
    # Given a metric alarm
    make_alarm(cloudwatch, "web-5xx")
    # When a composite alarm names a suppressor without periods
    with pytest.raises(ClientError) as error:
        cloudwatch.put_composite_alarm(AlarmName="web-health", AlarmRule="ALARM(web-5xx)", ActionsSuppressor="web-5xx")
    # Then it is refused
    assert _error(error)[1] == 400


def test_delete_alarms_refuses_two_composite_alarms_in_one_call(cloudwatch: Any) -> None:
    # Given two composite alarms
    make_alarm(cloudwatch, "web-5xx")
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)")
    make_composite_alarm(cloudwatch, "api-health", rule="ALARM(web-5xx)")
    # When both are deleted at once
    with pytest.raises(ClientError):
        cloudwatch.delete_alarms(AlarmNames=["web-health", "api-health"])
    # Then neither is deleted
    assert _names(cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm"]), "CompositeAlarms") == [
        "api-health",
        "web-health",
    ]


def test_a_deleted_alarm_has_no_tags_to_list(cloudwatch: Any) -> None:
    # Given a tagged metric alarm
    arn = make_alarm(cloudwatch, "web-5xx", group="web-prod")
    # When it is deleted
    cloudwatch.delete_alarms(AlarmNames=["web-5xx"])
    # Then listing its tags fails as on AWS instead of returning the old tags
    with pytest.raises(ClientError) as error:
        cloudwatch.list_tags_for_resource(ResourceARN=arn)
    assert _error(error) == ("ResourceNotFoundException", 404)


# --------------------------------------------------------------------------- tags in events


def test_an_alarm_event_carries_only_the_included_tag_keys() -> None:
    # Given an alarm's tags, one reserved by AWS
    tags = {"auto-rollback:group": "web-prod", "team": "web", "aws:cloudformation:stack-name": "web"}
    # When CloudWatch propagates only the group key
    event = alarm_event("web-5xx", tags=tags, included_keys=["auto-rollback:group", "aws:cloudformation:stack-name"])
    # Then the event carries that key alone, and says the tags were retrieved
    assert event["detail"]["alarmTags"] == {"auto-rollback:group": "web-prod"}
    assert event["detail"]["alarmTagsStatus"] == "SUCCESS"


def test_an_alarm_event_leaves_out_excluded_and_reserved_tag_keys() -> None:
    # Given an alarm's tags, one reserved by AWS
    tags = {"auto-rollback:group": "web-prod", "team": "web", "aws:cloudformation:stack-name": "web"}
    # When CloudWatch propagates all but the team
    event = alarm_event("web-5xx", tags=tags, excluded_keys=["team"])
    # Then the event carries the group only: aws: keys are never propagated
    assert event["detail"]["alarmTags"] == {"auto-rollback:group": "web-prod"}


def test_an_alarm_event_without_tag_propagation_has_no_tag_fields() -> None:
    # Given an alarm without tag propagation
    # When its event is built
    event = alarm_event("web-5xx")
    # Then neither tags nor a tag status are in it
    assert "alarmTags" not in event["detail"]
    assert "alarmTagsStatus" not in event["detail"]


def test_tag_propagation_takes_included_or_excluded_keys_not_both() -> None:
    # Given an alarm's tags
    tags = {"team": "web"}
    # When both filters are asked for
    # Then the event is refused, as AlarmTagsPropagation refuses both
    with pytest.raises(ValueError, match="not both"):
        alarm_event("web-5xx", tags=tags, included_keys=["team"], excluded_keys=["other"])


def test_the_filtered_tags_sample_is_what_alarm_event_builds() -> None:
    # Given the sample of an event whose alarm propagates only the group key
    sample = load_event("alarm-metric-with-filtered-tags.json")
    # When the same event is built from the alarm's full tags and that filter
    built = alarm_event(
        sample["detail"]["alarmName"],
        tags={"auto-rollback:group": "web-prod", "team": "web", "aws:cloudformation:stack-name": "web"},
        included_keys=["auto-rollback:group"],
    )
    # Then both carry the same tags and status
    for key in ("alarmTags", "alarmTagsStatus"):
        assert built["detail"][key] == sample["detail"][key]


def test_describe_alarms_refuses_a_name_prefix_longer_than_the_model_allows(cloudwatch: Any) -> None:
    # Given a prefix of 256 characters (an Auto Scaling tag value may be that long; botocore checks no maximum)
    # When it is asked for
    with pytest.raises(ClientError) as refused:
        cloudwatch.describe_alarms(AlarmNamePrefix="p" * 256)
    # Then CloudWatch refuses it, as AWS does for any member over its documented length
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "alarmNamePrefix" in refused.value.response["Error"]["Message"]


def test_list_tags_for_resource_refuses_an_arn_longer_than_the_model_allows(cloudwatch: Any) -> None:
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + "a" * 1000
    with pytest.raises(ClientError) as refused:
        cloudwatch.list_tags_for_resource(ResourceARN=arn)
    assert refused.value.response["Error"]["Code"] == "ValidationError"


# --------------------------------------------------------------------------- the clock

#: Monday 5 January 2026, 10:00 UTC: composite alarms enter ALARM then in the suppression tests.
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_set_clock_stamps_alarm_updates_and_moto_reset_frees_it(aws: AwsEmulator, cloudwatch: Any) -> None:
    # Given the emulator's clock stopped in 2001
    cloudwatch_api.set_clock(datetime(2001, 1, 1, 0, 0, 0, 999999, tzinfo=UTC))
    # When an alarm's state is set through the API, and then moto is reset
    make_alarm(cloudwatch, "web-5xx")
    stamped = _alarm(cloudwatch, "web-5xx")["StateUpdatedTimestamp"]
    aws.reset()
    # Then the update carries the stopped clock, to the millisecond, and the reset gave the wall clock back
    assert stamped == datetime(2001, 1, 1, 0, 0, 0, 999000, tzinfo=UTC)
    assert cloudwatch_api.now().year > 2001


# --------------------------------------------------------------------------- actions suppression


def _suppression(cloudwatch: Any, name: str, at: datetime) -> tuple[str | None, str | None]:
    """ActionsSuppressedBy and ActionsSuppressedReason as DescribeAlarms reports them at ``at``."""
    cloudwatch_api.set_clock(at)
    alarm = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]
    return alarm.get("ActionsSuppressedBy"), alarm.get("ActionsSuppressedReason")


def test_a_composite_alarm_is_suppressed_by_alarm_while_its_suppressor_is_in_alarm(cloudwatch: Any) -> None:
    # Given a suppressor in ALARM since before the composite alarm went into ALARM
    make_alarm(cloudwatch, "web-5xx", at=T0)
    make_alarm(cloudwatch, "maintenance", at=T0 - timedelta(hours=1))
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", suppressor="maintenance", at=T0)
    # When the composite alarm is described an hour later, long after its wait period
    suppression = _suppression(cloudwatch, "web-health", T0 + timedelta(hours=1))
    # Then its actions are suppressed by the suppressor alarm
    assert suppression == ("Alarm", "Actions suppressed by Alarm")


def test_a_composite_alarm_waits_for_its_suppressor_for_the_wait_period(cloudwatch: Any) -> None:
    # Given a composite alarm in ALARM since T0, whose suppressor has been OK all along (wait period 120 s)
    make_alarm(cloudwatch, "web-5xx", at=T0)
    make_alarm(cloudwatch, "maintenance", state="OK", at=T0 - timedelta(days=1))
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", suppressor="maintenance", at=T0)
    # When it is described just before and at the end of its wait period
    waiting = _suppression(cloudwatch, "web-health", T0 + timedelta(seconds=120, milliseconds=-1))
    waited = _suppression(cloudwatch, "web-health", T0 + timedelta(seconds=120))
    # Then its actions wait for the suppressor, as AWS's example event says, and then no longer
    assert waiting == ("WaitPeriod", "Actions suppressed by WaitPeriod")
    assert waited == (None, None)


def test_a_composite_alarm_stays_suppressed_for_the_extension_period_after_its_suppressor_clears(
    cloudwatch: Any,
) -> None:
    # Given a composite alarm suppressed by a suppressor in ALARM (extension period 180 s)
    make_alarm(cloudwatch, "web-5xx", at=T0)
    make_alarm(cloudwatch, "maintenance", at=T0 - timedelta(hours=1))
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", suppressor="maintenance", at=T0)
    # When the suppressor goes OK through SetAlarmState at T0 + 10 minutes
    cloudwatch_api.set_clock(T0 + timedelta(minutes=10))
    cloudwatch.set_alarm_state(AlarmName="maintenance", StateValue="OK", StateReason="maintenance over")
    left = T0 + timedelta(minutes=10)
    # Then the composite's actions stay suppressed for the extension period, and then no longer
    extended = _suppression(cloudwatch, "web-health", left + timedelta(seconds=180, milliseconds=-1))
    released = _suppression(cloudwatch, "web-health", left + timedelta(seconds=180))
    assert extended == ("ExtensionPeriod", "Actions suppressed by ExtensionPeriod")
    assert released == (None, None)


def test_the_wait_period_ends_once_the_suppressor_has_been_in_alarm(cloudwatch: Any) -> None:
    # Given a composite alarm in ALARM since T0 (wait 120 s, extension 30 s) whose suppressor went into
    # ALARM at T0 + 10 s and out of it at T0 + 20 s
    make_alarm(cloudwatch, "web-5xx", at=T0)
    make_alarm(cloudwatch, "maintenance", at=T0 + timedelta(seconds=10))
    cloudwatch_api.set_state("maintenance", "OK", transitioned_at=T0 + timedelta(seconds=20))
    make_composite_alarm(
        cloudwatch,
        "web-health",
        rule="ALARM(web-5xx)",
        suppressor="maintenance",
        wait_period=120,
        extension_period=30,
        at=T0,
    )
    # When it is described at T0 + 40 s and at T0 + 60 s, inside the wait period
    extended = _suppression(cloudwatch, "web-health", T0 + timedelta(seconds=40))
    after = _suppression(cloudwatch, "web-health", T0 + timedelta(seconds=60))
    # Then the extension holds, and after it nothing does: the suppressor it waited for has come and gone
    assert extended[0] == "ExtensionPeriod"
    assert after == (None, None)


def test_a_composite_alarm_not_in_alarm_reports_no_suppression(cloudwatch: Any) -> None:
    # Given a suppressor in ALARM and a composite alarm that is OK
    make_alarm(cloudwatch, "web-5xx", state="OK", at=T0)
    make_alarm(cloudwatch, "maintenance", at=T0)
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", suppressor="maintenance", state="OK", at=T0)
    # When it is described
    alarm = _alarm(cloudwatch, "web-health")
    # Then it carries neither suppression member: they describe the actions of a composite alarm in ALARM
    assert "ActionsSuppressedBy" not in alarm
    assert "ActionsSuppressedReason" not in alarm


def test_a_suppressor_named_by_its_arn_suppresses_as_one_named_by_its_name(cloudwatch: Any) -> None:
    # Given a composite alarm whose suppressor is given by ARN, in ALARM
    make_alarm(cloudwatch, "web-5xx", at=T0)
    maintenance = make_alarm(cloudwatch, "maintenance", at=T0)
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", suppressor=maintenance, at=T0)
    # When it is described an hour later
    suppression = _suppression(cloudwatch, "web-health", T0 + timedelta(hours=1))
    # Then the suppressor is found by its ARN
    assert suppression[0] == "Alarm"


def test_the_control_api_gives_the_suppression_describe_alarms_reports(cloudwatch: Any) -> None:
    # Given a composite alarm in its wait period at T0 + 1 minute, and a metric alarm
    make_alarm(cloudwatch, "web-5xx", at=T0)
    make_alarm(cloudwatch, "maintenance", state="OK", at=T0 - timedelta(days=1))
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", suppressor="maintenance", at=T0)
    at = T0 + timedelta(minutes=1)
    # When the control API is asked at that instant, and for the metric alarm
    for_event = cloudwatch_api.suppression("web-health", at)
    for_metric = cloudwatch_api.suppression("web-5xx", at)
    # Then it says what DescribeAlarms says then, and nothing for an alarm that has no suppressor
    assert for_event == _suppression(cloudwatch, "web-health", at) == ("WaitPeriod", "Actions suppressed by WaitPeriod")
    assert for_metric is None
    with pytest.raises(LookupError):
        cloudwatch_api.suppression("ghost", at)


def test_an_alarm_event_carries_the_suppression_where_aws_puts_it(cloudwatch: Any) -> None:
    # Given a composite alarm in its wait period
    make_alarm(cloudwatch, "web-5xx", at=T0)
    make_alarm(cloudwatch, "maintenance", state="OK", at=T0 - timedelta(days=1))
    make_composite_alarm(cloudwatch, "web-health", rule="ALARM(web-5xx)", suppressor="maintenance", at=T0)
    suppression = cloudwatch_api.suppression("web-health", T0)
    assert suppression is not None
    # When its state-change event is built with that suppression
    kind, reason = suppression
    event = alarm_event("web-health", at=T0, composite=True, suppressed_by=kind, suppressed_reason=reason)
    # Then detail.state carries both members, as in AWS's composite example
    sample_state = load_event("alarm-composite-suppressed.json")["detail"]["state"]
    assert {key: event["detail"]["state"][key] for key in ("actionsSuppressedBy", "actionsSuppressedReason")} == {
        key: sample_state[key] for key in ("actionsSuppressedBy", "actionsSuppressedReason")
    }


@pytest.mark.parametrize(
    "arguments",
    [
        {"suppressed_by": "Alarm"},
        {"suppressed_by": "Alarm", "log_alarm": True},
        {"composite": True, "suppressed_by": "Maintenance"},
        {"composite": True, "suppressed_reason": "why"},
        {"composite": True, "log_alarm": True},
    ],
    ids=["metric alarm", "log alarm", "unknown kind", "reason alone", "composite log alarm"],
)
def test_an_alarm_event_aws_cannot_send_is_refused(arguments: dict[str, Any]) -> None:
    # Given a suppression on a non-composite alarm, a kind outside the model's enum, a reason without a
    # kind, or an alarm that is both composite and log
    # When the event is built
    # Then it is refused
    with pytest.raises(ValueError):
        alarm_event("web-health", **arguments)


# --------------------------------------------------------------------------- log alarms


def _log_alarm_request(name: str = "web-errors", **overrides: Any) -> dict[str, Any]:
    """A complete PutLogAlarm request; ``overrides`` replace members (None removes one)."""
    request: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": "ERROR lines from web-prod",
        "ScheduledQueryConfiguration": {
            "QueryString": "fields @message | filter @message like /ERROR/",
            "LogGroupIdentifiers": ["/aws/ec2/web-prod"],
            "ScheduledQueryRoleARN": "arn:aws:iam::123456789012:role/log-alarms",
            "ScheduleConfiguration": {"ScheduleExpression": "rate(5 minutes)", "StartTimeOffset": 300},
            "AggregationExpression": "count(*)",
            "Tags": [{"Key": "query", "Value": "tag"}],
        },
        "QueryResultsToEvaluate": 2,
        "QueryResultsToAlarm": 1,
        "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"],
        "Tags": [{"Key": "auto-rollback:group", "Value": "web-prod"}],
    }
    request.update(overrides)
    return {key: value for key, value in request.items() if value is not None}


def test_a_log_alarm_is_created_in_insufficient_data_and_described_in_the_models_shape(cloudwatch: Any) -> None:
    # Given the clock at T0
    cloudwatch_api.set_clock(T0)
    # When a log alarm is put
    cloudwatch.put_log_alarm(**_log_alarm_request())
    # Then it is listed only when log alarms are asked for, under LogAlarms
    assert "LogAlarms" not in cloudwatch.describe_alarms()
    [alarm] = cloudwatch.describe_alarms(AlarmTypes=["LogAlarm"])["LogAlarms"]
    # And it is in INSUFFICIENT_DATA since its creation, with the LogAlarm members it was given
    assert (alarm["StateValue"], alarm["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    assert alarm["StateTransitionedTimestamp"] == alarm["StateUpdatedTimestamp"] == T0
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-errors"
    assert (alarm["QueryResultsToEvaluate"], alarm["QueryResultsToAlarm"], alarm["Threshold"]) == (2, 1, 10.0)
    assert (alarm["TreatMissingData"], alarm["ActionLogLineCount"]) == ("missing", 0)  # the documented defaults
    query = alarm["ScheduledQueryConfiguration"]
    assert query["QueryARN"].startswith("arn:aws:logs:us-east-1:123456789012:scheduled-query:")
    assert "Tags" not in query
    assert query["ScheduleConfiguration"] == {"ScheduleExpression": "rate(5 minutes)", "StartTimeOffset": 300}


def test_describe_alarms_pages_across_metric_composite_and_log_alarms(cloudwatch: Any) -> None:
    # Given two alarms of each kind, their names interleaved
    make_alarm(cloudwatch, "a-metric", state=None)
    make_composite_alarm(cloudwatch, "b-composite", rule="ALARM(a-metric)", state=None)
    make_log_alarm(cloudwatch, "c-log", state=None)
    make_alarm(cloudwatch, "d-metric", state=None)
    make_composite_alarm(cloudwatch, "e-composite", rule="ALARM(a-metric)", state=None)
    make_log_alarm(cloudwatch, "f-log", state=None)
    # When all three kinds are read four at a time
    pages = list(
        cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=ALL_KINDS, PaginationConfig={"PageSize": 4})
    )
    # Then one token pages through every kind in name order, each under its own key
    assert [sum(len(page[key]) for key in ("MetricAlarms", "CompositeAlarms", "LogAlarms")) for page in pages] == [4, 2]
    assert [name for page in pages for name in _names(page, "LogAlarms")] == ["c-log", "f-log"]
    assert _names(pages[0]) == ["a-metric", "d-metric"]
    assert _names(pages[0], "CompositeAlarms") == ["b-composite"]


def test_log_alarms_are_filtered_by_state_prefix_and_names_like_the_others(cloudwatch: Any) -> None:
    # Given log alarms in ALARM and OK, and a metric alarm in ALARM
    make_log_alarm(cloudwatch, "web-errors")
    make_log_alarm(cloudwatch, "web-warnings", state="OK")
    make_alarm(cloudwatch, "web-5xx")
    # When alarms in ALARM are asked for by prefix and by names, with every kind
    by_prefix = cloudwatch.describe_alarms(AlarmNamePrefix="web-", StateValue="ALARM", AlarmTypes=ALL_KINDS)
    by_names = cloudwatch.describe_alarms(AlarmNames=["web-errors", "web-warnings"], AlarmTypes=["LogAlarm"])
    # Then the filters apply to log alarms too
    assert _names(by_prefix, "LogAlarms") == ["web-errors"]
    assert _names(by_prefix) == ["web-5xx"]
    assert _names(by_names, "LogAlarms") == ["web-errors", "web-warnings"]


def test_state_tags_and_deletion_work_on_log_alarms(cloudwatch: Any) -> None:
    # Given a log alarm tagged to a group, in ALARM since long ago
    arn = make_log_alarm(cloudwatch, "web-errors", group="web-prod", at=LONG_AGO)
    # When its state is set again through the API
    cloudwatch.set_alarm_state(AlarmName="web-errors", StateValue="ALARM", StateReason="still breaching")
    alarm = cloudwatch.describe_alarms(AlarmNames=["web-errors"], AlarmTypes=["LogAlarm"])["LogAlarms"][0]
    tags = cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]
    # Then it is updated but still in ALARM since long ago, and its tags can be read
    assert alarm["StateTransitionedTimestamp"] == LONG_AGO.replace(microsecond=123000)
    assert alarm["StateUpdatedTimestamp"] > alarm["StateTransitionedTimestamp"]
    assert tags == [{"Key": "auto-rollback:group", "Value": "web-prod"}]
    # And once deleted, neither it nor its tags remain
    cloudwatch.delete_alarms(AlarmNames=["web-errors"])
    assert cloudwatch.describe_alarms(AlarmTypes=["LogAlarm"])["LogAlarms"] == []
    with pytest.raises(ClientError) as error:
        cloudwatch.list_tags_for_resource(ResourceARN=arn)
    assert _error(error) == ("ResourceNotFoundException", 404)


def test_updating_a_log_alarm_keeps_its_state_its_tags_and_its_query(cloudwatch: Any) -> None:
    # Given a log alarm in ALARM since long ago, tagged to a group
    cloudwatch.put_log_alarm(**_log_alarm_request())
    cloudwatch_api.set_state("web-errors", "ALARM", transitioned_at=LONG_AGO)
    before = cloudwatch.describe_alarms(AlarmTypes=["LogAlarm"])["LogAlarms"][0]
    # When it is put again with a new threshold and other tags
    cloudwatch.put_log_alarm(**_log_alarm_request(Threshold=20.0, Tags=[{"Key": "auto-rollback:group", "Value": "x"}]))
    # Then its state, tags and managed query are unchanged, and its threshold is new
    after = cloudwatch.describe_alarms(AlarmTypes=["LogAlarm"])["LogAlarms"][0]
    assert (after["StateValue"], after["StateTransitionedTimestamp"]) == ("ALARM", before["StateTransitionedTimestamp"])
    assert after["Threshold"] == 20.0
    assert after["ScheduledQueryConfiguration"]["QueryARN"] == before["ScheduledQueryConfiguration"]["QueryARN"]
    assert cloudwatch.list_tags_for_resource(ResourceARN=after["AlarmArn"])["Tags"] == [
        {"Key": "auto-rollback:group", "Value": "web-prod"}
    ]


@pytest.mark.parametrize(
    ("existing", "put"),
    [("log", "metric"), ("metric", "log"), ("log", "composite"), ("composite", "log")],
)
def test_an_alarm_name_belongs_to_one_kind_of_alarm(cloudwatch: Any, existing: str, put: str) -> None:
    # Given an alarm of one kind
    makers = {
        "metric": lambda: make_alarm(cloudwatch, "web", state=None),
        "composite": lambda: make_composite_alarm(cloudwatch, "web", rule="ALARM(other)", state=None),
        "log": lambda: make_log_alarm(cloudwatch, "web", state=None),
    }
    make_alarm(cloudwatch, "other", state=None)
    makers[existing]()
    # When an alarm of another kind is put with its name
    with pytest.raises(ClientError) as error:
        makers[put]()
    # Then it is refused, and the alarm keeps its kind
    assert _error(error) == ("ValidationError", 400)
    kinds = cloudwatch.describe_alarms(AlarmNames=["web"], AlarmTypes=ALL_KINDS)
    assert {key for key in ("MetricAlarms", "CompositeAlarms", "LogAlarms") if kinds[key]} == {
        {"metric": "MetricAlarms", "composite": "CompositeAlarms", "log": "LogAlarms"}[existing]
    }


_QUERY = _log_alarm_request()["ScheduledQueryConfiguration"]
_SCHEDULE = _QUERY["ScheduleConfiguration"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"ScheduledQueryConfiguration": None}, "ValidationError"),
        ({"QueryResultsToEvaluate": None}, "ValidationError"),
        ({"ScheduledQueryConfiguration": {**_QUERY, "ScheduledQueryRoleARN": None}}, "ValidationError"),
        (
            {
                "ScheduledQueryConfiguration": {
                    **_QUERY,
                    "ScheduleConfiguration": {"ScheduleExpression": "rate(5 minutes)"},
                }
            },
            "ValidationError",
        ),
        ({"ScheduledQueryConfiguration": {**_QUERY, "LogGroupIdentifiers": []}}, "ValidationError"),
        (
            {"ScheduledQueryConfiguration": {**_QUERY, "LogGroupIdentifiers": [f"/g/{n}" for n in range(51)]}},
            "ValidationError",
        ),
        ({"ScheduledQueryConfiguration": {**_QUERY, "AggregationExpression": ""}}, "ValidationError"),
        ({"ScheduledQueryConfiguration": {**_QUERY, "AggregationExpression": "c" * 2049}}, "ValidationError"),
        (
            {
                "ScheduledQueryConfiguration": {
                    **_QUERY,
                    "ScheduleConfiguration": {**_SCHEDULE, "StartTimeOffset": 2592001},
                }
            },
            "ValidationError",
        ),
        ({"QueryResultsToEvaluate": 0}, "ValidationError"),
        ({"ComparisonOperator": "Bogus"}, "ValidationError"),
        ({"AlarmName": "a" * 256}, "ValidationError"),
        ({"QueryResultsToEvaluate": 2, "QueryResultsToAlarm": 3}, "ValidationError"),
        ({"ActionLogLineCount": 5}, "ValidationError"),
        (
            {"ScheduledQueryConfiguration": {**_QUERY, "ScheduleConfiguration": {**_SCHEDULE, "EndTimeOffset": 300}}},
            "ValidationError",
        ),
        ({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}, "InvalidParameterValue"),
        (
            {
                "ScheduledQueryConfiguration": {
                    **_QUERY,
                    "ScheduleConfiguration": {**_SCHEDULE, "ScheduleExpression": "cron(0 * * * ? *)"},
                }
            },
            "InvalidParameterValue",
        ),
        (
            {
                "ScheduledQueryConfiguration": {
                    **_QUERY,
                    "ScheduleConfiguration": {**_SCHEDULE, "ScheduleExpression": "rate(1 minutes)"},
                }
            },
            "InvalidParameterValue",
        ),
        (
            {
                "ScheduledQueryConfiguration": {
                    **_QUERY,
                    "ScheduleConfiguration": {**_SCHEDULE, "ScheduleExpression": "rate(5 minute)"},
                }
            },
            "InvalidParameterValue",
        ),
        ({"QueryResultsToEvaluate": 101, "QueryResultsToAlarm": 1}, "InvalidParameterValue"),
        (
            {"ActionLogLineCount": 51, "ActionLogLineRoleArn": "arn:aws:iam::123456789012:role/lines"},
            "InvalidParameterValue",
        ),
        ({"TreatMissingData": "zero"}, "InvalidParameterValue"),
    ],
    ids=[
        "no query configuration",
        "no results to evaluate",
        "no query role",
        "no start offset",
        "no log groups",
        "51 log groups",
        "empty aggregation",
        "long aggregation",
        "start offset above 30 days",
        "zero results to evaluate",
        "unknown operator",
        "long name",
        "more to alarm than evaluated",
        "log lines without a role",
        "end offset not before start",
        "anomaly operator",
        "cron schedule",
        "rate(1 minutes)",
        "rate(5 minute)",
        "101 results",
        "51 log lines",
        "unknown missing-data treatment",
    ],
)
def test_put_log_alarm_refuses_what_its_model_and_documentation_refuse(
    aws: AwsEmulator, overrides: dict[str, Any], code: str
) -> None:
    # Given a request that breaks one constraint (sent without botocore's own checks)
    cloudwatch = boto3.client("cloudwatch", config=UNCHECKED)
    # When it is sent
    with pytest.raises(ClientError) as error:
        cloudwatch.put_log_alarm(**_log_alarm_request(**overrides))
    # Then CloudWatch refuses it with the code for that kind of constraint, and creates nothing
    assert _error(error) == (code, 400)
    assert cloudwatch.describe_alarms(AlarmTypes=["LogAlarm"])["LogAlarms"] == []


def test_the_log_alarm_sample_follows_the_documented_shape_with_put_log_alarms_members() -> None:
    # AWS publishes no state-change example for log alarms. alarm-log.json is built from the shape every
    # documented alarm state-change event shares (alarmName, state, previousState, configuration), with a
    # configuration made of PutLogAlarm's members in the camelCase the documented examples use
    # (AlarmRule -> alarmRule, ActionsSuppressorWaitPeriod -> actionsSuppressorWaitPeriod).
    sample = load_event("alarm-log.json")
    model = botocore.session.get_session().get_service_model("cloudwatch")
    put = model.operation_model("PutLogAlarm").input_shape
    query = model.shape_for("ScheduledQueryConfiguration")
    assert isinstance(put, StructureShape) and isinstance(query, StructureShape)

    def camel(names: Any) -> set[str]:
        return {name[:1].lower() + name[1:] for name in names}

    configuration = sample["detail"]["configuration"]
    # Then its common members are those of the documented events
    assert set(sample["detail"]) == {"alarmName", "state", "previousState", "configuration"}
    assert sample["detail-type"] == "CloudWatch Alarm State Change"
    # And its configuration uses PutLogAlarm's members (description for AlarmDescription, as metric alarms do)
    assert set(configuration) - {"description"} <= camel(put.members)
    assert set(configuration["scheduledQueryConfiguration"]) <= camel(query.members)
    # And alarm_event builds a log alarm's event from it
    event = alarm_event("web-prod errors in logs", log_alarm=True, at=T0)
    assert event["detail"]["configuration"] == configuration
    assert event["resources"] == ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-prod errors in logs"]


# --------------------------------------------------------------------------- the documented samples


def test_the_muted_sample_is_awss_single_metric_example_with_its_mute_detail() -> None:
    # Given AWS's single-metric example ("Alarm events and EventBridge"), which now carries muteDetail
    sample = load_event("alarm-metric-muted.json")
    # Then it names the rule by ARN and the window in CloudWatch's event time format
    mute = sample["detail"]["muteDetail"]
    assert set(mute) == {"mutedByArn", "muteWindowStart", "muteWindowEnd"}
    assert ":alarm-mute-rule:" in mute["mutedByArn"]
    assert (mute["muteWindowStart"], mute["muteWindowEnd"]) == (
        "2026-01-01T10:00:00.000+0000",
        "2026-01-01T12:00:00.000+0000",
    )
    assert sample["detail"]["alarmName"] == "ServerCpuTooHigh"


def test_the_suppressed_sample_is_awss_composite_example() -> None:
    # Given AWS's composite alarm example, held back by its wait period
    sample = load_event("alarm-composite-suppressed.json")
    # Then its state says why, and its configuration names the suppressor and both periods
    state = sample["detail"]["state"]
    assert (state["value"], state["actionsSuppressedBy"]) == ("ALARM", "WaitPeriod")
    assert state["actionsSuppressedReason"] == "Actions suppressed by WaitPeriod"
    assert sample["detail"]["configuration"] == {
        "alarmRule": "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
        "actionsSuppressor": "ServiceMaintenanceAlarm",
        "actionsSuppressorWaitPeriod": 120,
        "actionsSuppressorExtensionPeriod": 180,
    }


def test_the_contributor_sample_is_not_a_state_change_so_it_is_an_unrelated_event() -> None:
    # Given AWS's "CloudWatch Alarm Contributor State Change" example (Multi Time Series Alarm)
    sample = load_event("unrelated-alarm-contributor-state-change.json")
    # Then it is another detail-type, with a contributor and no previous state: named unrelated-, as the
    # function takes only "CloudWatch Alarm State Change" from aws.cloudwatch
    assert sample["detail-type"] == "CloudWatch Alarm Contributor State Change"
    assert set(sample["detail"]["alarmContributor"]) == {"id", "attributes"}
    assert "previousState" not in sample["detail"]
