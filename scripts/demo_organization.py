"""``make demo``'s organization part: one hub function protecting the accounts of an AWS Organization.

On an emulator of its own, it deploys the hub template's bus, rules, topics and table
in the hub account and the StackSet's spoke template in member accounts and in an
outsider, then plays three scenes through EventBridge, hop by hop, with the function
running as the hub role; it returns expected against observed (docs/DEMO.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext, redirect_stdout
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scripts import demo

if str(demo.LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(demo.LAMBDA_DIR))  # `lambda` is a keyword: the package lives beside it

import boto3
from moto.events.models import events_backends

from auto_rollback.accounts import HUB_BUS_NAME, hub_role_name, member_role_name
from auto_rollback.actions import ActionFailedError
from devkit.aws import events_rules, refresh_api
from devkit.aws.aws_server import REGION, running_emulator
from devkit.scenarios import organization as org
from devkit.scenarios.calls import CallRecorder
from devkit.scenarios.events import alarm_event, from_account, refresh_event
from devkit.scenarios.fleet import make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import FUNCTION_ARN, Deployment, configured, invoke
from devkit.scenarios.organization import HUB, MONITORING, OUTSIDER, REFUSING, WORKLOAD

RULE = "AWS::Events::Rule"
NAME = "organization"
TITLE = "a monitoring account's alarm rolls back a workload account's refresh through the hub; refusals"
#: What the hub template depends on beyond the per-account template's inputs.
HUB_INPUTS = ("devkit/template/hub.py", "lambda/auto_rollback/accounts.py")
GROUP = "checkout-prod"
ALARM = "checkout-prod-5xx"
GROUP_TAG = "auto-rollback:group"
FUNCTION = "function"


# --------------------------------------------------------------------------- the hub template


def hub_template_key() -> str:
    digest = hashlib.sha256(f"hub {demo.template_key()}".encode())
    for name in HUB_INPUTS:
        digest.update((demo.REPO_ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


_SYNTH_HUB = """
import json, sys
from pathlib import Path
from devkit.template.hub import hub_templates
out = Path(sys.argv[1])
found = hub_templates(out, alarmAccounts=[sys.argv[2]])
(out / "hub.json").write_text(json.dumps({"hub": found.hub, "spoke": found.spoke}))
"""


def load_templates() -> tuple[dict[str, Any], dict[str, Any], str]:
    """The hub template, the spoke template of its StackSet, and where they came from (cached by source hash)."""
    key = hub_template_key()
    cached = demo.CACHE_DIR / f"hub-{key}.json"
    if cached.is_file():
        both = json.loads(cached.read_text())
        return both["hub"], both["spoke"], f"cached synth {key}"
    started = time.monotonic()
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1"}
    with tempfile.TemporaryDirectory(prefix="auto-rollback-hub-synth-") as outdir:
        # alarmAccounts names the monitoring account, as an operator's context would (docs/DEPLOY.md).
        command = [sys.executable, "-c", _SYNTH_HUB, outdir, MONITORING]
        done = subprocess.run(command, cwd=demo.REPO_ROOT, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise demo.DemoError(f"could not synthesize the app in hub mode (exit {done.returncode}):\n{tail}")
        text = (Path(outdir) / "hub.json").read_text()
    demo.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=demo.CACHE_DIR, suffix=".tmp", delete=False) as partial:
        partial.write(text)
    Path(partial.name).replace(cached)
    both = json.loads(text)
    return both["hub"], both["spoke"], f"synthesized now in {time.monotonic() - started:.1f} s, cached"


def _short(logical_id: str) -> str:
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)  # CDK's hash suffix says nothing


# --------------------------------------------------------------------------- the hub on the emulator


@dataclass(frozen=True)
class Hub:
    bus_arn: str
    rules: tuple[str, ...]
    environment: dict[str, str]
    deployment: Any  # devkit.scenarios.harness.Deployment
    timeout_seconds: float


def deploy_hub(hub: Mapping[str, Any], *, verbose: bool) -> Hub:
    """The hub stack's bus (with its policy), rules, topics and table, in the hub account."""
    template = demo.StackTemplate(hub["Resources"], "hub")
    bus_id, _ = template.single("AWS::Events::EventBus")
    bus_arn = f"arn:aws:events:{REGION}:{HUB}:event-bus/{HUB_BUS_NAME}"
    _, policy = template.single("AWS::Events::EventBusPolicy")
    statement = {**policy["Statement"], "Resource": bus_arn}  # the template's Fn::GetAtt of the bus
    org.create_hub_bus({"Version": "2012-10-17", "Statement": [statement]})
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topics = {}
    for display_name, name in ((demo.OUTCOMES_TOPIC, "outcomes"), (demo.CHAT_TOPIC, "chat")):
        logical_id, _ = template.topic(display_name)
        topics[logical_id] = sns.create_topic(Name=f"auto-rollback-{name}", Attributes={"DisplayName": display_name})
    outcomes_id, _ = template.topic(demo.OUTCOMES_TOPIC)
    inbox_url = sqs.create_queue(QueueName="operator-inbox")["QueueUrl"]
    sns.subscribe(TopicArn=topics[outcomes_id]["TopicArn"], Protocol="sqs", Endpoint=demo._queue_arn(inbox_url))
    table_id, table_name = demo._create_table(template)
    failed_events = demo._queue_arn(sqs.create_queue(QueueName="auto-rollback-failed-events")["QueueUrl"])
    events = boto3.client("events")
    rules = []
    for logical_id, props in template.of_type("AWS::Events::Rule").items():
        if props.get("EventBusName") != {"Ref": bus_id}:
            raise demo.DemoError(f"hub rule {logical_id} is not on the hub bus")
        events.put_rule(Name=logical_id, EventBusName=HUB_BUS_NAME, EventPattern=json.dumps(props["EventPattern"]))
        # The template's target, its Fn::GetAtt resolved: the function, and the failed-events queue.
        [target] = props["Targets"]
        target = {**target, "Arn": FUNCTION_ARN, "DeadLetterConfig": {"Arn": failed_events}}
        events.put_targets(Rule=logical_id, EventBusName=HUB_BUS_NAME, Targets=[target])
        rules.append(logical_id)
    refs = {logical_id: topic["TopicArn"] for logical_id, topic in topics.items()} | {table_id: table_name}
    function = template.function()
    environment = demo._function_environment(function, refs, verbose=verbose)
    deployment = Deployment(topics[outcomes_id]["TopicArn"], inbox_url, table_name, {})
    return Hub(bus_arn, tuple(rules), environment, deployment, float(function.get("Timeout", 60)))


