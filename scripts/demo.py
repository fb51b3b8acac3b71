"""``make demo``: watch auto-rollback catch a bad instance refresh, on an embedded AWS.

No AWS account is involved. The demo

1. starts moto's server, with the project's instance-refresh emulation, on loopback;
2. synthesizes the CDK stack (cached by a hash of its sources) and creates from the
   template what the emulator can run: the outcome topic, read through an SQS
   subscription as an operator's inbox; the idempotency table; and both EventBridge
   rules with their exact patterns. moto cannot run a Lambda target, so each rule
   targets a queue and the dispatcher here invokes ``auto_rollback.handler.lambda_handler``
   with every event the queue receives, as Lambda's EventBridge trigger would: an
   event reaches the function only if a synthesized pattern matched it;
3. provisions launch templates (a good and a bad release), opted-in, dry-run and
   disabled groups, and alarms linked by tag, by name prefix and as a composite;
4. plays the scenarios, narrating what AWS did, what the function decided and why,
   and what operators received; then prints expected against observed and exits 1
   on any difference.

``--invoke FILE`` sends one event file through the same setup instead (``make invoke``).
Run ``python -m scripts.demo --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version as package_version
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devkit.aws.aws_server import ACCOUNT_ID, running_emulator
from devkit.scenarios.events import alarm_event, cloudwatch_time, refresh_event
from devkit.scenarios.fleet import BAD_IMAGE_ID, GOOD_IMAGE_ID, INSTANCE_TYPE, make_group, make_mute_rule
from devkit.scenarios.harness import Deployment, configured, invoke

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = REPO_ROOT / "lambda"
CACHE_DIR = REPO_ROOT / ".venv" / ".demo-template-cache"
#: What the synthesized template depends on: a change to any of these re-synthesizes.
# facts.py is an input: the IAM condition is built from its opt-in vocabulary.
TEMPLATE_INPUTS = ("app.py", "cdk.json", "infra/**/*.py", "lambda/auto_rollback/facts.py", "devkit/template/synth.py")
HANDLER = "auto_rollback.handler.lambda_handler"
#: The stack's two topics, told apart by their display names (infra/notifications.py).
OUTCOMES_TOPIC = "auto-rollback outcomes"
CHAT_TOPIC = "auto-rollback chat"
STORM_PROCESSES = 3
AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)
SETUP = "setup"
CLOCK_WIDTH = len("00:00.000")
SCENE_WIDTH = 16


class DemoError(Exception):
    """The demo could not set itself up (not a wrong observation: those are reported)."""


# --------------------------------------------------------------------------- timeline


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"


@dataclass
class Timeline:
    """Narration with the time since the demo started; kept for --json, printed otherwise."""

    echo: bool
    started: float = field(default_factory=time.monotonic)
    scene: str = SETUP
    entries: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, *more: str) -> None:
        at = time.monotonic() - self.started
        self.entries.append({"at": round(at, 3), "scene": self.scene, "text": text, "more": list(more)})
        if self.echo:
            indent = " " * (CLOCK_WIDTH + SCENE_WIDTH + 5)
            lines = [f"{_clock(at)}  {self.scene:<{SCENE_WIDTH}} {text}", *(indent + line for line in more)]
            print("\n".join(lines), flush=True)  # flushed: through a pipe, the timeline still runs live

    def of(self, scene: str) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if entry["scene"] == scene]


# --------------------------------------------------------------------------- the synthesized template


@dataclass(frozen=True)
class StackTemplate:
    """The CloudFormation template of the stack, and where it came from (for the narration)."""

    resources: dict[str, dict[str, Any]]
    origin: str

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """Properties of every resource of ``kind``, by logical id."""
        return {
            logical_id: resource.get("Properties", {})
            for logical_id, resource in sorted(self.resources.items())
            if resource.get("Type") == kind
        }

    def single(self, kind: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(kind)
        if len(found) != 1:
            raise DemoError(f"expected one {kind} in the synthesized template, found {len(found)}")
        return next(iter(found.items()))

    def topic(self, display_name: str) -> tuple[str, dict[str, Any]]:
        """The stack's topic with this display name (it has one for outcomes, one for chat)."""
        found = [item for item in self.of_type("AWS::SNS::Topic").items() if item[1].get("DisplayName") == display_name]
        if len(found) != 1:
            raise DemoError(f"expected one SNS topic named {display_name!r} in the template, found {len(found)}")
        return found[0]

    def function(self) -> dict[str, Any]:
        """The auto-rollback function (the template also holds CDK's custom-resource function)."""
        found = [props for props in self.of_type("AWS::Lambda::Function").values() if props.get("Handler") == HANDLER]
        if len(found) != 1:
            raise DemoError(f"expected one function with handler {HANDLER} in the template, found {len(found)}")
        return found[0]


#: Part of the cache key: raised when the way the demo synthesizes changes, so no
#: template cached the old way is used (2: cdk.json's context is read, as the CLI would).
TEMPLATE_RECIPE = "2"


