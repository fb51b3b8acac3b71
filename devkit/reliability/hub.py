"""The reliability checks in organization (hub) mode, shared by the tests and ``make reliability``.

The same promises as the single-account checks' (:mod:`devkit.reliability.storm`
and its siblings), where one function serves several member accounts through
their roles (docs/DEPLOY.md, "Organization mode"): one rollback per refresh *per account*, whatever the group names and
however the events are duplicated and interleaved; and a member whose role
refuses the hub fails loudly (FAILED published, the invocation fails so Lambda
retries it and the failure destination keeps it), without touching any other
account's events.

The world is what the StackSet and the hub stack build: the organization, the
spoke template synthesized from the app and created in each member account, and
the function running as a session of the hub role. Child processes get that
session's credentials in their environment, as Lambda containers get theirs.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from auto_rollback.vocabulary import ALARM_GROUP_TAG, MEMBER_ROLE_REFUSED, member_role_name
from devkit.aws import cloudwatch_api, refresh_api
from devkit.aws.aws_server import REGION, AwsEmulator
from devkit.reliability.lab import ALARM_AFTER_START, LAMBDA_ASYNC_RETRIES, REFRESH_AGE, Check
from devkit.scenarios import organization as org
from devkit.scenarios.events import alarm_event, from_account, refresh_event
from devkit.scenarios.fleet import make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import Deployment, Published, configured, invoke_concurrently

#: Deliveries of an event that keeps failing: the first, then Lambda's retries; the failure destination keeps it.
ATTEMPTS = 1 + LAMBDA_ASYNC_RETRIES


@cache
def spoke_template() -> dict[str, Any]:
    """The spoke template the hub stack's StackSet deploys (synthesized once per process: CDK takes seconds)."""
    from devkit.template.hub import hub_templates

    with tempfile.TemporaryDirectory() as outdir:
        return hub_templates(Path(outdir)).spoke


@dataclass
class HubStage:
    """A fresh organization with spokes in its members, and the hub function configured in this process."""

    deployment: Deployment
    #: The function's environment, with the hub role session's credentials: what each container gets.
    environment: dict[str, str]
    #: When this stage's refreshes started (whole seconds, as AWS shows them); alarms fire later, by construction.
    started: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - REFRESH_AGE)

    @property
    def alarm_at(self) -> datetime:
        return self.started + ALARM_AFTER_START

    def group(self, account: str, name: str, *, opted_in: bool = True, refreshing: bool = True) -> None:
        """A group of ``account`` (opted in or not), mid-refresh since :attr:`started` if ``refreshing``."""
        autoscaling = org.client("autoscaling", account)
        tags = {"auto-rollback": "enabled"} if opted_in else {}
        fleet = make_fleet(org.client("ec2", account), autoscaling, name, tags=tags)
        if refreshing:
            # start_refresh(at=) sets the time in the hub's account; the refresh is in the member's.
            refresh_id = start_refresh(autoscaling, fleet)
            refresh_api.set_start_time(name, self.started, refresh_id=refresh_id, account_id=account)

    def alarm_event(self, account: str, name: str, link: str) -> dict[str, Any]:
        """A real alarm of ``account`` tagged ``link``, in ALARM since :attr:`alarm_at`; its event, from ``account``."""
        make_alarm(org.client("cloudwatch", account), name, group=link, state=None)
        cloudwatch_api.set_state(name, "ALARM", transitioned_at=self.alarm_at, account_id=account)
        return from_account(alarm_event(name, at=self.alarm_at, tags={ALARM_GROUP_TAG: link}), account)

    def checkpoint_event(self, account: str, name: str) -> dict[str, Any]:
        refresh_id = refresh_api.refreshes(name, account_id=account)[0]["InstanceRefreshId"]
        return from_account(refresh_event("checkpoint-reached", name, refresh_id), account)

    def published(self) -> list[Published]:
        return self.deployment.published()


@contextmanager
def hub_stage(emulator: AwsEmulator, spoke: Mapping[str, Any] | None = None, **settings: str) -> Iterator[HubStage]:
    """Reset the emulator; build the organization, the spokes (the refusing member's locked), and the hub."""
    emulator.reset()
    refresh_api.reset()
    org.define_organization()
    for account in (org.MONITORING, org.WORKLOAD, org.REFUSING):
        org.deploy_spoke(spoke if spoke is not None else spoke_template(), account)
    org.refuse_hub(org.REFUSING)
    deployment = Deployment.create(MEMBER_ROLE_NAME=member_role_name(REGION), **settings)
    environment = {**deployment.environment, **org.hub_credentials(REGION)}
    with configured(environment):
        yield HubStage(deployment, environment)


