"""CloudWatch alarms in the emulator behave as the API reference and botocore's model say.

Tests that pin a strictness behaviour would fail on plain moto 5.2.5 (one page,
StateValue dropped beside a name filter, composite alarms unasked, no
StateTransitionedTimestamp, no PutCompositeAlarm, tags outliving their alarm).
Times come from ``cloudwatch_api.set_state`` or from fixed instants in the past,
never from two clock readings that must differ.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devkit.aws import cloudwatch_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import make_alarm, make_composite_alarm
from tests.conftest import load_event

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
BOTH = ["MetricAlarm", "CompositeAlarm"]
#: Long before any test runs, so "now" is always later.
LONG_AGO = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def cloudwatch(aws: AwsEmulator) -> Any:
    return boto3.client("cloudwatch", config=NO_RETRIES)


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
    # Given a metric alarm (the emulator has no log alarms)
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