# --------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Observation:
    """What a scene is judged on."""

    #: The hops the event took: its account's default bus, the spoke rule, the hub bus, the hub rule.
    route: str
    #: The function's decision, with the account it acted in (or why it never ran).
    decision: str
    #: Accounts whose refresh AWS accepted a RollbackInstanceRefresh for.
    rollbacks: tuple[str, ...]
    #: Outcomes published to the hub's topic, each with the account it names.
    notified: tuple[str, ...]

    def text(self) -> str:
        rolled = ", ".join(self.rollbacks) or "none"
        sns = ", ".join(self.notified) or "nothing"
        return f"{self.route}; {self.decision}; rollbacks in {rolled}; SNS {sns}"


@dataclass(frozen=True)
class Scene:
    name: str
    title: str
    expected: Observation
    play: Callable[[Organization], tuple[str, str]]


class Organization:
    """The emulated organization, the hub, and the narrated moves of AWS."""

    def __init__(self, hub: Hub, timeline: demo.Timeline, recorder: CallRecorder, *, quiet: bool) -> None:
        self.hub = hub
        self.recorder = recorder  # shows the AssumeRole calls the function makes
        self.timeline = timeline
        self.quiet = quiet
        self.notified: list[str] = []
        self._emailed: set[str] = set()

    def fleet(self, account: str) -> str:
        """An opted-in group of ``account``, a refresh to its bad release started a minute ago; its refresh id."""
        autoscaling = org.client("autoscaling", account)
        fleet = make_fleet(org.client("ec2", account), autoscaling, GROUP, tags={"auto-rollback": "enabled"})
        started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        refresh_id = start_refresh(autoscaling, fleet)
        # An explicit start, a minute before the alarm: the scene does not hang on the clock's resolution.
        refresh_api.set_start_time(GROUP, started, refresh_id=refresh_id, account_id=account)
        self.timeline.say(f"account {account}: {GROUP} refresh {refresh_id[:8]} v1 -> v2 (bad AMI), InProgress")
        return refresh_id

    def put(self, account: str, event: dict[str, Any], what: str) -> tuple[str, str]:
        """PutEvents on ``account``'s default bus; then each hop it took, and the function on what reached it."""
        event = from_account(event, account)
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event["resources"],
            "Time": datetime.fromisoformat(event["time"].replace("Z", "+00:00")),
        }
        delivered, failed = len(events_rules.deliveries()), len(events_rules.failed_deliveries())
        answer = org.client("events", account).put_events(Entries=[entry])
        if answer["FailedEntryCount"]:
            raise demo.DemoError(f"EventBridge refused the event in {account}: {answer['Entries'][0]}")
        spoke = _forwarding_rules(account, event, self.hub.bus_arn)
        hops = [f"{account} default bus", *(f"spoke rule {name}" for name in spoke)]
        refusals = events_rules.failed_deliveries()[failed:]
        reached = events_rules.deliveries()[delivered:]
        lines = [f"EventBridge {account}: default bus accepted it; spoke rule {', '.join(spoke) or 'none'} matched"]
        for refusal in refusals:
            lines.append(f"  -> {refusal.target_arn}: refused, {refusal.reason}")
            hops.append("refused by the hub bus policy")
        for delivery in reached:
            lines.append(
                f"  -> hub bus {HUB_BUS_NAME} ({self.hub.bus_arn.split(':')[4]}): rule "
                f"{_short(delivery.rule)} -> {delivery.function_arn}"
            )
            hops += ["hub bus", f"hub rule {_short(delivery.rule)}", FUNCTION]
        if not reached:
            lines.append("  -> the function is not invoked")
        self.timeline.say(what, *lines)
        decisions = [self.run(delivery.event) for delivery in reached]
        return " -> ".join(hops), "; ".join(decisions) or "function not invoked"

    def run(self, event: dict[str, Any]) -> str:
        """The handler, as Lambda's asynchronous invocation runs it; a raise is what Lambda retries."""
        before = len(refresh_api.calls(refresh_api.ROLLBACK))
        # Powertools prints its ColdStart metric even with metrics disabled: swallowed unless --verbose.
        with self.recorder.recording() as recorded, redirect_stdout(io.StringIO()) if self.quiet else nullcontext():
            try:
                result = invoke(event, timeout_seconds=self.hub.timeout_seconds)
                failed = ""
            except ActionFailedError as error:
                # Lambda records a failed invocation, retries it twice, then the failure destination keeps it.
                result, failed = error.result.to_dict(), "; invocation failed, Lambda retries"
        roles = [call.params["RoleArn"] for call in recorded if call.name == "sts:AssumeRole"]
        lines = [f"why: {result['summary']}"] if result.get("summary") else []
        lines += [f"AWS: sts:AssumeRole {role} (hub role session)" for role in roles]
        lines += [
            f"AWS: {call.action} {call.group_name} in {call.account_id} -> {'ok' if call.ok else call.error_code}"
            for call in refresh_api.calls(refresh_api.ROLLBACK)[before:]
        ]
        headline = f"{demo.decision(result)} in {result.get('account')}{failed}"
        self.timeline.say(f"-> {headline}", *lines)
        self.read_inbox()
        return headline

    def read_inbox(self) -> None:
        for message in self.hub.deployment.published():
            outcome = message.attributes.get("outcome", "?")
            named = f"{outcome} for {message.body.get('account')}"
            self.notified.append(named)
            lines = [f"SNS -> operators: {message.subject}  (account attribute {message.attributes.get('account')})"]
            if outcome not in self._emailed:
                self._emailed.add(outcome)
                lines += ["email as an operator receives it:", *(f"| {line}" for line in demo.email_text(message))]
            self.timeline.say(*lines)