@dataclass(frozen=True)
class Delivery:
    """Every event's answers, in the order of ``events``: first delivery, then Lambda's retries of failures."""

    events: Sequence[dict[str, Any]]
    answers: list[list[dict[str, Any]]]  # per event, one answer per attempt

    @property
    def kept(self) -> list[int]:
        """The events still failing after every attempt: what the on-failure destination keeps."""
        return [index for index, answers in enumerate(self.answers) if _failed(answers[-1])]

    @property
    def retried(self) -> int:
        return sum(1 for answers in self.answers if len(answers) > 1)


def _failed(answer: Mapping[str, Any]) -> bool:
    return bool(answer["outcome"] == "ERROR")


def deliver(environment: Mapping[str, str], events: Sequence[dict[str, Any]], *, processes: int) -> Delivery:
    """Deliver ``events`` from ``processes`` containers at once, then retry failures as Lambda does (twice)."""
    answered = invoke_concurrently(environment, events, processes=processes)
    # invoke_concurrently gives process 0's share (events[0::processes]) first, then process 1's...
    order = [index for share in range(processes) for index in range(share, len(events), processes)]
    answers: list[list[dict[str, Any]]] = [[] for _ in events]
    for index, answer in zip(order, answered, strict=True):
        answers[index].append(answer)
    failing = [index for index, got in enumerate(answers) if _failed(got[-1])]
    for _ in range(LAMBDA_ASYNC_RETRIES):
        if not failing:
            break
        again = invoke_concurrently(environment, [events[index] for index in failing], processes=1)
        for index, answer in zip(failing, again, strict=True):
            answers[index].append(answer)
        failing = [index for index in failing if _failed(answers[index][-1])]
    return Delivery(events, answers)


def rollbacks_by_account() -> Counter[tuple[str, str]]:
    """Accepted rollback and cancel calls, per (account, group): what changed, and where."""
    calls = [*refresh_api.calls(refresh_api.ROLLBACK), *refresh_api.calls(refresh_api.CANCEL)]
    return Counter((call.account_id, str(call.group_name)) for call in calls if call.ok)


def _off(observed: Mapping[tuple[str, str], int], expected: Mapping[tuple[str, str], int]) -> dict[str, int]:
    keys = sorted(set(observed) | set(expected))
    return {"/".join(key): observed.get(key, 0) for key in keys if observed.get(key, 0) != expected.get(key, 0)}


# --------------------------------------------------------------------------- storm across accounts

#: Group names that exist, opted in and mid-refresh, in both member accounts: distinct refreshes.
SHARED = ("web-prod", "api", "worker")
#: Opted in, no refresh (alarms must change nothing); and mid-refresh but not opted in.
IDLE, NOT_OPTED_IN = "idle", "legacy"
#: Groups of one account only.
ONLY = {org.WORKLOAD: "checkout", org.MONITORING: "metrics"}
#: The workload group that only the monitoring account's alarm links (``<account>/<group>``). The monitoring
#: account has a group of the same name with alarms of its own: a link resolved in the wrong account would
#: leave this one alone.
CROSS_LINKED = "api"


ACCOUNTS = (org.WORKLOAD, org.MONITORING)


@dataclass(frozen=True)
class _StormWorld:
    groups: dict[str, list[str]]  # per account
    expected: dict[tuple[str, str], int]  # (account, group) -> rollbacks: 1 for each opted-in refresh
    events: list[dict[str, Any]]
    cross: dict[str, Any]  # the monitoring alarm's event that links a workload group


def _storm_world(st: HubStage, alarms_per_group: int, copies: int) -> _StormWorld:
    groups: dict[str, list[str]] = {}
    expected: dict[tuple[str, str], int] = {}
    for account in ACCOUNTS:
        groups[account] = [*SHARED, ONLY[account], IDLE, NOT_OPTED_IN]
        for name in (*SHARED, ONLY[account]):
            st.group(account, name)
            expected[(account, name)] = 1
        st.group(account, IDLE, refreshing=False)
        st.group(account, NOT_OPTED_IN, opted_in=False)
    cross = st.alarm_event(org.MONITORING, f"{CROSS_LINKED}-cross-account-5xx", f"{org.WORKLOAD}/{CROSS_LINKED}")
    alarms: list[dict[str, Any]] = []
    # Round by round, each group's alarm in one account next to the same group's in the other, so that
    # equal names of the two accounts are handled at about the same time in different processes.
    for index in range(alarms_per_group):
        for name in [*SHARED, *ONLY.values(), IDLE, NOT_OPTED_IN]:
            for account in ACCOUNTS:
                if name in groups[account] and (account, name) != (org.WORKLOAD, CROSS_LINKED):
                    alarms.append(st.alarm_event(account, f"{name}-alarm-{index}", name))
                    if index == 0 and (account, name) == (org.MONITORING, CROSS_LINKED):
                        alarms.append(cross)  # next to the monitoring account's own group of that name
    # Each copy next to its original: handled by neighbouring processes at about the same time.
    events = [event for event in alarms for _ in range(copies)]
    return _StormWorld(groups, expected, events, cross)