def template_key() -> str:
    """A hash of everything the template is built from, so a stale cache is never used."""
    digest = hashlib.sha256(f"{package_version('aws-cdk-lib')} recipe {TEMPLATE_RECIPE}".encode())
    for pattern in TEMPLATE_INPUTS:
        for path in sorted(REPO_ROOT.glob(pattern)):
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_template() -> StackTemplate:
    """The synthesized template, from the cache when the sources have not changed."""
    key = template_key()
    cached = CACHE_DIR / f"{key}.json"
    if cached.is_file():
        return StackTemplate(json.loads(cached.read_text())["Resources"], f"cached synth {key}")
    started = time.monotonic()
    template = synthesize()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    # Written aside then renamed, so a concurrent demo never reads half a file.
    with tempfile.NamedTemporaryFile("w", dir=CACHE_DIR, suffix=".tmp", delete=False) as partial:
        json.dump(template, partial)
    Path(partial.name).replace(cached)
    return StackTemplate(template["Resources"], f"synthesized now in {time.monotonic() - started:.1f} s, cached")


_SYNTH_WITH_DEVKIT = """
import json, sys
from pathlib import Path
from devkit.template.synth import synth_template
out = Path(sys.argv[1])
(out / "demo-template.json").write_text(json.dumps(synth_template(out, region="us-east-1")))
"""


def synthesize() -> dict[str, Any]:
    """Run the CDK app in a child process (jsii starts Node; the demo need not keep it).

    Through devkit's synth, as the tests do: it reads cdk.json's context, as the CDK
    CLI would (``python app.py`` alone reads none, so every option would silently take
    its default), and pins the emulator's account and region, so ARNs are literal.
    """
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1"}
    with tempfile.TemporaryDirectory(prefix="auto-rollback-synth-") as outdir:
        command = [sys.executable, "-c", _SYNTH_WITH_DEVKIT, outdir]
        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise DemoError(f"could not synthesize the CDK app (exit {done.returncode}):\n{tail}")
        template: dict[str, Any] = json.loads((Path(outdir) / "demo-template.json").read_text())
        return template


# --------------------------------------------------------------------------- the stack on the emulator


@dataclass(frozen=True)
class DeployedRule:
    """A rule of the template on the emulator's default bus; its target is a queue."""

    logical_id: str
    pattern: dict[str, Any]
    queue_url: str

    @property
    def name(self) -> str:
        return re.sub(r"[0-9A-F]{8}$", "", self.logical_id)  # CDK's hash suffix says nothing


@dataclass(frozen=True)
class Stack:
    deployment: Deployment
    rules: tuple[DeployedRule, ...]
    environment: dict[str, str]
    timeout_seconds: float
    chat_inbox_url: str


def deploy(template: StackTemplate, timeline: Timeline, *, verbose: bool) -> Stack:
    """Create the template's topic, table and rules on the emulator; the function's environment."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_id, _ = template.topic(OUTCOMES_TOPIC)
    topic_arn = sns.create_topic(Name="auto-rollback-outcomes", Attributes={"DisplayName": OUTCOMES_TOPIC})["TopicArn"]
    inbox_url = sqs.create_queue(QueueName="operator-inbox")["QueueUrl"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=_queue_arn(inbox_url))
    # The chat topic's subscriber on AWS is Amazon Q Developer; here a queue reads
    # exactly what it would receive, and the demo renders it as Slack would.
    chat_id, _ = template.topic(CHAT_TOPIC)
    chat_arn = sns.create_topic(Name="auto-rollback-chat", Attributes={"DisplayName": CHAT_TOPIC})["TopicArn"]
    chat_inbox_url = sqs.create_queue(QueueName="chat-inbox")["QueueUrl"]
    sns.subscribe(
        TopicArn=chat_arn,
        Protocol="sqs",
        Endpoint=_queue_arn(chat_inbox_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    table_id, table_name = _create_table(template)
    rules = tuple(
        _create_rule(logical_id, props) for logical_id, props in template.of_type("AWS::Events::Rule").items()
    )
    function = template.function()
    environment = _function_environment(
        function, {topic_id: topic_arn, chat_id: chat_arn, table_id: table_name}, verbose=verbose
    )
    used = 3 + len(rules)
    timeline.say(
        f"deployed {used} of the template's {len(template.resources)} resources (the rest: IAM, KMS, logs, "
        "the function's own alarms and dashboard, are not needed on the emulator)",
        f"SNS topic  {topic_arn.rsplit(':', 1)[-1]}  <- subscribed by SQS queue operator-inbox: what operators receive",
        f"SNS topic  {chat_arn.rsplit(':', 1)[-1]}  <- subscribed by SQS queue chat-inbox: what Slack/Teams receive",
        f"DynamoDB   {table_name}  (the idempotency records that make the rollback happen once)",
        *(line for rule in rules for line in _pattern_lines(rule)),
        f"function   {HANDLER}, invoked by the dispatcher for each event a rule delivers",
    )
    deployment = Deployment(topic_arn=topic_arn, queue_url=inbox_url, table_name=table_name, settings={})
    return Stack(deployment, rules, environment, float(function.get("Timeout", 60)), chat_inbox_url)


def _pattern_lines(rule: DeployedRule) -> list[str]:
    """The rule's exact pattern, one field a line, long lists wrapped between values."""
    lines = [f"rule       {rule.name}, pattern:"]
    for key, value in rule.pattern.items():
        if not isinstance(value, list):
            lines.append(f"             {json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}")
            continue
        current = f"             {json.dumps(key)}: ["
        for index, item in enumerate(value):
            piece = json.dumps(item) + ("]" if index == len(value) - 1 else ", ")
            if len(current) + len(piece) > 110 and not current.endswith("["):
                lines.append(current.rstrip())
                current = " " * 16
            current += piece
        lines.append(current)
    return lines


