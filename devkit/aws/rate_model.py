"""Account-wide request rates and latency, enforced by the embedded AWS itself.

AWS throttles per account and Region, whoever sends the request. So the limits
live in the server, as WSGI middleware in front of moto (installed by
``aws_server``): the function's boto3 clients, Powertools' DynamoDB client and
benchmark child processes all draw on the same token buckets, as on AWS.

A request is identified as ``"service:Operation"``: the service from the SigV4
credential scope (``Credential=AKID/date/region/<service>/aws4_request``), the
operation from ``X-Amz-Target`` (JSON protocols) or the ``Action`` field (query
protocols). Only the services the function calls are identified; anything else
(moto's ``/moto-api``, EC2, SQS, unsigned requests) passes untouched.

A request takes one token from its operation's bucket and one from its
service's shared bucket (``"autoscaling:*"``), where configured; if either is
empty it takes none and is answered, without reaching moto, with the throttling
error that service sends. The configured latency is slept after that decision
and before answering, for throttled answers too: it stands for the network
round trip, which a throttled request also makes.

The default is no limits and no latency, in which case the middleware passes
every request straight to moto and counts nothing.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from devkit.aws.wire_errors import error_document

Clock = Callable[[], float]
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: SigV4 signing name → the service part of a key. CloudWatch signs as "monitoring".
SERVICES = {
    "autoscaling": "autoscaling",
    "monitoring": "cloudwatch",
    "tagging": "tagging",
    "dynamodb": "dynamodb",
    "sns": "sns",
}
#: The throttling error (code, HTTP status) each service answers with; botocore's standard retry mode
#: treats every one as throttling (botocore.retries.standard.ThrottledRetryableChecker, _retry.json).
THROTTLING: dict[str, tuple[str, int]] = {
    # "Throttling: Rate exceeded", status 400, as AWS answers DescribeAutoScalingGroups.
    "autoscaling": ("Throttling", 400),
    # The common query error; ThrottledException (Throttled, 429) is declared by SNS's SMS operations only.
    "sns": ("Throttling", 400),
    # Query-compatible code Throttling (x-amzn-query-error), __type ThrottlingException.
    "cloudwatch": ("Throttling", 400),
    # ThrottlingException is in the model and in PutItem's errors; botocore retries it as throttling.
    "dynamodb": ("ThrottlingException", 400),
    # The model's only throttling error, declared by GetResources.
    "tagging": ("ThrottledException", 400),
}
#: AWS's message for a throttled request.
RATE_EXCEEDED = "Rate exceeded"
#: Slack for float arithmetic: 0.1 s at 10/s must refill a whole token.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Limit:
    """A token bucket: ``burst`` tokens at most, refilled at ``rate_per_second``; it starts full."""

    rate_per_second: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate_per_second < 0 or self.burst < 0:
            raise ValueError(f"a limit cannot be negative: {self}")


# Lower bounds drawn from AWS's documentation where it publishes one; otherwise an assumption, set low on
# purpose (a storm must show what throttling does, not hide it). Each entry names its source.
AWS_RATES: dict[str, Limit] = {
    # Amazon EC2 Auto Scaling API Reference, "API request rate": a token bucket *shared* by every Auto
    # Scaling call of the account ("DescribeAutoScalingGroups and DescribeScheduledActions use tokens from
    # the same bucket"). AWS publishes no size or refill: 10/s with a burst of 20 is an assumption.
    "autoscaling:*": Limit(rate_per_second=10, burst=20),
    # CloudWatch service quotas (older versions of the page): DescribeAlarms 9 TPS. The bucket size is
    # not published: a burst equal to one second's rate is an assumption.
    "cloudwatch:DescribeAlarms": Limit(rate_per_second=9, burst=9),
    # Same page: 3 TPS each, not adjustable.
    "cloudwatch:DeleteAlarms": Limit(rate_per_second=3, burst=3),
    "cloudwatch:DescribeAlarmHistory": Limit(rate_per_second=3, burst=3),
    "cloudwatch:DescribeAlarmsForMetric": Limit(rate_per_second=3, burst=3),
    "cloudwatch:DisableAlarmActions": Limit(rate_per_second=3, burst=3),
    "cloudwatch:EnableAlarmActions": Limit(rate_per_second=3, burst=3),
    "cloudwatch:SetAlarmState": Limit(rate_per_second=3, burst=3),
    # Not published: assumed as low as the lowest documented CloudWatch alarm-API rate (3 TPS).
    "cloudwatch:ListTagsForResource": Limit(rate_per_second=3, burst=3),
    "cloudwatch:ListAlarmMuteRules": Limit(rate_per_second=3, burst=3),
    "cloudwatch:GetAlarmMuteRule": Limit(rate_per_second=3, burst=3),
    # Resource Groups Tagging API: throttles with ThrottledException ("Rate exceeded") but publishes no
    # rate (AWS Resource Groups and Tagging endpoints and quotas). 5/s is an assumption.
    "tagging:GetResources": Limit(rate_per_second=5, burst=5),
    # SNS endpoints and quotas: Publish is a per-account, per-Region quota, 30,000 messages/s in us-east-1
    # and as low as 300/s for standard topics in the smallest Regions; the lowest is used.
    "sns:Publish": Limit(rate_per_second=300, burst=300),
    # DynamoDB has no request-rate quota for item calls, only capacity: a partition serves at most 1,000
    # write units/s and 3,000 read units/s (DynamoDB service quotas); one idempotency record is under 1 KB,
    # so one unit per call. Per-operation buckets (not one per table) are a simplification.
    "dynamodb:PutItem": Limit(rate_per_second=1000, burst=1000),
    "dynamodb:UpdateItem": Limit(rate_per_second=1000, burst=1000),
    "dynamodb:DeleteItem": Limit(rate_per_second=1000, burst=1000),
    "dynamodb:GetItem": Limit(rate_per_second=3000, burst=3000),
}


@dataclass(frozen=True)
class Counts:
    """Requests of one key answered by moto (served) or refused by a bucket (throttled)."""

    served: int = 0
    throttled: int = 0


class TokenBucket:
    """One bucket. Not locked: :class:`RateModel` serialises access."""

    def __init__(self, limit: Limit, clock: Clock) -> None:
        self.limit, self._clock = limit, clock
        self._tokens, self._at = float(limit.burst), clock()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def has_token(self) -> bool:
        return self.tokens >= 1 - _EPSILON

    def take(self) -> None:
        self._tokens = max(0.0, self._tokens - 1)

    def _refill(self) -> None:
        now = self._clock()
        # A fake clock set back must not mint tokens.
        elapsed = max(0.0, now - self._at)
        self._tokens = min(float(self.limit.burst), self._tokens + elapsed * self.limit.rate_per_second)
        self._at = now


def _check_keys(keys: Iterable[str]) -> None:
    known = set(SERVICES.values())
    for key in keys:
        service, _, operation = key.partition(":")
        if service not in known or not operation:
            # A typo ("monitoring:…", "cloudwatch.DescribeAlarms") would otherwise limit nothing.
            raise ValueError(f"{key!r} is not 'service:Operation' with service in {sorted(known)}")


class RateModel:
    """One configuration: buckets, latency, and what was served or throttled under it."""

    def __init__(
        self,
        limits: Mapping[str, Limit] | None = None,
        *,
        latency: float = 0.0,
        per_key_latency: Mapping[str, float] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._latency = 0.0
        self._per_key_latency: dict[str, float] = {}
        self._counts: dict[str, Counts] = {}
        self.set_limits(limits or {}, clock=clock)
        self.set_latency(latency, per_key=per_key_latency)

    @property
    def active(self) -> bool:
        return bool(self._buckets or self._latency or self._per_key_latency)

    def set_limits(self, limits: Mapping[str, Limit], *, clock: Clock = time.monotonic) -> None:
        """Replace every bucket with a full one per limit."""
        _check_keys(limits)
        with self._lock:
            self._buckets = {key: TokenBucket(limit, clock) for key, limit in limits.items()}

    def set_latency(self, seconds: float, *, per_key: Mapping[str, float] | None = None) -> None:
        """Delay every identified answer by ``seconds``, or by ``per_key[key]`` for those keys."""
        _check_keys(per_key or {})
        if seconds < 0 or any(value < 0 for value in (per_key or {}).values()):
            raise ValueError("latency cannot be negative")
        with self._lock:
            self._latency = seconds
            self._per_key_latency = dict(per_key or {})

    def admit(self, key: str) -> bool:
        """Take a token for ``key`` from every bucket that applies; False (and none taken) if one is empty."""
        service = key.partition(":")[0]
        with self._lock:
            buckets = [bucket for k in (key, f"{service}:*") if (bucket := self._buckets.get(k)) is not None]
            admitted = all(bucket.has_token() for bucket in buckets)
            if admitted:
                for bucket in buckets:
                    bucket.take()
            counts = self._counts.get(key, Counts())
            if admitted:
                self._counts[key] = replace(counts, served=counts.served + 1)
            else:
                self._counts[key] = replace(counts, throttled=counts.throttled + 1)
        return admitted

    def latency(self, key: str) -> float:
        """The key's own latency, else its service's (``"sns:*"``), else the default."""
        service_wide = f"{key.partition(':')[0]}:*"
        with self._lock:
            return self._per_key_latency.get(key, self._per_key_latency.get(service_wide, self._latency))

    def stats(self) -> dict[str, Counts]:
        with self._lock:
            return dict(self._counts)


_model = RateModel()


def set_limits(limits: Mapping[str, Limit], *, clock: Clock = time.monotonic) -> None:
    """Enforce ``limits`` (key → Limit) from now on, each bucket full; other keys are unlimited."""
    _model.set_limits(limits, clock=clock)


def set_latency(seconds: float, *, per_key: Mapping[str, float] | None = None) -> None:
    _model.set_latency(seconds, per_key=per_key)


def reset() -> None:
    """No limits, no latency, no counts: the default, under which the server behaves as plain moto."""
    global _model  # noqa: PLW0603 - the one model the server consults
    _model = RateModel()


def stats() -> dict[str, Counts]:
    """Served and throttled requests per key since the limits or latency were last set up."""
    return _model.stats()


@contextmanager
def limited(
    limits: Mapping[str, Limit] | None = None,
    latency: float = 0.0,
    *,
    per_key_latency: Mapping[str, float] | None = None,
    clock: Clock = time.monotonic,
) -> Iterator[RateModel]:
    """Run the block under a fresh model; the previous one (buckets and counts) is back afterwards.

    The model yielded keeps its stats after the block.
    """
    global _model  # noqa: PLW0603 - the one model the server consults
    previous = _model
    _model = RateModel(limits, latency=latency, per_key_latency=per_key_latency, clock=clock)
    try:
        yield _model
    finally:
        _model = previous


def request_key(environ: Environ) -> str | None:
    """``"service:Operation"`` of a request to a service the function calls; None for anything else.

    Reading a query request's form body consumes ``wsgi.input``, so it is put back for moto.
    """
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scope = authorization.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or scope[3] not in SERVICES:
        return None
    service = SERVICES[scope[3]]
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"{service}:{target.rpartition('.')[2]}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode()).get("Action")
    return f"{service}:{action[0]}" if action else None


class RateLimitedApp:
    """WSGI middleware: throttles and delays requests per the current model, else hands them to moto."""

    def __init__(self, app: WsgiApp, sleep: Callable[[float], None] = time.sleep) -> None:
        self._app = app
        self._sleep = sleep

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        model = _model
        if not model.active:
            return self._app(environ, start_response)
        key = request_key(environ)
        if key is None:
            return self._app(environ, start_response)
        admitted = model.admit(key)
        if delay := model.latency(key):
            self._sleep(delay)
        if admitted:
            return self._app(environ, start_response)
        service = key.partition(":")[0]
        code, status = THROTTLING[service]
        status, headers, body = error_document(service, code, status, RATE_EXCEEDED)
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [body]