def _notification_problems(messages: list[Published], expected: Mapping[tuple[str, str], int]) -> list[str]:
    """ROLLBACK_STARTED at least once per rollback, naming its account (docs/RELIABILITY.md); no FAILED."""
    started = [m for m in messages if m.body["outcome"] == "ROLLBACK_STARTED"]
    notified = Counter((m.body.get("account", "?"), m.body.get("autoScalingGroupName", "?")) for m in started)
    problems = []
    if wrong := {"/".join(key): n for key, n in notified.items() if key not in expected}:
        problems.append(f"ROLLBACK_STARTED for groups without a rollback: {wrong}")
    if missing := ["/".join(key) for key in expected if not notified.get(key)]:
        problems.append(f"no ROLLBACK_STARTED for {missing}")
    if failures := [m.subject for m in messages if m.body["outcome"] == "FAILED"]:
        problems.append(f"{len(failures)} FAILED notifications, e.g. {failures[0]}")
    if misfiled := [m.subject for m in started if m.attributes.get("account") != m.body.get("account")]:
        problems.append(f"account attribute differs from the message's: {misfiled[:3]}")
    return problems


def _refresh_problems(expected: Mapping[tuple[str, str], int]) -> list[str]:
    """Each opted-in refresh rolling back in its own account; the refreshes of groups not opted in untouched."""
    wanted = {key: "RollbackInProgress" for key in expected} | {(a, NOT_OPTED_IN): "Pending" for a in ACCOUNTS}
    found = {key: refresh_api.refreshes(key[1], account_id=key[0])[0]["Status"] for key in wanted}
    wrong = {"/".join(key): status for key, status in found.items() if status != wanted[key]}
    return [f"refreshes off: {wrong}"] if wrong else []


def hub_storm(
    emulator: AwsEmulator,
    *,
    alarms_per_group: int = 3,
    copies: int = 2,
    processes: int = 4,
    spoke: Mapping[str, Any] | None = None,
) -> Check:
    """Duplicated alarm events of two member accounts, with equal group names, from several processes at once."""
    with hub_stage(emulator, spoke, ALARM_ACCOUNTS=org.MONITORING) as st:
        world = _storm_world(st, alarms_per_group, copies)
        delivery = deliver(st.environment, world.events, processes=processes)
        errors = [answers[-1] for answers in delivery.answers if _failed(answers[-1])]
        rollbacks = rollbacks_by_account()
        messages = st.published()
        problems = []
        if errors:
            problems.append(f"{len(errors)} errors after retries, e.g. {errors[0]['error']}")
        if wrong := _off(rollbacks, world.expected):
            problems.append(f"rollbacks off: {wrong}")
        problems += _notification_problems(messages, world.expected)
        problems += _refresh_problems(world.expected)
        crossed = [
            (answers[-1]["outcome"], answers[-1].get("account"))
            for event, answers in zip(world.events, delivery.answers, strict=True)
            if event is world.cross
        ]
        if any(
            outcome not in {"ROLLBACK_STARTED", "DEDUPLICATED"} or account != org.WORKLOAD
            for outcome, account in crossed
        ):
            problems.append(f"the cross-account link answered {crossed}")
        per_account = Counter(account for account, _ in rollbacks.elements())
        started = sum(1 for m in messages if m.body["outcome"] == "ROLLBACK_STARTED")
        return Check(
            "hub",
            f"Hub: {len(world.events)} events of 2 member accounts, "
            f"{sum(len(names) for names in world.groups.values())} groups ({len(world.expected)} with an active "
            f"refresh, {len(SHARED)} names in both accounts, 1 linked across accounts), {processes} processes",
            f"{len(world.expected)} rollbacks, each in its group's own account; ROLLBACK_STARTED at least once for "
            "each, naming its account; 0 errors",
            f"{sum(rollbacks.values())} rollbacks ("
            + ", ".join(f"{per_account[account]} in {account}" for account in ACCOUNTS)
            + f"), {started} ROLLBACK_STARTED notifications naming their account, {len(errors)} errors"
            + (f" ({delivery.retried} failed invocations retried, as Lambda retries them)" if delivery.retried else "")
            + ("; " + ", ".join(problems) if problems else ""),
            held=not problems,
        )


# --------------------------------------------------------------------------- a member whose role refuses