def _queue_arn(queue_url: str) -> str:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn


def _create_table(template: StackTemplate) -> tuple[str, str]:
    dynamodb = boto3.client("dynamodb")
    logical_id, props = template.single("AWS::DynamoDB::Table")
    name = "auto-rollback-idempotency"
    wanted = ("KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput")
    dynamodb.create_table(TableName=name, **{key: props[key] for key in wanted if key in props})
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": ttl["Enabled"], "AttributeName": ttl["AttributeName"]}
        )
    return logical_id, name


def _create_rule(logical_id: str, props: dict[str, Any]) -> DeployedRule:
    events, sqs = boto3.client("events"), boto3.client("sqs")
    pattern = props["EventPattern"]
    queue_url = sqs.create_queue(QueueName=f"{logical_id}-deliveries")["QueueUrl"]
    events.put_rule(Name=logical_id, EventPattern=json.dumps(pattern), State=props.get("State", "ENABLED"))
    events.put_targets(Rule=logical_id, Targets=[{"Id": "function", "Arn": _queue_arn(queue_url)}])
    return DeployedRule(logical_id, pattern, queue_url)


def _function_environment(function: dict[str, Any], refs: dict[str, str], *, verbose: bool) -> dict[str, str]:
    """The function's variables as the stack sets them, with Refs pointing at what was created."""
    environment = {}
    for name, raw in function.get("Environment", {}).get("Variables", {}).items():
        value = refs.get(raw["Ref"]) if isinstance(raw, dict) and set(raw) == {"Ref"} else raw
        if not isinstance(value, str):
            raise DemoError(f"cannot resolve {name}={json.dumps(raw)} of the function's environment")
        environment[name] = value
    if not verbose:  # Powertools' JSON logs and metrics would bury the narration, which reports errors itself
        environment |= {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"}
    return environment


# --------------------------------------------------------------------------- EventBridge and the dispatcher


@dataclass(frozen=True)
class Delivery:
    rule: str
    event: dict[str, Any]


class EventBus:
    """The default bus with the stack's rules: put an event, get what each rule delivered."""

    def __init__(self, rules: Sequence[DeployedRule]) -> None:
        self.rules = rules
        self.events = boto3.client("events")
        self.sqs = boto3.client("sqs")

    def put(self, event: dict[str, Any]) -> list[Delivery]:
        """PutEvents with the event's fields; moto matches the rules while answering."""
        entry: dict[str, Any] = {
            "Source": event.get("source", ""),
            "DetailType": event.get("detail-type", ""),
            "Detail": json.dumps(event.get("detail")),
            "Resources": event.get("resources", []),
        }
        if isinstance(event.get("time"), str):
            entry["Time"] = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        response = self.events.put_events(Entries=[entry])
        if response["FailedEntryCount"]:
            failure = response["Entries"][0]
            raise DemoError(f"EventBridge refused the event: {failure.get('ErrorCode')}: {failure.get('ErrorMessage')}")
        return [Delivery(rule.name, body) for rule in self.rules for body in self._drain(rule.queue_url)]

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        delivered = []
        while messages := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                # moto's default target input drops "account" and adds "ingestion-time";
                # EventBridge hands Lambda the event with the bus's account and without it.
                body.pop("ingestion-time", None)
                body.setdefault("account", ACCOUNT_ID)
                delivered.append(body)
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return delivered


# --------------------------------------------------------------------------- the fleet


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


def emulation() -> Any:
    """``devkit.aws.refresh_api``, imported on first use.

    It loads moto's EC2 and Auto Scaling models, seconds of start-up that the storm's
    worker processes (which import this module afresh) do not need.
    """
    from devkit.aws import refresh_api

    return refresh_api


class Demo:
    """The deployed function, its fleet, and the narrated moves of AWS and of operators."""

    def __init__(self, stack: Stack, timeline: Timeline, *, quiet: bool) -> None:
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
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)

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
        from auto_rollback.outcomes import PUBLISHED_OUTCOMES

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


