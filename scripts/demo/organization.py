"""``make demo``'s organization part: one hub function protecting the accounts of an AWS Organization.

On an emulator of its own, it deploys the hub template's bus, rules, topics and table
in the hub account (:mod:`devkit.template.deploy_hub`) and the StackSet's spoke
template in member accounts and in an outsider, then plays three scenes through
EventBridge, hop by hop, with the function running as the hub role; it returns
expected against observed (docs/DEMO.md).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from contextlib import nullcontext, redirect_stdout
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.events.models import events_backends

from auto_rollback.actions import ActionFailedError
from auto_rollback.vocabulary import HUB_BUS_NAME, hub_role_name, member_role_name
from devkit.aws import events_rules, refresh_api
from devkit.aws.aws_server import REGION, running_emulator
from devkit.scenarios import organization as org
from devkit.scenarios.calls import CallRecorder
from devkit.scenarios.events import alarm_event, from_account, refresh_event
from devkit.scenarios.fleet import make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import configured, invoke
from devkit.scenarios.organization import HUB, MONITORING, OUTSIDER, REFUSING, WORKLOAD
from devkit.template.cache import load_hub_templates
from devkit.template.deploy_hub import Hub, deploy_hub
from devkit.template.resources import logical_name
from scripts.demo.report import Timeline, decision, email_text
from scripts.demo.stack import DemoError, function_log_level, quiet_environment, quiet_libraries

RULE = "AWS::Events::Rule"
NAME = "organization"
TITLE = "a monitoring account's alarm rolls back a workload account's refresh through the hub; refusals"
GROUP = "checkout-prod"
ALARM = "checkout-prod-5xx"
GROUP_TAG = "auto-rollback:group"
FUNCTION = "function"


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

    def __init__(self, hub: Hub, timeline: Timeline, recorder: CallRecorder, *, quiet: bool) -> None:
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
            raise DemoError(f"EventBridge refused the event in {account}: {answer['Entries'][0]}")
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
                f"{logical_name(delivery.rule)} -> {delivery.function_arn}"
            )
            hops += ["hub bus", f"hub rule {logical_name(delivery.rule)}", FUNCTION]
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
        headline = f"{decision(result)} in {result.get('account')}{failed}"
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
                lines += ["email as an operator receives it:", *(f"| {line}" for line in email_text(message))]
            self.timeline.say(*lines)


def _forwarding_rules(account: str, event: Mapping[str, Any], bus_arn: str) -> list[str]:
    """The rules of ``account``'s default bus that match ``event`` and target ``bus_arn``.

    Read from the emulator's EventBridge, with the matcher it delivers with: moto has
    no TestEventPattern, and no forwarding record is kept for a delivery that succeeds.
    """
    bus = events_backends[account][REGION].event_buses["default"]
    return [
        logical_name(rule.name)
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
    timeline = Timeline(echo=echo)
    timeline.scene = NAME
    hub_template, spoke, origin = load_hub_templates(MONITORING)
    recorder = CallRecorder()
    recorder.install()  # before the function's session is built, so its calls are seen
    with quiet_libraries(verbose), running_emulator() as emulator:
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
        hub = deploy_hub(hub_template)
        spoke_rules = sorted(logical_name(name) for name, item in spoke["Resources"].items() if item["Type"] == RULE)
        timeline.say(
            f"spoke template (the StackSet's TemplateBody) deployed in {MONITORING}, {WORKLOAD}, "
            f"{REFUSING} and {OUTSIDER}: member role {member_role_name(REGION)}, forwarder role, "
            f"dead-letter queue, rules {', '.join(spoke_rules)} "
            f"-> {hub.bus_arn}",
            f"hub bus {HUB_BUS_NAME}, its policy: events:PutEvents if aws:PrincipalOrgID = {org.ORGANIZATION_ID}",
            f"hub rules {', '.join(logical_name(rule) for rule in hub.rules)} on it -> the function",
            f"function environment: MEMBER_ROLE_NAME={hub.environment.get('MEMBER_ROLE_NAME')}, "
            f"ALARM_ACCOUNTS={hub.environment.get('ALARM_ACCOUNTS')}, "
            f"MEMBER_ACCOUNTS={hub.environment.get('MEMBER_ACCOUNTS') or '(empty: the organization)'}; "
            f"it runs as a session of role {hub_role_name(REGION)}",
        )
        environment = {**hub.environment, **quiet_environment(verbose), **org.hub_credentials(REGION)}
        with configured(environment), function_log_level(verbose):
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
