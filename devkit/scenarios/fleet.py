"""Builders for realistic Auto Scaling fleets in the emulator (moto over HTTP).

A fleet is what the function protects: a launch template with a known-good and a
newer (to-be-deployed) version, and an Auto Scaling group running the good one by
a numbered version, so an instance refresh to the new version can be rolled back.
Pass the builders boto3 clients created after the ``aws`` fixture has started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devkit.aws import cloudwatch_api, refresh_api

#: AMIs that moto serves by default in every region (DescribeImages lists them).
GOOD_IMAGE_ID = "ami-04681a1dbd79675a5"  # amzn2-ami-hvm-2.0.20180810-x86_64-gp2
BAD_IMAGE_ID = "ami-076f415166b04f5fe"  # al2022-ami-2022.0.20220728.1-kernel-5.15-x86_64
#: An ImageId that makes a launch-template version irreversible for a rollback.
SSM_IMAGE_ID = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

INSTANCE_TYPE = "t3.micro"
AVAILABILITY_ZONES = ("us-east-1a", "us-east-1b")


@dataclass(frozen=True)
class LaunchTemplateRef:
    """A launch template created in the emulator and its versions, oldest first."""

    id: str
    name: str
    versions: tuple[str, ...]


@dataclass(frozen=True)
class Fleet:
    """A group running ``good_version`` of a template whose ``bad_version`` is newer."""

    group_name: str
    launch_template_id: str
    launch_template_name: str
    #: The version the group runs before any refresh (and returns to on rollback).
    good_version: str
    #: The newer version a refresh deploys.
    bad_version: str
    #: The Version in the group's launch template specification (None when omitted).
    group_version: str | None
    instances: int

    def desired_configuration(self, version: str | None = None) -> dict[str, Any]:
        """A DesiredConfiguration deploying ``version`` (default: the bad one)."""
        return {
            "LaunchTemplate": {
                "LaunchTemplateId": self.launch_template_id,
                "Version": version or self.bad_version,
            }
        }


def make_launch_template(ec2: Any, name: str, *, image_ids: Sequence[str]) -> LaunchTemplateRef:
    """A launch template with one version per image id (version 1 uses the first)."""
    if not image_ids:
        raise ValueError("a launch template needs at least one version")
    created = ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={"ImageId": image_ids[0], "InstanceType": INSTANCE_TYPE},
    )["LaunchTemplate"]
    versions = [str(created["LatestVersionNumber"])]
    for image_id in image_ids[1:]:
        version = ec2.create_launch_template_version(
            LaunchTemplateId=created["LaunchTemplateId"],
            LaunchTemplateData={"ImageId": image_id, "InstanceType": INSTANCE_TYPE},
        )["LaunchTemplateVersion"]
        versions.append(str(version["VersionNumber"]))
    return LaunchTemplateRef(created["LaunchTemplateId"], created["LaunchTemplateName"], tuple(versions))


def make_group(
    autoscaling: Any,
    name: str,
    *,
    launch_template_id: str,
    version: str | None,
    instances: int = 2,
    tags: Mapping[str, str] | None = None,
) -> None:
    """An Auto Scaling group of ``instances`` instances on the given launch template.

    ``version=None`` leaves Version out of the specification, which AWS reads as
    ``$Default``.
    """
    spec: dict[str, str] = {"LaunchTemplateId": launch_template_id}
    if version is not None:
        spec["Version"] = version
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate=spec,
        MinSize=0,
        MaxSize=max(instances * 2, 1),
        DesiredCapacity=instances,
        AvailabilityZones=list(AVAILABILITY_ZONES),
        Tags=[{"Key": key, "Value": value, "PropagateAtLaunch": False} for key, value in (tags or {}).items()],
    )


def make_fleet(
    ec2: Any,
    autoscaling: Any,
    group_name: str,
    *,
    version: str | None = "1",
    tags: Mapping[str, str] | None = None,
    image_id: str | None = None,
    new_image_id: str | None = None,
    instances: int = 2,
) -> Fleet:
    """A launch template ``<group_name>-lt`` (v1 good, v2 new) and a group running ``version``.

    ``version`` may be "1", "2", "$Latest", "$Default" or None (omitted). ``image_id``
    and ``new_image_id`` override the AMIs of versions 1 and 2 (e.g. ``SSM_IMAGE_ID``).
    """
    template = make_launch_template(
        ec2,
        f"{group_name}-lt",
        image_ids=(image_id or GOOD_IMAGE_ID, new_image_id or BAD_IMAGE_ID),
    )
    make_group(
        autoscaling,
        group_name,
        launch_template_id=template.id,
        version=version,
        instances=instances,
        tags=tags,
    )
    good, bad = template.versions
    return Fleet(
        group_name=group_name,
        launch_template_id=template.id,
        launch_template_name=template.name,
        good_version=good,
        bad_version=bad,
        group_version=version,
        instances=instances,
    )


def start_refresh(
    autoscaling: Any,
    fleet: Fleet,
    *,
    version: str | None = None,
    auto_rollback: bool = False,
    alarms: Sequence[str] = (),
    bake_time: int | None = None,
    with_desired_configuration: bool = True,
    at: datetime | None = None,
) -> str:
    """Start an instance refresh of the fleet to ``version`` (default: the bad one); its id.

    ``at`` makes the refresh's StartTime that moment (to the second, as AWS returns it)
    instead of the emulation's clock, so a test can place alarms before or after it.
    """
    preferences: dict[str, Any] = {"MinHealthyPercentage": 90, "InstanceWarmup": 60}
    if auto_rollback:
        preferences["AutoRollback"] = True
    if alarms:
        preferences["AlarmSpecification"] = {"Alarms": list(alarms)}
    if bake_time is not None:
        preferences["BakeTime"] = bake_time
    arguments: dict[str, Any] = {"AutoScalingGroupName": fleet.group_name, "Preferences": preferences}
    if with_desired_configuration:
        arguments["DesiredConfiguration"] = fleet.desired_configuration(version)
    refresh_id: str = autoscaling.start_instance_refresh(**arguments)["InstanceRefreshId"]
    if at is not None:
        # StartInstanceRefresh has no such parameter: AWS stamps the time; the emulation lets us set it.
        refresh_api.set_start_time(fleet.group_name, at, refresh_id=refresh_id, region=autoscaling.meta.region_name)
    return refresh_id


def restart_refresh(autoscaling: Any, fleet: Fleet) -> str:
    """End the group's latest refresh (as rolled back) if it is still running, and start a new one; its id."""
    history = refresh_api.refreshes(fleet.group_name)
    if history and history[0]["Status"] not in refresh_api.TERMINAL_STATUSES:
        refresh_api.advance(fleet.group_name, "RollbackSuccessful")
    return start_refresh(autoscaling, fleet)


