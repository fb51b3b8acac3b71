"""A fresh emulator with the function deployed, and the clients that build scenarios in it.

``fresh_world`` forgets everything and deploys the function's resources again, so
each scenario starts from the same state; ``World`` makes opted-in fleets and
starts a new refresh of a group whenever a scenario needs one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import boto3

from auto_rollback.vocabulary import ALARM_PREFIX_TAG, MODE_TAG, GroupMode
from devkit.aws.aws_server import AwsEmulator
from devkit.scenarios.fleet import Fleet, make_fleet, restart_refresh
from devkit.scenarios.harness import Deployment


@dataclass
class World:
    """Clients that build the scenarios (not the function's clients)."""

    autoscaling: Any
    cloudwatch: Any
    ec2: Any

    @classmethod
    def connect(cls) -> World:
        return cls(boto3.client("autoscaling"), boto3.client("cloudwatch"), boto3.client("ec2"))

    def fleet(self, name: str, *, prefix: str | None = None) -> Fleet:
        """A fleet opted in to auto-rollback, its alarms linked by ``prefix`` if given."""
        tags = {MODE_TAG: GroupMode.ENABLED.value}
        if prefix:
            tags[ALARM_PREFIX_TAG] = prefix
        return make_fleet(self.ec2, self.autoscaling, name, tags=tags)

    def fresh_refresh(self, fleet: Fleet) -> str:
        """End the group's latest refresh (if any) and start a new one; its id."""
        refresh_id = restart_refresh(self.autoscaling, fleet)
        # Alarm timestamps have millisecond precision: keep the alarm strictly after the start.
        time.sleep(0.002)
        return refresh_id


def fresh_world(emulator: AwsEmulator, name: str) -> tuple[Deployment, World]:
    """Forget everything in the emulator, then deploy the function's resources again.

    With the chat topic, as the stack always creates it: every outcome is published
    twice (the outcome, then its chat copy), and the figures count both.
    """
    emulator.reset()
    chat_topic = boto3.client("sns").create_topic(Name=f"{name}-chat")["TopicArn"]
    return Deployment.create(name=name, CHAT_TOPIC_ARN=chat_topic), World.connect()