def invoke_concurrently(demo: Demo, events: Sequence[dict[str, Any]], processes: int) -> list[dict[str, Any]]:
    """Deliver events from separate processes at once, as concurrent Lambda containers would.

    Like devkit.scenarios.harness.invoke_concurrently, but quiet like the rest of the demo.
    """
    environment = {**demo.stack.environment, **{key: os.environ[key] for key in AWS_VARIABLES if key in os.environ}}
    shares = [list(events[index::processes]) for index in range(processes)]
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(_container, environment, share, demo.stack.timeout_seconds, demo.quiet) for share in shares
        ]
        return [result for future in futures for result in future.result()]


def _container(
    environment: dict[str, str], events: list[dict[str, Any]], timeout_seconds: float, quiet: bool
) -> list[dict[str, Any]]:
    """Worker: one process is one Lambda container serving its share of the events in turn."""
    os.environ.update(environment)
    if str(LAMBDA_DIR) not in sys.path:
        sys.path.insert(0, str(LAMBDA_DIR))
    return [call_function(event, timeout_seconds, quiet=quiet) for event in events]


def chat_text(message: dict[str, Any]) -> list[str]:
    """How a chat channel shows the custom notification, by the function's own renderer."""
    from auto_rollback.chat import render_text

    return render_text(message).rstrip("\n").splitlines()


def decision(result: dict[str, Any]) -> str:
    return f"{result['outcome']} ({result['reason']})"


def email_text(message: Any) -> list[str]:
    """The email subscribers get: the function's own text, rebuilt from the JSON body it sent."""
    from auto_rollback.notification import build_notification
    from auto_rollback.outcomes import Result

    body = message.body
    sent_at = datetime.fromisoformat(body["time"])
    notification = build_notification(
        Result.from_dict(body), account=body["account"], region=body["region"], now=sent_at
    )
    return [f"Subject: {message.subject}", "", *notification.email.rstrip("\n").splitlines()]


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Observation:
    """What a scenario is judged on."""

    #: The decision on the event that matters in the scenario, or the tally of a storm.
    decision: str
    #: RollbackInstanceRefresh and CancelInstanceRefresh calls that AWS accepted.
    rollbacks: int
    cancels: int
    #: The outcomes published to the topic, sorted.
    notified: tuple[str, ...]

    def text(self) -> str:
        sns = tally(self.notified) or "nothing"
        return f"{self.decision}; rollbacks {self.rollbacks}, cancels {self.cancels}; SNS {sns}"


def tally(values: Sequence[str], *, ones: bool = False) -> str:
    """``NOTIFIED x2, ROLLBACK_STARTED``: each value once, with its count (``x1`` too if ``ones``)."""
    counts = sorted(Counter(values).items())
    return ", ".join(f"{value} x{count}" if count > 1 or ones else value for value, count in counts)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    groups: tuple[str, ...]
    expected: Observation
    play: Callable[[Demo], str]


def good_refresh(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", GOOD)
    demo.progress("web-prod", "InProgress", 50)
    [checkpoint] = demo.refresh_event("checkpoint-reached", "web-prod", refresh)
    demo.progress("web-prod", "Successful")
    demo.refresh_event("succeeded", "web-prod", refresh)
    return decision(checkpoint)


def bad_refresh(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 40)
    [result] = demo.fire_alarm("web-prod-5xx")
    demo.timeline.say(
        f"web-prod: AWS replaces the new instances with v{demo.group_version('web-prod')} again "
        "(the group's own template, which AWS changes only when a refresh succeeds)"
    )
    demo.refresh_event("rollback-started", "web-prod", refresh)
    demo.progress("web-prod", "RollbackSuccessful")
    demo.refresh_event("rollback-succeeded", "web-prod", refresh)
    demo.fire_alarm("web-prod-5xx", "OK")
    return decision(result)


def alarm_storm(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 30)
    names = [alarm.name for alarm in FLEET[0].alarms]
    events = [demo.alarm_event(name) for name in names]
    # Each state change is put twice (a producer retrying), and EventBridge, which
    # delivers at least once, hands two of them over a second time, id and all.
    deliveries = [delivery for event in events * 2 for delivery in demo.bus.put(event)]
    deliveries += deliveries[:2]
    demo.timeline.say(
        f"{len(names)} alarms fire at once: {', '.join(names)}",
        f"each event put twice, 2 delivered twice more: {len(deliveries)} deliveries by the rules",
        f"-> {STORM_PROCESSES} concurrent Lambda containers (processes)",
    )
    results = invoke_concurrently(demo, [delivery.event for delivery in deliveries], STORM_PROCESSES)
    tallied = tally([result["outcome"] for result in results], ones=True)
    reasons = tally([result["reason"] for result in results if result["outcome"] != "ROLLBACK_STARTED"])
    demo.report({"outcome": tallied, "summary": f"the others found it done or under way: {reasons}"})
    for event in (lifecycle_event("rollback-started", "web-prod", refresh),) * 2:
        demo.send(event, "event  EC2 Auto Scaling Instance Refresh Rollback Started (delivered twice)")
    return tallied


def latest_refresh(demo: Demo) -> str:
    refresh = demo.start_refresh("api-prod", "$Latest")
    demo.progress("api-prod", "InProgress", 25)
    [result] = demo.fire_alarm("api-prod 5xx")
    demo.progress("api-prod", "Cancelled")
    demo.refresh_event("cancelled", "api-prod", refresh)
    return decision(result)


def dry_run_group(demo: Demo) -> str:
    demo.start_refresh("batch-staging", BAD)
    demo.progress("batch-staging", "InProgress", 50)
    [result] = demo.fire_alarm("batch-staging-errors")
    status = emulation().refreshes("batch-staging")[0]["Status"]
    demo.timeline.say(f"batch-staging: refresh still {status}: nothing was changed, operators were told")
    return decision(result)


def disabled_group(demo: Demo) -> str:
    demo.start_refresh("legacy-prod", BAD)
    demo.progress("legacy-prod", "InProgress", 50)
    [result] = demo.fire_alarm("legacy-prod-errors")
    return decision(result)


def maintenance_mute(demo: Demo) -> str:
    web = demo.start_refresh("web-prod", BAD)
    demo.start_refresh("api-prod", BAD)
    demo.progress("web-prod", "InProgress", 40)
    demo.progress("api-prod", "InProgress", 40)
    demo.mute("web-prod maintenance", ["web-prod-5xx"])
    try:
        [muted] = demo.fire_alarm("web-prod-5xx")
        [acted] = demo.fire_alarm("api-prod 5xx")
        [checkpoint] = demo.refresh_event("checkpoint-reached", "web-prod", web)
        status = emulation().refreshes("web-prod")[0]["Status"]
        demo.timeline.say(
            f"web-prod: refresh still {status}: the muted alarm is held back, at the checkpoint too "
            "(logged, not published: the mute says do not page)",
            f"api-prod: rolled back to v{demo.group_version('api-prod')}: its alarm is not muted",
        )
    finally:
        demo.unmute("web-prod maintenance")
    return f"{decision(muted)}; {decision(acted)}; checkpoint {decision(checkpoint)}"


def manual_evaluate(demo: Demo) -> str:
    demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 20)
    demo.set_alarm("web-prod latency-p99", "ALARM")
    demo.timeline.say(
        "alarm web-prod latency-p99 -> ALARM in CloudWatch, but its event never reaches the function",
        "(say the rule was being redeployed): the operator asks the function what it would do",
    )
    result = demo.console(_sample("manual-evaluate.json"))
    return decision(result)


