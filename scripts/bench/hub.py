"""Section 10 of ``make bench``: the hub's critical path, cold and warm, against per-account mode's.

In hub mode (docs/DEPLOY.md, "Organization mode") the function acts in each event's
account through that account's member role. A new container assumes the role of
every account it reads or acts in, once (``auto_rollback.members.MemberSessions``), and
then reads exactly as per-account mode does. Targets: a warm container makes the
same calls as per-account mode for the same kind of event (as multisets: an alarm
event's reads run in parallel threads); a cold one adds exactly one
``sts:AssumeRole`` per account it needs, and nothing else.

The member accounts hold the spoke template that the hub stack's StackSet deploys
(synthesized once and cached with the demo's templates), the function runs with a
session of the hub role, and the same emulator measures per-account mode just
before, with the scenarios of section 1 (``paths``).

``python -m scripts.bench.hub`` prints this section alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from auto_rollback.vocabulary import ALARM_GROUP_TAG, MODE_TAG, GroupMode, member_role_name
from devkit.aws.aws_server import REGION, AwsEmulator
from devkit.scenarios import organization as org
from devkit.scenarios.calls import ROLLBACK, Call, CallRecorder, critical_path, tally
from devkit.scenarios.events import alarm_event, from_account
from devkit.scenarios.fleet import make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import configured, invoke
from devkit.scenarios.quiet import quiet_stdout
from devkit.scenarios.world import fresh_world
from scripts.bench import paths
from scripts.bench.common import Report, Row, multiset

SECTION = "10. Hub mode"
ASSUME_ROLE = "sts:AssumeRole"


@dataclass(frozen=True)
class HubScenario:
    """An alarm of ``alarm_account`` linking a group of ``group_account``, the same kind as per-account ``baseline``."""

    key: str
    title: str
    alarm_account: str
    group_account: str
    #: Whether the event carries alarmTags (alarm tag propagation on): without them the alarm's tags are read.
    with_tags: bool
    #: The section-1 scenario (``paths``) making the same reads in per-account mode.
    baseline: str
    #: The accounts whose role a cold container must assume: where it reads, and where it acts.
    needs: tuple[str, ...]


SCENARIOS = (
    HubScenario(
        "hub-monitoring-tags",
        "Monitoring account's alarm (alarmTags) linking a workload group",
        org.MONITORING,
        org.WORKLOAD,
        with_tags=True,
        baseline="alarm-tags",
        # The link is in the event, but the groups linked by prefix are the alarm's account's: both roles.
        needs=(org.MONITORING, org.WORKLOAD),
    ),
    HubScenario(
        "hub-monitoring-lookup",
        "Monitoring account's alarm (no alarmTags) linking a workload group",
        org.MONITORING,
        org.WORKLOAD,
        with_tags=False,
        baseline="alarm-lookup",
        needs=(org.MONITORING, org.WORKLOAD),  # the alarm's tags are read where the alarm is
    ),
    HubScenario(
        "hub-own-tags",
        "Workload account's own alarm (alarmTags)",
        org.WORKLOAD,
        org.WORKLOAD,
        with_tags=True,
        baseline="alarm-tags",
        needs=(org.WORKLOAD,),
    ),
)


def _baseline(emulator: AwsEmulator, recorder: CallRecorder, key: str) -> dict[str, int]:
    """Per-account mode's calls before the rollback call for section 1's scenario ``key``, measured now."""
    (scenario,) = [item for item in paths.SCENARIOS if item.key == key]
    deployment, aws = fresh_world(emulator, "per-account")
    event = scenario.prepare(aws)
    with configured(deployment.environment), quiet_stdout(), recorder.recording() as calls:
        outcome = invoke(event)["outcome"]
    if outcome != "ROLLBACK_STARTED":
        raise RuntimeError(f"per-account scenario {key} did not roll back: {outcome}")
    return tally(critical_path(calls))


def _hub(emulator: AwsEmulator, spoke: dict[str, Any]) -> dict[str, str]:
    """A fresh emulator holding the organization, the spokes and the hub's resources; the function's environment."""
    deployment, _ = fresh_world(emulator, "hub")
    org.define_organization()
    for account in (org.MONITORING, org.WORKLOAD):
        org.deploy_spoke(spoke, account)
    # ALARM_ACCOUNTS lets the monitoring account's alarms link other accounts' groups (docs/DEPLOY.md).
    settings = {"MEMBER_ROLE_NAME": member_role_name(REGION), "ALARM_ACCOUNTS": org.MONITORING}
    return {**deployment.environment, **settings, **org.hub_credentials(REGION)}


def _event(scenario: HubScenario, group: str) -> dict[str, Any]:
    """The group mid-refresh in its account, and its alarm, in ALARM since after the start, in the alarm's."""
    autoscaling = org.client("autoscaling", scenario.group_account)
    fleet = make_fleet(
        org.client("ec2", scenario.group_account), autoscaling, group, tags={MODE_TAG: GroupMode.ENABLED.value}
    )
    start_refresh(autoscaling, fleet)
    link = group if scenario.alarm_account == scenario.group_account else f"{scenario.group_account}/{group}"
    name = f"{group}-5xx"
    make_alarm(org.client("cloudwatch", scenario.alarm_account), name, group=link)
    event = alarm_event(name, tags={ALARM_GROUP_TAG: link} if scenario.with_tags else None)
    return from_account(event, scenario.alarm_account)


