"""The embedded AWS throttles and delays requests per account, as AWS does, for every client.

The rate model runs in the server, so these tests use plain boto3 clients over
HTTP: what they see is what the function's clients, Powertools' and a benchmark's
child processes would see. Refill is driven by an injected clock, never by waiting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries import standard

from devkit.aws import rate_model
from devkit.aws.aws_server import AwsEmulator
from devkit.aws.rate_model import Counts, Limit

ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:notifications"


@dataclass(frozen=True)
class Call:
    """One call the function makes, with parameters it would send (the resources need not exist)."""

    client: str  # boto3's name of the service
    method: str
    parameters: dict[str, Any]
    key: str  # the rate model's "service:Operation"
    throttling_code: str


CALLS = [
    Call("autoscaling", "describe_tags", {}, "autoscaling:DescribeTags", "Throttling"),
    Call(
        "autoscaling",
        "describe_instance_refreshes",
        {"AutoScalingGroupName": "web-prod"},
        "autoscaling:DescribeInstanceRefreshes",
        "Throttling",
    ),
    Call(
        "autoscaling",
        "rollback_instance_refresh",
        {"AutoScalingGroupName": "web-prod"},
        "autoscaling:RollbackInstanceRefresh",
        "Throttling",
    ),
    Call("cloudwatch", "describe_alarms", {}, "cloudwatch:DescribeAlarms", "Throttling"),
    Call(
        "cloudwatch",
        "list_tags_for_resource",
        {"ResourceARN": ALARM_ARN},
        "cloudwatch:ListTagsForResource",
        "Throttling",
    ),
    Call(
        "resourcegroupstaggingapi",
        "get_resources",
        {"ResourceTypeFilters": ["cloudwatch:alarm"]},
        "tagging:GetResources",
        "ThrottledException",
    ),
    Call(
        "dynamodb",
        "put_item",
        {"TableName": "idempotency", "Item": {"id": {"S": "x"}}},
        "dynamodb:PutItem",
        "ThrottlingException",
    ),
    Call("sns", "publish", {"TopicArn": TOPIC_ARN, "Message": "m"}, "sns:Publish", "Throttling"),
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator(aws: AwsEmulator) -> Iterator[AwsEmulator]:
    rate_model.reset()
    yield aws
    rate_model.reset()


def _client(name: str, config: Config = ONE_ATTEMPT) -> Any:
    # The stubs type boto3.client per literal service name; these names come from a table.
    return boto3.client(name, config=config)  # type: ignore[call-overload]


def _outcome(call: Call, client: Any = None) -> str | None:
    """The error code the call ends with, or None when it succeeds."""
    try:
        getattr(client or _client(call.client), call.method)(**call.parameters)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


@pytest.mark.parametrize("call", CALLS, ids=[call.key for call in CALLS])
def test_the_call_past_the_burst_is_throttled_with_the_services_own_error(emulator: AwsEmulator, call: Call) -> None:
    # Given a bucket of 2 tokens that never refills for the call
    client = _client(call.client)
    with rate_model.limited({call.key: Limit(rate_per_second=0, burst=2)}) as model:
        # When the call is made three times, by a client that does not retry
        first, second = _outcome(call, client), _outcome(call, client)
        with pytest.raises(ClientError) as raised:
            getattr(client, call.method)(**call.parameters)

    # Then the first two reach the emulator, and the third is the service's throttling error
    assert call.throttling_code not in (first, second)
    error = raised.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"]) == (call.throttling_code, "Rate exceeded")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert model.stats() == {call.key: Counts(served=2, throttled=1)}


@pytest.mark.parametrize("call", CALLS, ids=[call.key for call in CALLS])
def test_botocore_standard_mode_retries_the_throttle_as_throttling(emulator: AwsEmulator, call: Call) -> None:
    # Given an empty bucket, and a client that retries in standard mode, 2 attempts
    client = _client(call.client, Config(retries={"mode": "standard", "total_max_attempts": 2}))
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    verdicts: list[bool] = []

    def classify(**kwargs: Any) -> None:
        verdicts.append(detector.is_throttling_error(**kwargs))

    operation = client.meta.method_to_api_mapping[call.method]
    client.meta.events.register(f"needs-retry.{client.meta.service_model.service_id.hyphenize()}.{operation}", classify)

    # When the call is made
    with rate_model.limited({call.key: Limit(rate_per_second=0, burst=0)}) as model:
        code = _outcome(call, client)

    # Then botocore classifies every answer as throttling and retries it up to its limit
    assert code == call.throttling_code
    assert verdicts == [True, True]
    assert model.stats()[call.key] == Counts(served=0, throttled=2)


def test_buckets_are_per_operation(emulator: AwsEmulator) -> None:
    # Given DescribeTags with no tokens left
    autoscaling = _client("autoscaling")
    with rate_model.limited({"autoscaling:DescribeTags": Limit(rate_per_second=0, burst=0)}) as model:
        # When DescribeTags and then DescribeInstanceRefreshes are called
        tags = _outcome(CALLS[0], autoscaling)
        refreshes = _outcome(CALLS[1], autoscaling)

    # Then only DescribeTags is throttled (DescribeInstanceRefreshes is served: AWS's answer for the group
    # the call names, which does not exist)
    assert (tags, refreshes) == ("Throttling", "ValidationError")
    assert model.stats() == {
        "autoscaling:DescribeTags": Counts(served=0, throttled=1),
        "autoscaling:DescribeInstanceRefreshes": Counts(served=1, throttled=0),
    }


def test_a_service_wide_bucket_is_shared_by_every_operation(emulator: AwsEmulator) -> None:
    # Given Auto Scaling's one shared bucket (as AWS documents it) with a single token
    autoscaling = _client("autoscaling")
    with rate_model.limited({"autoscaling:*": Limit(rate_per_second=0, burst=1)}):
        # When DescribeTags and then DescribeInstanceRefreshes are called
        tags = _outcome(CALLS[0], autoscaling)
        refreshes = _outcome(CALLS[1], autoscaling)

    # Then the second call finds the shared bucket empty
    assert (tags, refreshes) == (None, "Throttling")


def test_a_bucket_refills_at_its_rate(emulator: AwsEmulator) -> None:
    # Given DescribeAlarms at 2 per second, burst 1, on a clock the test moves
    clock = FakeClock()
    describe = CALLS[3]
    cloudwatch = _client("cloudwatch")
    with rate_model.limited({describe.key: Limit(rate_per_second=2, burst=1)}, clock=clock):
        # When the token is spent, then 0.4 s pass, then 0.1 s more
        spent = _outcome(describe, cloudwatch)
        clock.now += 0.4
        too_early = _outcome(describe, cloudwatch)
        clock.now += 0.1
        refilled = _outcome(describe, cloudwatch)

    # Then a new token is there after half a second, not before
    assert (spent, too_early, refilled) == (None, "Throttling", None)


def test_a_throttled_request_never_reaches_moto(emulator: AwsEmulator) -> None:
    # Given CreateTopic with no tokens
    sns = _client("sns")
    # When a topic is created
    with rate_model.limited({"sns:CreateTopic": Limit(rate_per_second=0, burst=0)}), pytest.raises(ClientError):
        sns.create_topic(Name="throttled")

    # Then no topic exists
    assert sns.list_topics()["Topics"] == []


def test_a_served_query_request_reaches_moto_whole(emulator: AwsEmulator) -> None:
    # Given a model that reads each query request's form body to find its Action
    sns = _client("sns")
    with rate_model.limited({"sns:CreateTopic": Limit(rate_per_second=0, burst=1)}):
        # When a topic is created
        arn = sns.create_topic(Name="served")["TopicArn"]

    # Then moto received every parameter
    assert arn.endswith(":served")
    assert [topic["TopicArn"] for topic in sns.list_topics()["Topics"]] == [arn]


def test_latency_delays_every_answer_of_the_service(emulator: AwsEmulator) -> None:
    # Given 0.2 s of latency, and 0.3 s for DescribeAlarms
    cloudwatch = _client("cloudwatch")
    with rate_model.limited(latency=0.2, per_key_latency={"cloudwatch:DescribeAlarms": 0.3}):
        # When two calls are made
        started = time.perf_counter()
        cloudwatch.list_metrics()
        between = time.perf_counter()
        cloudwatch.describe_alarms()
        finished = time.perf_counter()

    # Then each took at least its latency
    assert between - started >= 0.2
    assert finished - between >= 0.3


def test_latency_also_delays_a_throttled_answer(emulator: AwsEmulator) -> None:
    # Given an empty bucket and 0.2 s of latency
    describe = CALLS[3]
    with rate_model.limited({describe.key: Limit(rate_per_second=0, burst=0)}, latency=0.2):
        # When the call is throttled
        started = time.perf_counter()
        code = _outcome(describe)
        elapsed = time.perf_counter() - started

    # Then the throttle arrived no sooner than the latency: a throttled request makes the round trip too
    assert code == "Throttling"
    assert elapsed >= 0.2


def test_requests_outside_the_function_services_pass_untouched(emulator: AwsEmulator) -> None:
    # Given every service the function calls throttled to nothing
    limits = {f"{service}:*": Limit(rate_per_second=0, burst=0) for service in set(rate_model.SERVICES.values())}
    with rate_model.limited(limits) as model:
        # When moto's own API and another service (EC2) are called
        requests.get(f"{emulator.endpoint_url}/moto-api/data.json", timeout=10).raise_for_status()
        _client("ec2").describe_vpcs()

    # Then both are answered by moto, and neither is counted
    assert model.stats() == {}


def test_set_limits_stats_and_reset(emulator: AwsEmulator) -> None:
    # Given limits set through the module API
    describe = CALLS[3]
    rate_model.set_limits({describe.key: Limit(rate_per_second=0, burst=1)})
    served, throttled = _outcome(describe), _outcome(describe)

    # When the model is reset
    counted = rate_model.stats()
    rate_model.reset()
    after_reset = _outcome(describe)

    # Then stats counted both calls, and after the reset nothing is limited or counted
    assert (served, throttled, after_reset) == (None, "Throttling", None)
    assert counted == {describe.key: Counts(served=1, throttled=1)}
    assert rate_model.stats() == {}


def test_limited_restores_the_model_it_replaced(emulator: AwsEmulator) -> None:
    # Given an outer limit whose only token is spent
    describe = CALLS[3]
    rate_model.set_limits({describe.key: Limit(rate_per_second=0, burst=1)})
    assert _outcome(describe) is None

    # When a block runs under other limits
    with rate_model.limited({}):
        inside = _outcome(describe)

    # Then the outer bucket is back, still empty
    assert inside is None
    assert _outcome(describe) == "Throttling"
