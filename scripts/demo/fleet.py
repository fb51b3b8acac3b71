"""The demo fleet: releases, groups in each opt-in mode, and alarms linked each way."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from devkit.scenarios.fleet import BAD_IMAGE_ID, GOOD_IMAGE_ID


@dataclass(frozen=True)
class Release:
    version: str
    label: str
    image_id: str


RELEASES = (
    Release("1", "release-41", GOOD_IMAGE_ID),
    Release("2", "release-42 (good)", GOOD_IMAGE_ID),
    Release("3", "release-43 (bad AMI)", BAD_IMAGE_ID),
)
RUNNING, GOOD, BAD = RELEASES


@dataclass(frozen=True)
class AlarmPlan:
    name: str
    link: str  # how it is linked to its group: "tag" or "prefix"
    metric: str = "HTTPCode_Target_5XX_Count"
    composite: bool = False


@dataclass(frozen=True)
class GroupPlan:
    name: str
    mode: str
    alarms: tuple[AlarmPlan, ...]
    prefix: str | None = None


FLEET = (
    GroupPlan(
        "web-prod",
        "enabled",
        prefix="web-prod ",
        alarms=(
            AlarmPlan("web-prod-5xx", "tag"),
            AlarmPlan("web-prod latency-p99", "prefix", metric="TargetResponseTime"),
            AlarmPlan("web-prod target-errors", "prefix", metric="TargetConnectionErrorCount"),
            AlarmPlan("web-prod unhealthy-hosts", "prefix", metric="UnHealthyHostCount"),
            AlarmPlan("web-prod health", "prefix", composite=True),
        ),
    ),
    GroupPlan("api-prod", "enabled", prefix="api-prod ", alarms=(AlarmPlan("api-prod 5xx", "prefix"),)),
    GroupPlan("batch-staging", "dry-run", alarms=(AlarmPlan("batch-staging-errors", "tag"),)),
    GroupPlan("legacy-prod", "disabled", alarms=(AlarmPlan("legacy-prod-errors", "tag"),)),
)
ALARMS = {alarm.name: (group, alarm) for group in FLEET for alarm in group.alarms}


def emulation() -> ModuleType:
    """``devkit.aws.refresh_api``, imported on first use.

    It loads moto's EC2 and Auto Scaling models, seconds of start-up that ``--list``
    and ``--help`` do not need.
    """
    from devkit.aws import refresh_api

    return refresh_api
