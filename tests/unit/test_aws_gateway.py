"""The gateway's own logic, with botocore Stubber only to inject precise AWS answers."""

from __future__ import annotations

from typing import Any, cast

import boto3
import botocore.loaders
import botocore.model
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.retries.standard import RetryContext, StandardRetryConditions
from botocore.stub import Stubber

from auto_rollback.aws import (
    AUTOSCALING_READ_ATTEMPTS,
    AUTOSCALING_READ_CONFIG,
    CLIENT_CONFIG,
    MAX_ATTEMPTS,
    MODELS_DIR,
    RETRIED_WRITE_ERRORS,
    WRITE_CONFIG,
    aws_session,
)
from auto_rollback.gateway import AwsGateway

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:deleted"


def _gateway() -> tuple[AwsGateway, Stubber]:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    autoscaling = boto3.client("autoscaling", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return AwsGateway(autoscaling=autoscaling, cloudwatch=cloudwatch, sleep=lambda _: None), Stubber(cloudwatch)


def test_alarm_deleted_after_it_fired_has_no_tags() -> None:
    # Given CloudWatch answers that the alarm no longer exists
    gateway, stubber = _gateway()
    stubber.add_client_error("list_tags_for_resource", service_error_code="ResourceNotFoundException")
    # When its tags are read
    with stubber:
        tags = gateway.alarm_tags(ARN)
    # Then it links by tag to nothing (prefix links still apply)
    assert tags == {}


def test_other_tag_errors_propagate() -> None:
    gateway, stubber = _gateway()
    stubber.add_client_error("list_tags_for_resource", service_error_code="AccessDenied", http_status_code=403)
    with stubber, pytest.raises(ClientError, match="AccessDenied"):
        gateway.alarm_tags(ARN)


def test_mutating_calls_stop_retrying_when_time_runs_out() -> None:
    # Given Auto Scaling keeps answering LimitExceeded and no time is left
    gateway, _ = _gateway()
    stubber = Stubber(gateway.autoscaling_writes)
    for _ in range(MAX_ATTEMPTS):
        stubber.add_client_error("rollback_instance_refresh", service_error_code="LimitExceeded")
    # When a rollback is attempted
    with stubber, pytest.raises(ClientError, match="LimitExceeded"):
        gateway.rollback("web-prod", remaining_seconds=lambda: 0.0)
    # Then it stopped after as many attempts as botocore makes
    stubber.assert_no_pending_responses()


def test_mutating_calls_retry_refusals_then_succeed() -> None:
    # Given Auto Scaling refuses with contention, a quota and throttling before accepting
    gateway, _ = _gateway()
    stubber = Stubber(gateway.autoscaling_writes)
    stubber.add_client_error("rollback_instance_refresh", service_error_code="ResourceContention", http_status_code=500)
    stubber.add_client_error("rollback_instance_refresh", service_error_code="LimitExceeded")
    stubber.add_client_error("rollback_instance_refresh", service_error_code="Throttling")
    stubber.add_response(
        "rollback_instance_refresh", {"InstanceRefreshId": "r-1"}, {"AutoScalingGroupName": "web-prod"}
    )
    # When a rollback is attempted with time to spare, then the fourth attempt succeeds
    with stubber:
        assert gateway.rollback("web-prod", remaining_seconds=lambda: 30.0) == "r-1"


def test_refusals_are_retried_as_often_as_botocore_would_even_without_time_left() -> None:
    # Given Auto Scaling keeps answering ResourceContention and the invocation has no time left
    gateway, _ = _gateway()
    stubber = Stubber(gateway.autoscaling_writes)
    for _ in range(MAX_ATTEMPTS):
        stubber.add_client_error(
            "rollback_instance_refresh", service_error_code="ResourceContention", http_status_code=500
        )
    # When a rollback is attempted, then it is made MAX_ATTEMPTS times, and the last refusal raised
    with stubber, pytest.raises(ClientError, match="ResourceContention"):
        gateway.rollback("web-prod", remaining_seconds=lambda: 0.0)
    stubber.assert_no_pending_responses()


class _DroppingClient:
    """A client whose every rollback answer is lost on the way back."""

    def __init__(self) -> None:
        self.attempts = 0

    def rollback_instance_refresh(self, **_: Any) -> dict[str, str]:
        self.attempts += 1
        raise ConnectionClosedError(endpoint_url="https://autoscaling.us-east-1.amazonaws.com/")


def test_a_lost_answer_is_retried_as_botocore_would_then_raised() -> None:
    # Given a network that loses every answer (AWS may have applied the call)
    dropping = _DroppingClient()
    gateway = AwsGateway(autoscaling=cast(Any, dropping), cloudwatch=cast(Any, object()), sleep=lambda _: None)
    # When a rollback is attempted with all the time in the world
    with pytest.raises(ConnectionClosedError):
        gateway.rollback("web-prod", remaining_seconds=lambda: 1000.0)
    # Then it is attempted as often as botocore attempts a call, no more: the caller re-reads the refresh
    assert dropping.attempts == MAX_ATTEMPTS


def _botocore_retries(code: str, status: int) -> bool:
    operation = boto3.client("autoscaling", region_name="us-east-1").meta.service_model.operation_model(
        "RollbackInstanceRefresh"
    )
    context = RetryContext(
        attempt_number=1,
        operation_model=operation,
        parsed_response={"Error": {"Code": code}},
        http_response=AWSResponse("https://autoscaling.us-east-1.amazonaws.com/", status, {}, None),
    )
    return bool(StandardRetryConditions(max_attempts=MAX_ATTEMPTS).is_retryable(context))


def test_one_layer_of_retries_per_call() -> None:
    # Given the clients' retry settings: reads retried by botocore, rollback and cancel by the gateway alone
    assert CLIENT_CONFIG.retries == {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}
    assert WRITE_CONFIG.retries == {"mode": "standard", "total_max_attempts": 1}
    # (Auto Scaling's reads add adaptive mode's client-side rate, and two attempts for a storm's tail)
    assert AUTOSCALING_READ_CONFIG.retries == {"mode": "adaptive", "total_max_attempts": AUTOSCALING_READ_ATTEMPTS}
    # Then the refusals the gateway retries are those botocore would retry, and Auto Scaling's quota refusal
    statuses = {"ResourceContention": 500, "InternalFailure": 500, "ServiceUnavailable": 503}  # as any 5xx
    for code in RETRIED_WRITE_ERRORS - {"LimitExceeded"}:
        assert _botocore_retries(code, statuses.get(code, 400)), code
    assert not _botocore_retries("LimitExceeded", 400)


def test_an_alarm_deleted_before_its_mute_check_is_not_muted() -> None:
    # Given CloudWatch answers that the alarm listed a moment ago no longer exists
    gateway, stubber = _gateway()
    stubber.add_client_error("list_alarm_mute_rules", service_error_code="ResourceNotFoundException")
    # When its mute is looked up, then no rule can mute it
    with stubber:
        assert gateway.active_mute("deleted") is None


def test_other_mute_errors_propagate() -> None:
    gateway, stubber = _gateway()
    stubber.add_client_error("list_alarm_mute_rules", service_error_code="Throttling", http_status_code=400)
    with stubber, pytest.raises(ClientError, match="Throttling"):
        gateway.active_mute("web-prod-5xx")


def test_an_active_mute_rule_is_asked_for_once_and_named() -> None:
    gateway, stubber = _gateway()
    rule = "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:patching"
    stubber.add_response(
        "list_alarm_mute_rules",
        {"AlarmMuteRuleSummaries": [{"AlarmMuteRuleArn": rule, "Status": "ACTIVE", "MuteType": "ONE_TIME"}]},
        {"AlarmName": "web-prod-5xx", "Statuses": ["ACTIVE"], "MaxRecords": 100},
    )
    with stubber:
        mute = gateway.active_mute("web-prod-5xx")
    assert mute is not None and mute.rule_name == "patching" and mute.window_end is None


def test_a_mute_on_a_later_page_is_found() -> None:
    # Given a first page without an ACTIVE rule but with a NextToken (AWS does not document filtering before paging)
    gateway, stubber = _gateway()
    rule = "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:patching"
    asked = {"AlarmName": "web-prod-5xx", "Statuses": ["ACTIVE"], "MaxRecords": 100}
    stubber.add_response("list_alarm_mute_rules", {"AlarmMuteRuleSummaries": [], "NextToken": "page-2"}, asked)
    stubber.add_response(
        "list_alarm_mute_rules",
        {"AlarmMuteRuleSummaries": [{"AlarmMuteRuleArn": rule, "Status": "ACTIVE"}]},
        {**asked, "NextToken": "page-2"},
    )
    # When the mute is looked up, then the second page is read and the rule found
    with stubber:
        mute = gateway.active_mute("web-prod-5xx")
    assert mute is not None and mute.rule_name == "patching"


def test_the_function_reads_cloudwatch_from_the_model_it_ships() -> None:
    # Given only the models shipped in the function's package (none of the runtime botocore's)
    loader = botocore.loaders.Loader(extra_search_paths=[str(MODELS_DIR)], include_default_search_paths=False)
    model = botocore.model.ServiceModel(loader.load_service_model("cloudwatch", "service-2"))
    # When the calls the function makes are looked up in it
    # Then every one is there, with what the function reads: mute rules, log alarms, suppression
    for operation in ("DescribeAlarms", "ListTagsForResource", "ListAlarmMuteRules"):
        assert operation in model.operation_names
    described = model.operation_model("DescribeAlarms").output_shape.members
    assert "LogAlarms" in described
    assert "ActionsSuppressedBy" in model.shape_for("CompositeAlarm").members
    assert loader.load_service_model("cloudwatch", "paginators-1")["pagination"]["DescribeAlarms"]


def test_the_gateway_clients_search_the_shipped_models_first() -> None:
    session = aws_session()
    loader = session._session.get_component("data_loader")
    assert loader.search_paths[0] == str(MODELS_DIR)
