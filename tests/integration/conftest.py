"""A deployed function, in the emulator: topic + subscriber queue, idempotency table, clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest

from auto_rollback.vocabulary import member_role_name
from devkit.aws import refresh_api
from devkit.aws.aws_server import REGION, AwsEmulator
from devkit.scenarios import organization as org
from devkit.scenarios.fleet import Fleet, make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import Deployment, Published, configured


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


# --------------------------------------------------------------------------- organization mode (a hub)


@dataclass
class Organization:
    deployment: Deployment

    def fleet(self, account: str, name: str = "web-prod", *, mode: str = "enabled") -> Fleet:
        """An opted-in group of ``account`` with a refresh to its bad version under way."""
        autoscaling = org.client("autoscaling", account)
        fleet = make_fleet(org.client("ec2", account), autoscaling, name, tags={"auto-rollback": mode})
        start_refresh(autoscaling, fleet)
        return fleet

    def alarm(self, account: str, name: str, *, link: str, state: str = "ALARM") -> str:
        """A real alarm of ``account`` tagged ``auto-rollback:group=<link>``, put in ``state`` now."""
        return make_alarm(org.client("cloudwatch", account), name, group=link, state=state)

    def published(self) -> list[Published]:
        return self.deployment.published()


@pytest.fixture
def hub(aws: AwsEmulator, spoke_template: dict[str, Any]) -> Iterator[Any]:
    """``hub(**settings)``: the organization, spokes in its members, and the hub function with those settings."""
    contexts: list[Any] = []

    def deploy(**settings: str) -> Organization:
        org.define_organization()
        for account in (org.MONITORING, org.WORKLOAD, org.REFUSING):
            org.deploy_spoke(spoke_template, account)
        org.refuse_hub(org.REFUSING)
        deployment = Deployment.create(MEMBER_ROLE_NAME=member_role_name(REGION), **settings)
        context = configured({**deployment.environment, **org.hub_credentials(REGION)})
        context.__enter__()
        contexts.append(context)
        return Organization(deployment)

    refresh_api.reset()
    yield deploy
    for context in reversed(contexts):
        context.__exit__(None, None, None)
