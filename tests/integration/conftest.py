"""A deployed function, in the emulator: topic + subscriber queue, idempotency table, clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest

from devkit.aws import refresh_api
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.fleet import Fleet, make_alarm, make_fleet
from devkit.scenarios.harness import Deployment, configured


@dataclass
class World:
    """Everything a test of the function needs: the deployment and real clients."""

    deployment: Deployment
    autoscaling: Any
    cloudwatch: Any
    ec2: Any

    def fleet(self, name: str = "web-prod", *, mode: str | None = "enabled", **kwargs: Any) -> Fleet:
        tags = dict(kwargs.pop("tags", {}))
        if mode is not None:
            tags["auto-rollback"] = mode
        return make_fleet(self.ec2, self.autoscaling, name, tags=tags, **kwargs)

    def alarm(
        self, name: str, *, group: str | None = None, state: str | None = "ALARM", at: datetime | None = None
    ) -> str:
        """A real metric alarm, optionally tagged to a group and put in ``state`` (since ``at``); its ARN."""
        return make_alarm(self.cloudwatch, name, group=group, state=state, at=at)

    def refresh_started_at(self, group: str = "web-prod") -> datetime:
        """The StartTime AWS reports for the group's latest refresh: the time scenarios are set against."""
        start: datetime = refresh_api.refreshes(group)[0]["StartTime"]
        return start

    def rollback_calls(self, group: str | None = None) -> list[refresh_api.CallRecord]:
        return refresh_api.calls(refresh_api.ROLLBACK, group)

    def mutating_calls(self) -> list[refresh_api.CallRecord]:
        return [*refresh_api.calls(refresh_api.ROLLBACK), *refresh_api.calls(refresh_api.CANCEL)]

    def published(self) -> list[Any]:
        return self.deployment.published()


@pytest.fixture
def configure(aws: AwsEmulator) -> Iterator[Callable[..., World]]:
    """``configure(DRY_RUN="true", ...)`` deploys the function with those settings."""
    contexts: list[Any] = []

    def deploy(**settings: str) -> World:
        deployment = Deployment.create(**settings)
        context = configured(deployment.environment)
        context.__enter__()
        contexts.append(context)
        return World(deployment, boto3.client("autoscaling"), boto3.client("cloudwatch"), boto3.client("ec2"))

    refresh_api.reset()
    yield deploy
    for context in contexts:
        context.__exit__(None, None, None)


@pytest.fixture
def world(configure: Callable[..., World]) -> World:
    return configure()