def manual_rollback(demo: Demo) -> str:
    refresh = demo.start_refresh("web-prod", BAD)
    demo.progress("web-prod", "InProgress", 60)
    result = demo.console(_sample("manual-rollback.json"))
    demo.refresh_event("rollback-started", "web-prod", refresh)
    return decision(result)


def fleet_inventory(demo: Demo) -> str:
    """The operator's view of the whole fleet: one read-only invoke, nothing published."""
    event = _sample("manual-inventory.json")
    demo.timeline.say(f"operator console invoke {json.dumps(event)}")
    answer = call_function(event, demo.stack.timeout_seconds, quiet=demo.quiet)
    counts = answer.get("summary")
    if not isinstance(counts, dict):
        raise DemoError(f"the inventory answered {answer.get('outcome')}: {answer.get('summary')}")
    rows = [
        f"{group['group']:<14} {group['mode']:<9} "
        f"{'can roll back now' if group['canRollBack'] else 'cannot: ' + str(group['reason']):<34} "
        f"alarms {group['alarms']['linked']} {_states(group['alarms']['states'])}"
        for group in answer["groups"]
    ]
    demo.timeline.say(
        f"-> inventory: {counts['groups']} groups, {counts['groupsWithWarnings']} with warnings, "
        f"complete={answer['complete']}",
        *rows,
        *(f"warning: {warning}" for warning in answer["warnings"]),
    )
    return (
        f"INVENTORY {counts['groups']} groups: {counts['enabled']} enabled, {counts['dryRun']} dry-run, "
        f"{counts['notProtected']} not protected"
    )


def _states(states: dict[str, int]) -> str:
    return ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "-"


def _sample(name: str) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((REPO_ROOT / "tests" / "events" / name).read_text())
    return sample