def _forwarding_rules(account: str, event: Mapping[str, Any], bus_arn: str) -> list[str]:
    """The rules of ``account``'s default bus that match ``event`` and target ``bus_arn``.

    Read from the emulator's EventBridge, with the matcher it delivers with: moto has
    no TestEventPattern, and no forwarding record is kept for a delivery that succeeds.
    """
    bus = events_backends[account][REGION].event_buses["default"]
    return [
        _short(rule.name)
        for rule in bus.rules.values()
        if rule.state == "ENABLED"
        and rule.event_pattern.matches_event(event)  # type: ignore[arg-type]
        and any(target["Arn"] == bus_arn for target in rule.targets)
    ]


# --------------------------------------------------------------------------- scenes


def cross_account(world: Organization) -> tuple[str, str]:
    world.fleet(WORKLOAD)
    link = f"{WORKLOAD}/{GROUP}"
    make_alarm(org.client("cloudwatch", MONITORING), ALARM, group=link)
    world.timeline.say(
        f"account {MONITORING} (monitoring): alarm {ALARM} tagged {GROUP_TAG}={link} -> ALARM",
        "no alarmTags in its event (tag propagation off, as in most accounts): the hub reads the tag there",
    )
    return world.put(MONITORING, alarm_event(ALARM), f"CloudWatch {MONITORING}: {ALARM} -> ALARM")


