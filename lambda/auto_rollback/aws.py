"""AWS access: the container's one session, the clients' configurations, and the write-retry layer.

Every client the function makes comes from this module's session, with its configs, and only
these modules call AWS:
:mod:`auto_rollback.gateway` (Auto Scaling, CloudWatch, the tagging API),
:mod:`auto_rollback.members` (STS: hub mode's member sessions),
:mod:`auto_rollback.notification` (SNS) and :mod:`auto_rollback.records` (DynamoDB,
through Powertools' idempotency). Clients are injectable for tests and benchmarks.

One layer of retries per call, never two. Reads are retried by botocore alone
(standard mode; adaptive mode for Auto Scaling, see ``AUTOSCALING_READ_CONFIG``).
The two calls that change something (rollback and cancel) go through a client
whose botocore retries are off, and are retried here alone, with capped
exponential backoff and full jitter: refusals (throttling, Auto Scaling's
``ResourceContention`` and ``LimitExceeded``, any 5xx) at least as often as
botocore would and then for as long as the invocation has time, because botocore
backs a 5xx off from 50 ms (five attempts in under a second) while a pending
update to the group lasts longer, and giving up early would leave a bad refresh
running; a connection error as often as botocore would, after which the caller
re-reads the refresh to learn whether the call was applied.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from auto_rollback import __version__

#: Five attempts: botocore's backoff (random, doubling from up to 1 s for throttling) waits at most
#: 1 + 2 + 4 + 8 = 15 s in all, a quarter of the function's 60 s. Attempts that each hang until the
#: timeouts below (3 s to connect, 10 s to read) can outlast the invocation; Lambda's timeout then
#: ends it, its idempotency record expires with it, and Lambda's retry takes over.
MAX_ATTEMPTS = 5
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra=f"auto-rollback/{__version__}",
)
#: For rollback and cancel: botocore makes one attempt, and :func:`with_backoff` the rest.
WRITE_CONFIG = CLIENT_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
#: Auto Scaling's reads: adaptive mode's client-side rate limit on top of standard mode's retries. Auto
#: Scaling throttles all of an account's calls from one bucket (its API reference, "API request rate"),
#: the single-resource case the AWS SDKs reference guide ("Retry behavior") names for adaptive mode; in
#: an alarm storm it keeps a container from spending its attempts against a bucket other tools share.
#: Seven attempts, not five: in the storm of docs/PERFORMANCE.md a read throttled five times in a row
#: still happened, and the two more waits (at most 16 + 20 s) fit the invocation's time on that tail.
AUTOSCALING_READ_ATTEMPTS = 7
AUTOSCALING_READ_CONFIG = CLIENT_CONFIG.merge(
    Config(retries={"mode": "adaptive", "total_max_attempts": AUTOSCALING_READ_ATTEMPTS})
)
#: botocore's adaptive limit, once learnt, is never forgotten, and with a rarely invoked function it stays
#: near its floor (0.5 requests/s): every later invocation would wait. So the read client is made anew
#: at the start of the first invocation this long after the last throttled answer: the storm has passed.
FORGET_THROTTLING_AFTER_SECONDS = 60.0
#: The error codes botocore treats as throttling, among those AWS's services the function calls send.
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException"})

#: Refusals after which the same mutating call may succeed later: throttling, contention, quotas and
#: AWS's own transient failures (any 5xx counts too). The same codes botocore retries as throttling,
#: and Auto Scaling's two of its own (tests/unit/test_aws_gateway.py pins the correspondence).
RETRIED_WRITE_ERRORS = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ResourceContention",
        "LimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
    }
)


#: CloudWatch's service model from the botocore the tests pin (``make models``), read
#: before the Lambda runtime's own: a runtime boto3 older than alarm mute rules or log
#: alarms would lack ListAlarmMuteRules and silently drop ``LogAlarms``.
MODELS_DIR = Path(__file__).resolve().parent / "models"


def core_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    core.set_config_variable("data_path", str(MODELS_DIR))
    return core


@cache
def aws_session() -> boto3.Session:
    """The one boto3 session of the container, whose clients use the shipped service models first.

    Every client the function makes on its own credentials comes from it: a session
    loads AWS's endpoint data, which a second one would load again (cold start,
    memory). Member accounts' sessions (hub mode) share its loader for that reason.
    """
    return boto3.Session(botocore_session=core_session())


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def aws_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def with_backoff[T](call: Callable[[], T], remaining_seconds: Callable[[], float], sleep: Callable[[float], None]) -> T:
    """As many attempts as botocore would make, and more for refusals while the invocation has time.

    A connection error is retried like botocore retries it (``MAX_ATTEMPTS`` in all): if AWS
    applied the call and only the answer was lost, AWS refuses the retry as having no active
    refresh, and the caller re-reads the refresh to learn what happened.
    """
    for attempt, delay in enumerate(_backoff_delays(), start=1):
        try:
            return call()
        except ClientError as error:
            out_of_time = attempt >= MAX_ATTEMPTS and delay >= remaining_seconds()
            if not _retried_write_error(error) or out_of_time:
                raise
        except (BotoConnectionError, HTTPClientError):
            if attempt >= MAX_ATTEMPTS:
                raise
        sleep(delay)
    raise AssertionError("unreachable: the backoff sequence is endless")  # pragma: no cover


def _retried_write_error(error: ClientError) -> bool:
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return error_code(error) in RETRIED_WRITE_ERRORS or status >= 500


def _backoff_delays(base: float = 0.2, cap: float = 5.0) -> Iterator[float]:
    """Capped exponential backoff with full jitter (AWS Architecture Blog's recommendation)."""
    attempt = 0
    while True:
        yield random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter, not cryptography
        attempt += 1