NOTIFIED = "NOTIFIED"
SCENARIOS = (
    Scenario(
        "good-refresh",
        "a good release completes: no rollback, lifecycle notifications only",
        ("web-prod",),
        Observation("SKIPPED (no-linked-alarm-in-alarm)", 0, 0, (NOTIFIED, NOTIFIED)),
        good_refresh,
    ),
    Scenario(
        "bad-refresh",
        "a bad release: an alarm fires, the function rolls back and tells operators",
        ("web-prod",),
        Observation("ROLLBACK_STARTED (alarm)", 1, 0, (NOTIFIED, NOTIFIED, NOTIFIED, "ROLLBACK_STARTED")),
        bad_refresh,
    ),
    Scenario(
        "alarm-storm",
        "five alarms, duplicate deliveries, three containers at once: exactly one rollback",
        ("web-prod",),
        Observation("DEDUPLICATED x11, ROLLBACK_STARTED x1", 1, 0, (NOTIFIED, NOTIFIED, "ROLLBACK_STARTED")),
        alarm_storm,
    ),
    Scenario(
        "maintenance-mute",
        "a mute rule keeps one refresh running while an unmuted alarm rolls another back",
        ("web-prod", "api-prod"),
        Observation(
            "SKIPPED (alarm-muted); ROLLBACK_STARTED (alarm); checkpoint SKIPPED (alarm-muted)",
            1,
            0,
            (NOTIFIED, NOTIFIED, "ROLLBACK_STARTED"),
        ),
        maintenance_mute,
    ),
    Scenario(
        "latest-refresh",
        "a refresh to $Latest cannot be rolled back: the fallback cancels it",
        ("api-prod",),
        Observation("CANCELLED (rollback-irreversible)", 0, 1, ("CANCELLED", NOTIFIED, NOTIFIED)),
        latest_refresh,
    ),
    Scenario(
        "dry-run-group",
        "a group tagged auto-rollback=dry-run: operators learn what would have happened",
        ("batch-staging",),
        Observation("DRY_RUN (group-dry-run)", 0, 0, ("DRY_RUN", NOTIFIED)),
        dry_run_group,
    ),
    Scenario(
        "disabled-group",
        "a group tagged auto-rollback=disabled is never touched",
        ("legacy-prod",),
        Observation("SKIPPED (group-not-enabled)", 0, 0, ()),
        disabled_group,
    ),
    Scenario(
        "manual-evaluate",
        "an operator asks from the console what the function would do: nothing changes",
        ("web-prod",),
        Observation("DRY_RUN (evaluate-would-roll-back)", 0, 0, (NOTIFIED,)),
        manual_evaluate,
    ),
    Scenario(
        "manual-rollback",
        "an operator rolls back from the console, no alarm needed",
        ("web-prod",),
        Observation("ROLLBACK_STARTED (manual-request)", 1, 0, (NOTIFIED, NOTIFIED, "ROLLBACK_STARTED")),
        manual_rollback,
    ),
    Scenario(
        "fleet-inventory",
        "an operator lists the fleet: every group's protection, alarms and warnings; read-only",
        (),
        Observation("INVENTORY 4 groups: 2 enabled, 1 dry-run, 1 not protected", 0, 0, ()),
        fleet_inventory,
    ),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def run_scenario(demo: Demo, scenario: Scenario) -> dict[str, Any]:
    demo.begin(scenario.name, scenario.groups)
    demo.timeline.say(f"== {scenario.title}")
    error = None
    try:
        played = scenario.play(demo)
        demo.read_inbox()
        api = emulation()
        ok_calls = [call for call in api.calls() if call.ok]
        observed: Observation | None = Observation(
            decision=played,
            rollbacks=sum(call.action == api.ROLLBACK for call in ok_calls),
            cancels=sum(call.action == api.CANCEL for call in ok_calls),
            notified=tuple(sorted(demo.notified)),
        )
    except Exception as failure:  # one broken scenario must not hide the others' results
        observed, error = None, f"{type(failure).__name__}: {failure}"
        demo.timeline.say(f"!! the scenario could not be played: {error}")
    return {
        "name": scenario.name,
        "title": scenario.title,
        "expected": asdict(scenario.expected),
        "observed": asdict(observed) if observed else None,
        "ok": observed == scenario.expected,
        "error": error,
        "timeline": demo.timeline.of(scenario.name),
    }


# --------------------------------------------------------------------------- sessions and output


@contextmanager
def session(*, echo: bool, verbose: bool) -> Iterator[Demo]:
    """Emulator, template, deployment and a configured function container, torn down after."""
    timeline = Timeline(echo=echo)
    template = load_template()
    with _quiet(verbose), running_emulator() as emulator:
        timeline.say(
            f"AWS emulator: moto {package_version('moto')} on {emulator.endpoint_url} "
            "with the instance-refresh emulation; no AWS account is used"
        )
        timeline.say(f"CDK template: {template.origin}; the rules below carry its exact event patterns")
        stack = deploy(template, timeline, verbose=verbose)
        with configured(stack.environment), _function_log_level(verbose):
            yield Demo(stack, timeline, quiet=not verbose)


@contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Silence the emulator's request log (and library warnings) unless --verbose."""
    werkzeug = logging.getLogger("werkzeug")
    saved = werkzeug.level
    if not verbose:
        werkzeug.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            if not verbose:
                warnings.simplefilter("ignore")
            yield
    finally:
        werkzeug.setLevel(saved)


@contextmanager
def _function_log_level(verbose: bool) -> Iterator[None]:
    # Powertools reads POWERTOOLS_LOG_LEVEL when the module is imported, which may
    # be before the environment is configured (a warm container in the tests).
    from auto_rollback.observability import logger

    saved = logger.log_level
    logger.setLevel(logging.INFO if verbose else logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved)


def print_summary(reports: Sequence[dict[str, Any]], elapsed: float) -> None:
    print()
    print(f"{'scenario':<{SCENE_WIDTH}} {'result':<7} expected / observed")
    print(f"{'-' * SCENE_WIDTH} {'-' * 7} {'-' * 70}")
    for report in reports:
        expected = Observation(**report["expected"]).text()
        observed = Observation(**report["observed"]).text() if report["observed"] else f"error: {report['error']}"
        if report["ok"]:
            print(f"{report['name']:<{SCENE_WIDTH}} {'ok':<7} {expected}")
        else:
            print(f"{report['name']:<{SCENE_WIDTH}} {'DIFFERS':<7} expected: {expected}")
            print(f"{'':<{SCENE_WIDTH}} {'':<7} observed: {observed}")
    passed = sum(report["ok"] for report in reports)
    verdict = "as expected" if passed == len(reports) else "NOT as expected"
    print(f"\n{passed}/{len(reports)} scenarios behaved {verdict} ({elapsed:.1f} s)")


def run_scenarios(names: Sequence[str], *, as_json: bool, verbose: bool) -> int:
    started = time.monotonic()
    reports: list[dict[str, Any]] = []
    setup: list[dict[str, Any]] = []
    if per_account := [name for name in names if name != ORGANIZATION]:
        with session(echo=not as_json, verbose=verbose) as demo:
            demo.provision()
            reports = [run_scenario(demo, BY_NAME[name]) for name in per_account]
            setup = demo.timeline.of(SETUP)
    elapsed = time.monotonic() - started
    # Hub mode on an emulator of its own: another stack in the same hub account (scripts/demo_organization.py).
    organization = _organization().run_part(echo=not as_json, verbose=verbose) if ORGANIZATION in names else None
    ok = all(report["ok"] for report in reports) and (organization is None or organization["ok"])
    if as_json:
        document = {"ok": ok, "setup": setup, "scenarios": reports}
        print(json.dumps(document | ({"organization": organization} if organization else {}), indent=2, default=str))
    else:
        if reports:
            print_summary(reports, elapsed)
        if organization:
            _organization().print_summary(organization, time.monotonic() - started - elapsed)
    return 0 if ok else 1


#: The organization (hub mode) part: played after the scenarios, on its own emulator.
ORGANIZATION = "organization"


def _organization() -> Any:
    """scripts.demo_organization, which imports this module: as scripts.demo even when run as __main__."""
    if __name__ == "__main__":
        sys.modules.setdefault("scripts.demo", sys.modules[__name__])
    from scripts import demo_organization

    return demo_organization


# --------------------------------------------------------------------------- make invoke


def run_event_file(path: Path, *, as_json: bool, verbose: bool, restamp: bool) -> int:
    """One event through the stack: a scheduled-looking fleet mid-refresh gives it something to act on."""
    try:
        event = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DemoError(f"cannot read the event file {path}: {error}") from None
    with session(echo=not as_json, verbose=verbose) as demo:
        demo.provision(_fleet_for(event))
        demo.timeline.scene = "invoke"
        for group in demo.templates:
            demo.start_refresh(group, BAD if group != "api-prod" else "$Latest", quiet=True)
            emulation().advance(group, "InProgress", percentage=40)
        if restamp:  # after the refreshes started, or the alarm would still predate them
            _restamp(event)
        _sync_alarm(demo, event)
        demo.timeline.say(f"every group is mid-refresh (InProgress 40%); now the event {path}", *_refresh_note(event))
        demo.begin("invoke", ())
        outcome = _invoke_one(demo, event)
        outcome["published"] = list(demo.notified)
    if as_json:
        print(json.dumps({"event": str(path), **outcome}, indent=2, default=str))
    else:
        _print_decisions(outcome["results"], restamped=restamp)
    failed = any(result["outcome"] in {"ERROR", "FAILED"} for result in outcome["results"])
    return 1 if failed or outcome.get("error") else 0


def _print_decisions(results: Sequence[dict[str, Any]], *, restamped: bool) -> None:
    for result in results:
        print("\nthe function returned:")
        print(json.dumps(result, indent=2, default=str))
    if not restamped and any(result.get("reason") == "alarm-predates-refresh" for result in results):
        print(
            "\nnote: the alarm changed state before the emulator's refresh started (a copied event is old);"
            "\n      add --restamp (make invoke EVENT=... ARGS=--restamp) to move the event's times to now."
        )


def _invoke_one(demo: Demo, event: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "action" in event:
        return {"route": "direct (manual invoke)", "matchedRules": [], "results": [demo.console(event)]}
    if not isinstance(event, dict):
        return {"route": "direct", "matchedRules": [], "results": [demo.console(event)]}
    what = f"event {event.get('detail-type', '?')} from {event.get('source', '?')}"
    try:
        deliveries = demo.bus.put(event)
    except (DemoError, ClientError) as refused:
        demo.timeline.say(what, f"EventBridge refused it: {refused}")
        return {"route": "eventbridge", "matchedRules": [], "results": [], "error": str(refused)}
    if not deliveries:
        demo.timeline.say(what, "EventBridge: no rule matched -> the function would not be invoked")
    results = []
    for delivery in deliveries:
        demo.timeline.say(what, f"EventBridge: rule {delivery.rule} matched -> function")
        results.append(demo.run(delivery.event))
    return {"route": "eventbridge", "matchedRules": [d.rule for d in deliveries], "results": results}


def _fleet_for(event: Any) -> list[GroupPlan]:
    """The standard fleet, plus an opted-in group for a group the event names that it lacks."""
    fleet = list(FLEET)
    named = _group_named_in(event)
    if named and named not in {group.name for group in fleet}:
        fleet.append(GroupPlan(named, "enabled", alarms=()))
    return fleet


def _group_named_in(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    tags = detail.get("alarmTags") if isinstance(detail.get("alarmTags"), dict) else {}
    for candidate in (
        event.get("autoScalingGroupName"),
        detail.get("AutoScalingGroupName"),
        tags.get("auto-rollback:group"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _sync_alarm(demo: Demo, event: Any) -> None:
    """An alarm of the fleet named in the event is put in the event's state, as CloudWatch would show it."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        return
    name, state = detail.get("alarmName"), (detail.get("state") or {}).get("value")
    if name in ALARMS and not ALARMS[name][1].composite and state in {"OK", "ALARM", "INSUFFICIENT_DATA"}:
        demo.set_alarm(name, state)


def _refresh_note(event: Any) -> list[str]:
    """Warn when a refresh event names a refresh the emulator does not know (one from a real account)."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or "InstanceRefreshId" not in detail:
        return []
    group = detail.get("AutoScalingGroupName")
    history = emulation().refreshes(group) if isinstance(group, str) else []
    if history and history[0]["InstanceRefreshId"] != detail["InstanceRefreshId"]:
        return [
            f"note: the event names refresh {detail['InstanceRefreshId']}, the emulated {group} is running "
            f"{history[0]['InstanceRefreshId']}: the function looks the event's refresh up and will not find it"
        ]
    return []


def _restamp(event: Any) -> None:
    """Move the event's times to now: a copied event is older than any refresh the emulator starts."""
    if not isinstance(event, dict):
        return
    now = datetime.now(UTC)
    if "time" in event:
        event["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    state = detail.get("state")
    muted_at = None
    if isinstance(state, dict) and "timestamp" in state:
        with contextlib.suppress(TypeError, ValueError):
            muted_at = datetime.fromisoformat(state["timestamp"])
        state["timestamp"] = cloudwatch_time(now)
    mute = detail.get("muteDetail")
    if isinstance(mute, dict) and muted_at is not None:
        _restamp_mute(mute, muted_at, now)


def _restamp_mute(mute: dict[str, Any], muted_at: datetime, now: datetime) -> None:
    """Put the mute window around ``now``, as it was around ``muted_at``, keeping its length.

    AWS's own sample has a window years away from its state change; then the state
    change is put at the window's start, so a restamped muted event is muted now.
    """
    try:
        start = datetime.fromisoformat(mute["muteWindowStart"])
        end = datetime.fromisoformat(mute["muteWindowEnd"])
    except (KeyError, TypeError, ValueError):
        return
    into = muted_at - start if start <= muted_at < end else timedelta(0)
    mute["muteWindowStart"] = cloudwatch_time(now - into)
    mute["muteWindowEnd"] = cloudwatch_time(now - into + (end - start))


# --------------------------------------------------------------------------- command line


def _scenario_names(values: Sequence[str] | None) -> list[str]:
    names = [name.strip() for value in values or () for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in BY_NAME and name != ORGANIZATION]
    if unknown:
        raise DemoError(f"unknown scenario {', '.join(unknown)}; choose from {', '.join([*BY_NAME, ORGANIZATION])}")
    return names or [*BY_NAME, ORGANIZATION]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make demo",
        description="Watch auto-rollback catch a bad instance refresh on an embedded AWS emulator (no account needed).",
        epilog="Examples: make demo | make demo ARGS='--scenario bad-refresh' | make invoke EVENT=event.json",
    )
    parser.add_argument("--scenario", action="append", metavar="NAME", help="play only these (repeat, or a,b)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the narration")
    parser.add_argument("--verbose", action="store_true", help="also show the function's Powertools logs and metrics")
    parser.add_argument("--invoke", type=Path, metavar="EVENT.json", help="send one event file through the function")
    parser.add_argument("--restamp", action="store_true", help="with --invoke: move the event's times to now")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if str(LAMBDA_DIR) not in sys.path:
        sys.path.insert(0, str(LAMBDA_DIR))  # `lambda` is a keyword: the package lives beside it
    try:
        if arguments.list:
            for scenario in SCENARIOS:
                print(f"{scenario.name:<{SCENE_WIDTH}} {scenario.title}")
            print(f"{ORGANIZATION:<{SCENE_WIDTH}} {_organization().TITLE}")
            return 0
        if arguments.invoke:
            return run_event_file(
                arguments.invoke, as_json=arguments.json, verbose=arguments.verbose, restamp=arguments.restamp
            )
        names = _scenario_names(arguments.scenario)
        return run_scenarios(names, as_json=arguments.json, verbose=arguments.verbose)
    except DemoError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
