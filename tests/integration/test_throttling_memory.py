"""Auto Scaling reads slow down while AWS throttles them, and forget it once the storm has passed."""

from __future__ import annotations

from auto_rollback.aws import FORGET_THROTTLING_AFTER_SECONDS
from auto_rollback.gateway import AwsGateway
from devkit.aws import rate_model
from tests.integration.conftest import World


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SteppingClock:
    """The rate model's clock: each reading (one per request) is 0.6 s after the last, whatever the machine's speed."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        reading, self.now = self.now, self.now + 0.6
        return reading


def test_a_throttled_read_client_is_made_anew_only_after_a_quiet_minute(world: World) -> None:
    # Given the function's gateway, and Auto Scaling allowing one DescribeTags a second (0.6 s between requests)
    world.fleet("web-prod")
    clock = Clock()
    gateway = AwsGateway(clock=clock)
    first_client = gateway.autoscaling
    limits = {"autoscaling:DescribeTags": rate_model.Limit(rate_per_second=1, burst=1)}
    with rate_model.limited(limits, clock=SteppingClock()) as model:
        # When two reads are made at once (the second is throttled, then retried by botocore)
        assert gateway.group_tags("web-prod").mode.value == "enabled"
        assert gateway.group_tags("web-prod").mode.value == "enabled"
    assert model.stats()["autoscaling:DescribeTags"].throttled == 1
    # Then the next invocation within the minute keeps the client and the rate it learnt
    clock.now += FORGET_THROTTLING_AFTER_SECONDS - 1
    gateway.forget_past_throttling()
    assert gateway.autoscaling is first_client
    # And the first invocation after a quiet minute reads through a fresh client, with no rate limit learnt
    clock.now += 1
    gateway.forget_past_throttling()
    assert gateway.autoscaling is not first_client
    assert gateway.group_tags("web-prod").mode.value == "enabled"
    # And a client never throttled is kept however long the container lives
    fresh = gateway.autoscaling
    clock.now += 10 * FORGET_THROTTLING_AFTER_SECONDS
    gateway.forget_past_throttling()
    assert gateway.autoscaling is fresh