def _measure(
    emulator: AwsEmulator, recorder: CallRecorder, spoke: dict[str, Any], scenario: HubScenario
) -> tuple[list[Call], list[Call]]:
    """Calls before the rollback call for a new container's first event, then for a second one (warm)."""
    environment = _hub(emulator, spoke)
    found: list[list[Call]] = []
    with configured(environment), quiet_stdout():  # one container: a new one only when configured again
        for group in ("hub-first", "hub-second"):
            event = _event(scenario, group)
            with recorder.recording() as calls:
                result = invoke(event)
            if (result["outcome"], result.get("account")) != ("ROLLBACK_STARTED", scenario.group_account):
                raise RuntimeError(f"{scenario.key} did not roll back in {scenario.group_account}: {result}")
            found.append(critical_path(calls))
    return found[0], found[1]


def _assumed(calls: Sequence[Call]) -> list[str]:
    """The accounts whose role the calls assumed, in order."""
    return [call.params["RoleArn"].split(":")[4] for call in calls if call.name == ASSUME_ROLE]


def measure_hub_paths(emulator: AwsEmulator, recorder: CallRecorder, report: Report) -> None:
    """Each hub scenario cold and warm, beside per-account mode's calls for the same kind of event."""
    spoke = spoke_template()
    baselines = {key: _baseline(emulator, recorder, key) for key in sorted({item.baseline for item in SCENARIOS})}
    paths: dict[str, Any] = {}
    for scenario in SCENARIOS:
        cold, warm = _measure(emulator, recorder, spoke, scenario)
        baseline = baselines[scenario.baseline]
        assumed = _assumed(cold)
        cold_met = tally(cold) == dict(
            sorted((Counter(baseline) + Counter({ASSUME_ROLE: len(scenario.needs)})).items())
        )
        cold_met = cold_met and sorted(assumed) == sorted(scenario.needs)
        warm_met = tally(warm) == baseline
        paths[scenario.key] = {
            "title": scenario.title,
            "baseline_key": scenario.baseline,
            "baseline": baseline,
            "cold": tally(cold),
            "warm": tally(warm),
            "assumed": assumed,
            "needs": list(scenario.needs),
        }
        base = sum(baseline.values())
        report.rows.append(
            Row(
                SECTION,
                f"{scenario.title}, new container: calls before the rollback call",
                f"{len(cold)} calls, {len(assumed)} {ASSUME_ROLE} ({', '.join(assumed)})",
                f"per-account {base} + 1 {ASSUME_ROLE} per account needed ({len(scenario.needs)})",
                cold_met,
            )
        )
        report.rows.append(
            Row(
                SECTION,
                f"{scenario.title}, warm container",
                f"{len(warm)} calls, {len(_assumed(warm))} {ASSUME_ROLE}",
                f"same calls as per-account mode ({base})",
                warm_met,
            )
        )
    report.figures["hub_paths"] = paths


def render_calls(report: Report) -> list[str]:
    """The hub scenarios' calls before RollbackInstanceRefresh, beside per-account mode's (multisets)."""
    paths = report.figures.get("hub_paths")
    if not paths:
        return []
    lines = [
        f"Hub mode, calls before {ROLLBACK} (multisets), beside per-account mode's for the same kind of event:",
        "",
    ]
    for path in paths.values():
        lines.append(
            f"- {path['title']}: new container {multiset(path['cold'])}; warm {multiset(path['warm'])}; "
            f"per-account ({path['baseline_key']}) {multiset(path['baseline'])}"
        )
    return lines


def spoke_template() -> dict[str, Any]:
    """The spoke template of the hub stack's StackSet, from the demo's cache (synthesized once per source change)."""
    from devkit.template.cache import load_hub_templates

    _, spoke, _ = load_hub_templates(org.MONITORING)
    return spoke


def main(argv: Sequence[str] | None = None) -> int:
    from devkit.aws.aws_server import running_emulator

    parser = argparse.ArgumentParser(prog="python -m scripts.bench.hub", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    report = Report(quick=False)
    recorder = CallRecorder()
    recorder.install()
    with running_emulator() as emulator:
        measure_hub_paths(emulator, recorder, report)
    print("| Section | Measure | Figure | Target | |\n|---|---|---|---|---|")
    for row in report.rows:
        print(f"| {row.section} | {row.measure} | {row.figure} | {row.target} | {row.verdict} |")
    print("", *render_calls(report), sep="\n")
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str), encoding="utf-8")
    return 0 if all(row.met is not False for row in report.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