def make_alarm(
    cloudwatch: Any,
    name: str,
    *,
    group: str | None = None,
    state: str | None = "ALARM",
    at: datetime | None = None,
    updated_at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """A real metric alarm, tagged ``auto-rollback:group=<group>`` if given, put in ``state``; its ARN.

    Without ``at`` the state is set through SetAlarmState, which stamps it with the
    emulator's clock, so the order of this call and ``start_refresh`` matters. With
    ``at`` the alarm is in ``state`` since exactly ``at`` (StateTransitionedTimestamp)
    and last updated at ``updated_at`` (default ``at``): use it whenever a scenario
    depends on which came first. ``state=None`` leaves the alarm as CloudWatch creates
    it, in INSUFFICIENT_DATA.
    """
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        Tags=_alarm_tags(group, tags),
    )
    _put_in_state(cloudwatch, name, state, at, updated_at)
    arn: str = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return arn


def make_composite_alarm(
    cloudwatch: Any,
    name: str,
    *,
    rule: str,
    group: str | None = None,
    state: str | None = "ALARM",
    at: datetime | None = None,
    updated_at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    suppressor: str | None = None,
    wait_period: int = 120,
    extension_period: int = 180,
) -> str:
    """A real composite alarm over ``rule`` (e.g. ``ALARM(a) OR ALARM(b)``), like :func:`make_alarm`; its ARN.

    The emulator never evaluates the rule: the alarm is in whatever ``state`` the
    scenario puts it in. ``suppressor`` (an alarm's name or ARN) makes it the
    ActionsSuppressor, with ``wait_period`` and ``extension_period`` seconds (AWS's
    example values by default); DescribeAlarms then reports when its actions are
    suppressed, as ``cloudwatch_api.suppression`` does.
    """
    suppression: dict[str, Any] = {}
    if suppressor is not None:
        suppression = {
            "ActionsSuppressor": suppressor,
            "ActionsSuppressorWaitPeriod": wait_period,
            "ActionsSuppressorExtensionPeriod": extension_period,
        }
    cloudwatch.put_composite_alarm(AlarmName=name, AlarmRule=rule, Tags=_alarm_tags(group, tags), **suppression)
    _put_in_state(cloudwatch, name, state, at, updated_at)
    described = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
    arn: str = described["CompositeAlarms"][0]["AlarmArn"]
    return arn