def refusing_member(emulator: AwsEmulator, *, spoke: Mapping[str, Any] | None = None) -> Check:
    """A refusing member's alarm and checkpoint events, in one batch with other accounts' alarms."""
    role_arn = f"arn:aws:iam::{org.REFUSING}:role/{member_role_name(REGION)}"
    with hub_stage(emulator, spoke) as st:
        for account in (org.REFUSING, org.WORKLOAD, org.MONITORING):
            st.group(account, "web-prod")
        refused = [
            st.alarm_event(org.REFUSING, "web-prod-5xx", "web-prod"),
            st.checkpoint_event(org.REFUSING, "web-prod"),
        ]
        others = [st.alarm_event(account, "web-prod-5xx", "web-prod") for account in (org.WORKLOAD, org.MONITORING)]
        # Two containers, each serving a refused event and another account's, one in either order.
        events = [refused[0], others[0], others[1], refused[1]]
        refresh_api.clear_calls()  # from here on, every call is the function's
        delivery = deliver(st.environment, events, processes=2)
        by_event = dict(zip((id(event) for event in events), delivery.answers, strict=True))
        messages = st.published()
        failed = [m for m in messages if m.body["outcome"] == "FAILED"]
        problems = []
        for event in refused:
            answers = by_event[id(event)]
            if len(answers) != ATTEMPTS or not all(MEMBER_ROLE_REFUSED in str(a.get("error")) for a in answers):
                problems.append(f"{event['detail-type']}: answers {[a['outcome'] for a in answers]}")
        if sorted(delivery.kept) != sorted(events.index(event) for event in refused):
            problems.append(f"the failure destination keeps events {delivery.kept}")
        if len(failed) != ATTEMPTS * len(refused):
            problems.append(f"{len(failed)} FAILED notifications, not {ATTEMPTS * len(refused)} (one per attempt)")
        if unclear := [m.subject for m in failed if not _names_the_refusal(m, role_arn)]:
            problems.append(f"FAILED not naming {MEMBER_ROLE_REFUSED}, the account and the role: {unclear[:2]}")
        checkpoint_failures = [m for m in failed if m.body.get("autoScalingGroupName") == "web-prod"]
        if len(checkpoint_failures) != ATTEMPTS:
            problems.append(f"{len(checkpoint_failures)} FAILED name the checkpoint's group, not {ATTEMPTS}")
        rollbacks = rollbacks_by_account()
        expected = {(org.WORKLOAD, "web-prod"): 1, (org.MONITORING, "web-prod"): 1}
        if wrong := _off(rollbacks, expected):
            problems.append(f"rollbacks off: {wrong}")
        if touched := [call.action for call in refresh_api.calls() if call.account_id == org.REFUSING][:3]:
            problems.append(f"calls reached the refusing account: {touched}")
        for event in others:
            answers = by_event[id(event)]
            if [a["outcome"] for a in answers] != ["ROLLBACK_STARTED"] or answers[0].get("account") != event["account"]:
                problems.append(f"{event['account']}: answers {[(a['outcome'], a.get('account')) for a in answers]}")
        first_time = sum(1 for event in others if [a["outcome"] for a in by_event[id(event)]] == ["ROLLBACK_STARTED"])
        started = Counter(m.body.get("account") for m in messages if m.body["outcome"] == "ROLLBACK_STARTED")
        if set(started) != {org.WORKLOAD, org.MONITORING} or len(messages) != len(failed) + sum(started.values()):
            problems.append(f"other notifications: {[(m.body['outcome'], m.body.get('account')) for m in messages]}")
        return Check(
            "hub",
            f"Hub: a member whose role refuses: {len(refused)} events (alarm, checkpoint) in a batch with "
            f"{len(others)} of other accounts, 2 processes",
            f"each attempt fails with FAILED {MEMBER_ROLE_REFUSED} naming the account and role, {ATTEMPTS} attempts, "
            "kept by the failure destination; nothing rolled back there; the other accounts unaffected",
            f"{len(delivery.kept)}/{len(refused)} failed on all {ATTEMPTS} attempts and kept, {len(failed)}x FAILED "
            f"{MEMBER_ROLE_REFUSED} naming account and role, {rollbacks[(org.REFUSING, 'web-prod')]} rollbacks there; "
            f"other accounts: {sum(rollbacks.values())} rollbacks, {first_time}/{len(others)} events done at the "
            "first attempt" + ("; " + ", ".join(problems) if problems else ""),
            held=not problems,
            faults=len(refused) * ATTEMPTS,
        )


def _names_the_refusal(message: Published, role_arn: str) -> bool:
    body = message.body
    return (
        body.get("reason") == MEMBER_ROLE_REFUSED
        and body.get("account") == org.REFUSING
        and message.attributes.get("account") == org.REFUSING
        and role_arn in str(body.get("summary"))
    )