def role_refused(world: Organization) -> tuple[str, str]:
    refresh_id = world.fleet(REFUSING)
    world.timeline.say(f"account {REFUSING}: an administrator changed the member role's trust to its own account only")
    event = refresh_event("checkpoint-reached", GROUP, refresh_id)
    event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return world.put(REFUSING, event, f"Auto Scaling {REFUSING}: {GROUP} refresh checkpoint reached")


def outsider(world: Organization) -> tuple[str, str]:
    world.timeline.say(
        f"account {OUTSIDER}: not in the organization, yet it deployed the spoke template, "
        "so its rules target the hub bus"
    )
    tags = {GROUP_TAG: f"{WORKLOAD}/{GROUP}"}
    return world.put(OUTSIDER, alarm_event(ALARM, tags=tags), f"CloudWatch {OUTSIDER}: {ALARM} -> ALARM")


def _through_hub(account: str, spoke_rule: str, hub_rule: str) -> str:
    return f"{account} default bus -> spoke rule {spoke_rule} -> hub bus -> hub rule {hub_rule} -> function"


SCENES = (
    Scene(
        "cross-account",
        "an alarm in the monitoring account rolls back a refresh in the workload account, through the hub",
        Observation(
            _through_hub(MONITORING, "AlarmStateChange", "TriggersAlarmStateChange"),
            f"ROLLBACK_STARTED (alarm) in {WORKLOAD}",
            (WORKLOAD,),
            (f"ROLLBACK_STARTED for {WORKLOAD}",),
        ),
        cross_account,
    ),
    Scene(
        "role-refused",
        "a member account whose role refuses the hub: FAILED, published, never a silent skip",
        Observation(
            _through_hub(REFUSING, "InstanceRefresh", "TriggersInstanceRefresh"),
            f"FAILED (member-role-refused) in {REFUSING}; invocation failed, Lambda retries",
            (),
            (f"FAILED for {REFUSING}",),
        ),
        role_refused,
    ),
    Scene(
        "outsider",
        "an account outside the organization: the hub bus's policy refuses its events",
        Observation(
            f"{OUTSIDER} default bus -> spoke rule AlarmStateChange -> refused by the hub bus policy",
            "function not invoked",
            (),
            (),
        ),
        outsider,
    ),
)


def play(world: Organization, scene: Scene) -> dict[str, Any]:
    world.timeline.scene = scene.name
    world.notified = []
    world.timeline.say(f"== {scene.title}")
    before = len(refresh_api.calls(refresh_api.ROLLBACK))
    error = None
    try:
        route, decided = scene.play(world)
        rollbacks = tuple(call.account_id for call in refresh_api.calls(refresh_api.ROLLBACK)[before:] if call.ok)
        observed: Observation | None = Observation(route, decided, rollbacks, tuple(world.notified))
    except Exception as failure:  # one broken scene must not hide the others' results
        observed, error = None, f"{type(failure).__name__}: {failure}"
        world.timeline.say(f"!! the scene could not be played: {error}")
    return {
        "name": scene.name,
        "title": scene.title,
        "expected": asdict(scene.expected),
        "observed": asdict(observed) if observed else None,
        "ok": observed == scene.expected,
        "error": error,
        "timeline": world.timeline.of(scene.name),
    }


