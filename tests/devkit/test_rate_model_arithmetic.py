"""Token-bucket arithmetic and request identification of the rate model, on a clock the test sets."""

from __future__ import annotations

import io
from typing import Any

import pytest

from devkit.aws.rate_model import (
    AWS_RATES,
    SERVICES,
    THROTTLING,
    Counts,
    Limit,
    RateLimitedApp,
    RateModel,
    TokenBucket,
    limited,
    request_key,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def _signed(service: str, **environ: Any) -> dict[str, Any]:
    authorization = (
        f"AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    return {"HTTP_AUTHORIZATION": authorization, "wsgi.input": io.BytesIO(b""), **environ}


def _form(service: str, body: bytes) -> dict[str, Any]:
    return _signed(
        service,
        CONTENT_TYPE="application/x-www-form-urlencoded; charset=utf-8",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": io.BytesIO(body)},
    )


def test_a_bucket_starts_full_and_empties_one_token_per_take() -> None:
    # Given a bucket of 3 that never refills
    bucket = TokenBucket(Limit(rate_per_second=0, burst=3), FakeClock())

    # When tokens are taken while there are any
    taken = 0
    while bucket.has_token():
        bucket.take()
        taken += 1

    # Then exactly the burst was available
    assert taken == 3
    assert bucket.tokens == 0


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    # Given an empty bucket of 4 refilling 10 per second
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate_per_second=10, burst=4), clock)
    for _ in range(4):
        bucket.take()

    # When 0.1 s, then 0.15 s more, then an hour pass
    clock.now += 0.1
    after_a_tenth = bucket.has_token()
    clock.now += 0.15
    after_a_quarter = bucket.tokens
    clock.now += 3600
    after_an_hour = bucket.tokens

    # Then one token is back after a tenth of a second, 2.5 after a quarter, and never more than the burst
    assert after_a_tenth
    assert after_a_quarter == pytest.approx(2.5)
    assert after_an_hour == 4


def test_a_clock_set_back_mints_no_tokens() -> None:
    # Given an empty bucket
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate_per_second=10, burst=1), clock)
    bucket.take()

    # When the clock goes back a second and forward to where it was
    clock.now -= 1
    clock.now += 1

    # Then no token appeared
    assert not bucket.has_token()


def test_an_operation_draws_on_its_own_and_its_services_bucket() -> None:
    # Given DescribeTags limited to 5 and Auto Scaling as a whole to 2
    model = RateModel(
        {"autoscaling:DescribeTags": Limit(0, 5), "autoscaling:*": Limit(0, 2)},
        clock=FakeClock(),
    )

    # When DescribeTags is called three times and DescribeInstanceRefreshes once
    verdicts = [model.admit("autoscaling:DescribeTags") for _ in range(3)]
    other = model.admit("autoscaling:DescribeInstanceRefreshes")

    # Then the service bucket caps both, and a refused call takes no token from its own bucket
    assert verdicts == [True, True, False]
    assert not other
    assert model.stats() == {
        "autoscaling:DescribeTags": Counts(served=2, throttled=1),
        "autoscaling:DescribeInstanceRefreshes": Counts(served=0, throttled=1),
    }


def test_an_unlimited_key_is_counted_but_never_refused() -> None:
    model = RateModel(latency=0.5)

    assert all(model.admit("sns:Publish") for _ in range(100))
    assert model.stats() == {"sns:Publish": Counts(served=100)}
    assert model.latency("sns:Publish") == 0.5


@pytest.mark.parametrize("key", ["monitoring:DescribeAlarms", "cloudwatch.DescribeAlarms", "ec2:RunInstances", "sns:"])
def test_a_key_the_model_would_never_see_is_refused(key: str) -> None:
    # A misspelt key would silently limit nothing
    with pytest.raises(ValueError, match="service:Operation"):
        RateModel({key: Limit(1, 1)})


def test_latency_is_the_keys_own_else_its_services_else_the_default() -> None:
    model = RateModel(latency=0.1, per_key_latency={"sns:*": 0.2, "sns:Publish": 0.3})

    assert [model.latency(key) for key in ("sns:Publish", "sns:CreateTopic", "cloudwatch:DescribeAlarms")] == [
        0.3,
        0.2,
        0.1,
    ]


