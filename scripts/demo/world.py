"""The demo's world: the deployed function, its fleet, and the narrated moves of AWS and of operators."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from contextlib import nullcontext, redirect_stdout
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3

from devkit.scenarios.events import alarm_event, refresh_event
from devkit.scenarios.fleet import INSTANCE_TYPE, make_group, make_mute_rule
from devkit.scenarios.harness import invoke
from devkit.template.deploy import DeployedStack
from devkit.template.dispatch import EventBus
from scripts.demo.fleet import ALARMS, FLEET, RELEASES, RUNNING, AlarmPlan, GroupPlan, Release, emulation
from scripts.demo.report import Timeline, chat_text, decision, email_text

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.literals import StateValueType


class Demo:
    """The deployed function, its fleet, and the narrated moves of AWS and of operators."""

    def __init__(self, stack: DeployedStack, timeline: Timeline, *, quiet: bool) -> None:
        self.stack = stack
        self.quiet = quiet
        self.timeline = timeline
        self.bus = EventBus(stack.rules)
        self.autoscaling = boto3.client("autoscaling")
        self.cloudwatch = boto3.client("cloudwatch")
        self.ec2 = boto3.client("ec2")
        self.templates: dict[str, str] = {}  # group -> launch template id
        self.notified: list[str] = []
        self._emailed: set[str] = set()
        self._calls_seen = 0

    # --- provisioning ----------------------------------------------------------------------------------------

    def provision(self, fleet: Sequence[GroupPlan] = FLEET) -> None:
        for group in fleet:
            self.add_group(group)
        releases = ", ".join(f"v{release.version} {release.label}" for release in RELEASES)
        self.timeline.say(
            f"provisioned {len(fleet)} groups, each on v{RUNNING.version} of its own launch template: {releases}",
            *(self._describe(group) for group in fleet),
            "* the composite alarm is not created: it exists only as the events the demo sends for it",
        )

    def add_group(self, group: GroupPlan) -> None:
        template_id = self._launch_template(f"{group.name}-lt")
        tags = {"auto-rollback": group.mode, **({"auto-rollback:alarm-prefix": group.prefix} if group.prefix else {})}
        make_group(self.autoscaling, group.name, launch_template_id=template_id, version=RUNNING.version, tags=tags)
        self.templates[group.name] = template_id
        for alarm in group.alarms:
            if not alarm.composite:
                self._metric_alarm(alarm, group)

    def _launch_template(self, name: str) -> str:
        first, *later = RELEASES
        template_id: str = self.ec2.create_launch_template(
            LaunchTemplateName=name,
            VersionDescription=first.label,
            LaunchTemplateData={"ImageId": first.image_id, "InstanceType": INSTANCE_TYPE},
        )["LaunchTemplate"]["LaunchTemplateId"]
        for release in later:
            self.ec2.create_launch_template_version(
                LaunchTemplateId=template_id,
                VersionDescription=release.label,
                LaunchTemplateData={"ImageId": release.image_id, "InstanceType": INSTANCE_TYPE},
            )
        return template_id

    def _metric_alarm(self, alarm: AlarmPlan, group: GroupPlan) -> None:
        self.cloudwatch.put_metric_alarm(
            AlarmName=alarm.name,
            Namespace="AWS/ApplicationELB",
            MetricName=alarm.metric,
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=10,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "auto-rollback:group", "Value": group.name}] if alarm.link == "tag" else [],
        )

    @staticmethod
    def _describe(group: GroupPlan) -> str:
        prefix = f' alarm-prefix "{group.prefix}"' if group.prefix else ""
        alarms = ", ".join(
            f"{alarm.name} [{'composite*' if alarm.composite else alarm.link}]" for alarm in group.alarms
        )
        return f"{group.name:<14} auto-rollback={group.mode}{prefix}; alarms: {alarms}"

    # --- scenes ----------------------------------------------------------------------------------------------

    def begin(self, scene: str, groups: Sequence[str]) -> None:
        """A clean slate for a scenario: no running refresh, alarms OK, empty call log and inbox."""
        for group in groups:
            self._settle(group)
        self.stack.deployment.published()
        emulation().clear_calls()
        self._calls_seen = 0
        self.notified = []
        self.timeline.scene = scene

    def _settle(self, group: str) -> None:
        api = emulation()
        history = api.refreshes(group)
        if history and history[0]["Status"] not in api.TERMINAL_STATUSES:
            rolling_back = history[0]["Status"] in api.ROLLBACK_STATUSES
            api.advance(group, "RollbackSuccessful" if rolling_back else "Cancelled")
        for alarm in ALARMS.values():
            if alarm[0].name == group and not alarm[1].composite:
                self.cloudwatch.set_alarm_state(AlarmName=alarm[1].name, StateValue="OK", StateReason="demo reset")

    # --- what AWS does ---------------------------------------------------------------------------------------

    def start_refresh(self, group: str, release: Release | str, *, quiet: bool = False) -> str:
        """StartInstanceRefresh to a release (or a version such as $Latest), then its Started event."""
        version = release.version if isinstance(release, Release) else release
        label = release.label if isinstance(release, Release) else version
        running = self.group_version(group)
        refresh_id: str = self.autoscaling.start_instance_refresh(
            AutoScalingGroupName=group,
            DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": self.templates[group], "Version": version}},
            Preferences={
                "MinHealthyPercentage": 90,
                "InstanceWarmup": 60,
                "CheckpointPercentages": [50, 100],
                "CheckpointDelay": 300,
            },
        )["InstanceRefreshId"]
        if not quiet:
            self.timeline.say(f"{group}: instance refresh {refresh_id[:8]} started, v{running} -> {label}")
            self.refresh_event("started", group, refresh_id)
        return refresh_id

    def progress(self, group: str, status: str, percentage: int | None = None) -> None:
        """The refresh moves on, as AWS would over minutes (the emulation never moves by itself)."""
        emulation().advance(group, status, percentage=percentage)
        done = f" {percentage}%" if percentage is not None else ""
        self.timeline.say(f"{group}: refresh {status}{done}")

    def refresh_event(self, kind: str, group: str, refresh_id: str) -> list[dict[str, Any]]:
        """The instance-refresh event AWS emits for ``kind`` (e.g. "checkpoint-reached")."""
        event = lifecycle_event(kind, group, refresh_id)
        return self.send(event, f"event  {event['detail-type']}")

    def set_alarm(self, name: str, state: str) -> None:
        reason = "Threshold Crossed: 1 out of the last 1 datapoints [57.0] was greater than the threshold (10.0)."
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=cast("StateValueType", state), StateReason=reason)

    def alarm_event(self, name: str, state: str = "ALARM") -> dict[str, Any]:
        """CloudWatch's state-change event for an alarm of the fleet, after setting its real state."""
        from devkit.aws import mute_rules

        _, alarm = ALARMS[name]
        if not alarm.composite:
            self.set_alarm(name, state)
        now = datetime.now(UTC)
        # No alarmTags in the event: like most accounts, the function has to look them up.
        # A muted alarm's event carries the muteDetail CloudWatch adds while a mute rule is active.
        return alarm_event(
            name, state=state, at=now, composite=alarm.composite, mute_detail=mute_rules.mute_detail(name, now)
        )

    def mute(self, rule: str, alarms: Sequence[str], *, hours: int = 2) -> None:
        """An operator's maintenance window: a CloudWatch alarm mute rule, active from a minute ago."""
        make_mute_rule(
            self.cloudwatch, rule, list(alarms), start=datetime.now(UTC) - timedelta(minutes=1), duration=f"PT{hours}H"
        )
        self.timeline.say(f"operator: mute rule {rule!r} silences {', '.join(alarms)} for {hours} h (maintenance)")

    def unmute(self, rule: str) -> None:
        self.cloudwatch.delete_alarm_mute_rule(AlarmMuteRuleName=rule)
        self.timeline.say(f"operator: mute rule {rule!r} deleted, maintenance over")

    def fire_alarm(self, name: str, state: str = "ALARM") -> list[dict[str, Any]]:
        _, alarm = ALARMS[name]
        kind = "composite alarm" if alarm.composite else "alarm"
        return self.send(self.alarm_event(name, state), f"{kind} {name} -> {state}")

    # --- the function --------------------------------------------------------------------------------------

    def send(self, event: dict[str, Any], what: str) -> list[dict[str, Any]]:
        """Put an event on the bus; invoke the function for each rule that delivers it."""
        deliveries = self.bus.put(event)
        if not deliveries:
            self.timeline.say(what, "EventBridge: no rule matched -> the function is not invoked")
            return []
        results = []
        for delivery in deliveries:
            self.timeline.say(what, f"EventBridge: rule {delivery.rule} matched -> function")
            results.append(self.run(delivery.event))
        return results

    def console(self, event: dict[str, Any]) -> dict[str, Any]:
        """A manual invoke, as an operator types it in the Lambda console: no EventBridge."""
        self.timeline.say(f"operator console invoke {json.dumps(event)}")
        return self.run(event)

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        result = call_function(event, self.stack.timeout_seconds, quiet=self.quiet)
        self.report(result)
        return result

    def report(self, result: dict[str, Any]) -> None:
        """The decision and its reason, the calls it made to AWS, and what operators received."""
        from auto_rollback.vocabulary import PUBLISHED_OUTCOMES

        lines = [f"why: {result['summary']}"] if result.get("summary") else []
        lines += self._new_calls()
        headline = decision(result) if "reason" in result else result["outcome"]
        self.timeline.say(f"-> {headline}  {result.get('autoScalingGroupName') or ''}".rstrip(), *lines)
        if not self.read_inbox() and result["outcome"] in PUBLISHED_OUTCOMES:
            if result.get("trigger", {}).get("action") == "evaluate":
                self.timeline.say("SNS: nothing sent, evaluate only answers the operator")
            else:
                self.timeline.say("SNS: nothing sent, this outcome was already published for this refresh")

    def _new_calls(self) -> list[str]:
        api = emulation()
        calls = api.calls()
        new, self._calls_seen = calls[self._calls_seen :], len(calls)
        return [
            f"AWS: {call.action} {call.group_name} -> {'ok' if call.ok else call.error_code}"
            for call in new
            if call.action in (api.ROLLBACK, api.CANCEL)
        ]

    def read_inbox(self) -> int:
        """What operators received; the first notification of each outcome is shown in full."""
        messages = self.stack.deployment.published()
        chats = self._read_chat()
        for message in messages:
            outcome = message.attributes.get("outcome", "?")
            self.notified.append(outcome)
            lines = [f"SNS -> operators: {message.subject}  (severity {message.attributes.get('severity')})"]
            if outcome not in self._emailed and outcome != "NOTIFIED":
                self._emailed.add(outcome)
                lines += ["email as an operator receives it:", *(f"| {line}" for line in email_text(message))]
                chat = chats.get(message.body.get("instanceRefreshId"), {}).get(outcome)
                if chat is not None:
                    lines += ["Slack/Teams, through Amazon Q Developer:", *(f"| {line}" for line in chat_text(chat))]
            self.timeline.say(*lines)
        return len(messages)

    def _read_chat(self) -> dict[str | None, dict[str, dict[str, Any]]]:
        """The chat topic's messages, by refresh and outcome."""
        sqs = boto3.client("sqs")
        found: dict[str | None, dict[str, dict[str, Any]]] = {}
        url = self.stack.chat_inbox_url
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for raw in messages:
                chat = json.loads(raw["Body"])
                context = chat.get("metadata", {}).get("additionalContext", {})
                found.setdefault(context.get("instanceRefreshId"), {})[context.get("outcome", "?")] = chat
                sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
        return found

    def group_version(self, group: str) -> str:
        found = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"]
        version: str = found[0]["LaunchTemplate"].get("Version", "$Default")
        return version


def lifecycle_event(kind: str, group: str, refresh_id: str) -> dict[str, Any]:
    """An instance-refresh event as AWS would send it now."""
    event = refresh_event(kind, group, refresh_id)
    event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def call_function(event: Any, timeout_seconds: float, *, quiet: bool) -> dict[str, Any]:
    """The real handler, once; an exception is what Lambda would record (and retry).

    Quiet, it swallows what the function prints: Powertools prints its ColdStart
    metric even with metrics disabled (its logs go to a stream bound at import).
    """
    try:
        with redirect_stdout(io.StringIO()) if quiet else nullcontext():
            return invoke(event, timeout_seconds=timeout_seconds)
    except Exception as error:
        return {"outcome": "ERROR", "reason": type(error).__name__, "summary": str(error)}