# --------------------------------------------------------------------------- the part


def run_part(*, echo: bool, verbose: bool) -> dict[str, Any]:
    """Set the organization up on a fresh emulator and play the scenes; the part's report."""
    timeline = demo.Timeline(echo=echo)
    timeline.scene = NAME
    hub_template, spoke, origin = load_templates()
    recorder = CallRecorder()
    recorder.install()  # before the function's session is built, so its calls are seen
    with demo._quiet(verbose), running_emulator() as emulator:
        emulator.reset()  # another emulator of this process may have run the per-account demo
        events_rules.reset()
        timeline.say(
            f"AWS emulator for the organization on {emulator.endpoint_url}; CDK hub template: {origin}",
            f"organization {org.ORGANIZATION_ID}: hub {HUB}, monitoring {MONITORING}, "
            f"workload {WORKLOAD}, member {REFUSING} (its role will refuse); "
            f"{OUTSIDER} is in no organization",
        )
        org.define_organization()
        for account in (MONITORING, WORKLOAD, REFUSING, OUTSIDER):
            org.deploy_spoke(spoke, account)
        org.refuse_hub(REFUSING)
        hub = deploy_hub(hub_template, verbose=verbose)
        spoke_rules = sorted(_short(name) for name, item in spoke["Resources"].items() if item["Type"] == RULE)
        timeline.say(
            f"spoke template (the StackSet's TemplateBody) deployed in {MONITORING}, {WORKLOAD}, "
            f"{REFUSING} and {OUTSIDER}: member role {member_role_name(REGION)}, forwarder role, "
            f"dead-letter queue, rules {', '.join(spoke_rules)} "
            f"-> {hub.bus_arn}",
            f"hub bus {HUB_BUS_NAME}, its policy: events:PutEvents if aws:PrincipalOrgID = {org.ORGANIZATION_ID}",
            f"hub rules {', '.join(_short(rule) for rule in hub.rules)} on it -> the function",
            f"function environment: MEMBER_ROLE_NAME={hub.environment.get('MEMBER_ROLE_NAME')}, "
            f"ALARM_ACCOUNTS={hub.environment.get('ALARM_ACCOUNTS')}, "
            f"MEMBER_ACCOUNTS={hub.environment.get('MEMBER_ACCOUNTS') or '(empty: the organization)'}; "
            f"it runs as a session of role {hub_role_name(REGION)}",
        )
        environment = {**hub.environment, **org.hub_credentials(REGION)}
        with configured(environment), demo._function_log_level(verbose):
            world = Organization(hub, timeline, recorder, quiet=not verbose)
            scenes = [play(world, scene) for scene in SCENES]
    return {
        "name": NAME,
        "title": TITLE,
        "ok": all(scene["ok"] for scene in scenes),
        "setup": timeline.of(NAME),
        "scenes": scenes,
    }


def print_summary(part: Mapping[str, Any], elapsed: float) -> None:
    width = max(len(scene["name"]) for scene in part["scenes"])
    print(f"\n{'organization':<{width}} {'result':<7} expected / observed")
    print(f"{'-' * width} {'-' * 7} {'-' * 70}")
    for scene in part["scenes"]:
        expected = Observation(**scene["expected"]).text()
        if scene["ok"]:
            print(f"{scene['name']:<{width}} {'ok':<7} {expected}")
            continue
        observed = Observation(**scene["observed"]).text() if scene["observed"] else f"error: {scene['error']}"
        print(f"{scene['name']:<{width}} {'DIFFERS':<7} expected: {expected}")
        print(f"{'':<{width}} {'':<7} observed: {observed}")
    passed = sum(scene["ok"] for scene in part["scenes"])
    verdict = "as expected" if part["ok"] else "NOT as expected"
    print(f"\n{passed}/{len(part['scenes'])} organization scenes behaved {verdict} ({elapsed:.1f} s)")