def test_a_negative_limit_or_latency_is_refused() -> None:
    with pytest.raises(ValueError):
        Limit(rate_per_second=-1, burst=1)
    with pytest.raises(ValueError):
        RateModel(latency=-0.1)


def test_the_default_model_is_inactive() -> None:
    assert not RateModel().active
    assert RateModel({"sns:Publish": Limit(1, 1)}).active
    assert RateModel(latency=0.01).active


def test_every_aws_rate_is_a_valid_key_of_a_service_with_a_throttling_answer() -> None:
    RateModel(AWS_RATES)
    assert {key.partition(":")[0] for key in AWS_RATES} <= set(THROTTLING) == set(SERVICES.values())


def test_json_requests_are_identified_by_signing_name_and_target() -> None:
    environ = _signed("monitoring", HTTP_X_AMZ_TARGET="GraniteServiceVersion20100801.DescribeAlarms")
    assert request_key(environ) == "cloudwatch:DescribeAlarms"
    environ = _signed("tagging", HTTP_X_AMZ_TARGET="ResourceGroupsTaggingAPI_20170126.GetResources")
    assert request_key(environ) == "tagging:GetResources"


def test_query_requests_are_identified_by_their_action_and_keep_their_body() -> None:
    # Given a form-encoded Publish
    body = b"Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=m"
    environ = _form("sns", body)

    # When it is identified
    key = request_key(environ)

    # Then the Action names it, and the body is still there for moto to read
    assert key == "sns:Publish"
    assert environ["wsgi.input"].read() == body


def test_an_action_in_the_query_string_identifies_the_request() -> None:
    assert request_key(_signed("autoscaling", QUERY_STRING="Action=DescribeTags&Version=2011-01-01")) == (
        "autoscaling:DescribeTags"
    )


@pytest.mark.parametrize(
    "environ",
    [
        {"PATH_INFO": "/moto-api/reset", "wsgi.input": io.BytesIO(b"")},
        _signed("ec2", QUERY_STRING="Action=DescribeVpcs"),
        _signed("sns"),
        {"HTTP_AUTHORIZATION": "AWS testing:signature-v2", "QUERY_STRING": "Action=Publish"},
    ],
    ids=["moto-api", "another service", "no operation", "not sigv4"],
)
def test_anything_else_is_not_identified(environ: dict[str, Any]) -> None:
    assert request_key(environ) is None


class _Moto:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        start_response("200 OK", [])
        return [b"moto"]


def test_the_middleware_answers_a_throttle_itself_after_the_latency() -> None:
    # Given Publish with no tokens, 0.25 s of latency, and a recorded sleep
    moto = _Moto()
    slept: list[float] = []
    started: list[tuple[str, dict[str, str]]] = []
    app = RateLimitedApp(moto, sleep=slept.append)
    environ = _form("sns", b"Action=Publish&TopicArn=t&Message=m")

    # When the request arrives
    with limited({"sns:Publish": Limit(0, 0)}, latency=0.25):
        body = b"".join(app(environ, lambda status, headers: started.append((status, dict(headers)))))

    # Then moto never sees it, and the answer is SNS's throttling error after the latency
    assert moto.calls == 0
    assert slept == [0.25]
    status, headers = started[0]
    assert status == "400 Bad Request"
    assert headers["Content-Type"] == "text/xml"
    assert headers["Content-Length"] == str(len(body))
    assert b"<Code>Throttling</Code>" in body and b"<Message>Rate exceeded</Message>" in body


def test_without_a_model_the_middleware_hands_everything_to_moto_untouched() -> None:
    # Given the default (inactive) model and a body the middleware must not consume
    moto = _Moto()
    slept: list[float] = []
    app = RateLimitedApp(moto, sleep=slept.append)
    stream = io.BytesIO(b"Action=Publish")
    environ = _form("sns", b"Action=Publish")
    environ["wsgi.input"] = stream

    # When a request arrives
    with limited():
        app(environ, lambda *_: None)

    # Then moto gets the very same input stream, unread, and nothing waited
    assert moto.calls == 1
    assert environ["wsgi.input"] is stream and stream.tell() == 0
    assert slept == []