def make_log_alarm(
    cloudwatch: Any,
    name: str,
    *,
    group: str | None = None,
    state: str | None = "ALARM",
    at: datetime | None = None,
    updated_at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """A real log alarm on the group's ERROR lines, tagged and put in ``state`` like :func:`make_alarm`; its ARN."""
    log_group = f"/aws/ec2/{group or name}"
    cloudwatch.put_log_alarm(
        AlarmName=name,
        AlarmDescription="ERROR lines in the application log are too many",
        ScheduledQueryConfiguration={
            "QueryString": "fields @timestamp, @message | filter @message like /ERROR/",
            "LogGroupIdentifiers": [log_group],
            "ScheduledQueryRoleARN": f"arn:aws:iam::{cloudwatch_api.DEFAULT_ACCOUNT_ID}:role/cloudwatch-log-alarms",
            "ScheduleConfiguration": {"ScheduleExpression": "rate(5 minutes)", "StartTimeOffset": 300},
            "AggregationExpression": "count(*)",
        },
        QueryResultsToEvaluate=1,
        QueryResultsToAlarm=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        Tags=_alarm_tags(group, tags),
    )
    _put_in_state(cloudwatch, name, state, at, updated_at)
    arn: str = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["LogAlarm"])["LogAlarms"][0]["AlarmArn"]
    return arn


def make_mute_rule(
    cloudwatch: Any,
    name: str,
    alarm_names: Sequence[str],
    *,
    start: datetime,
    duration: str = "PT4H",
) -> str:
    """A real one-time alarm mute rule muting ``alarm_names`` for ``duration`` from ``start``; its ARN.

    The alarms must exist (MuteTargets names existing alarms, as AWS requires).
    ``at(...)`` expressions have minute precision, so the window starts at ``start``
    floored to the minute (in UTC, the rule's time zone). Read the rule's status, or
    an alarm's ``muteDetail``, at instants set with ``mute_rules.set_clock`` or given
    to ``mute_rules.mute_detail``.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    minute = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    cloudwatch.put_alarm_mute_rule(
        Name=name,
        Rule={"Schedule": {"Expression": f"at({minute})", "Duration": duration}},
        MuteTargets={"AlarmNames": list(alarm_names)},
    )
    arn: str = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName=name)["AlarmMuteRuleArn"]
    return arn


def _alarm_tags(group: str | None, tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    merged = dict(tags or {})
    if group:
        merged["auto-rollback:group"] = group
    return [{"Key": key, "Value": value} for key, value in merged.items()]


def _put_in_state(
    cloudwatch: Any, name: str, state: str | None, at: datetime | None, updated_at: datetime | None
) -> None:
    if state is None:
        if at is not None or updated_at is not None:
            raise ValueError("at and updated_at need a state")
        return
    if at is None:
        if updated_at is not None:
            raise ValueError("updated_at needs at")
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="set by the test scenario")
        return
    # Server-side: the emulator runs in this process, and SetAlarmState cannot set a time.
    cloudwatch_api.set_state(name, state, transitioned_at=at, updated_at=updated_at)
