"""``make demo`` and ``make invoke``, run the way a user runs them, so the demo cannot rot.

Each test starts ``python -m scripts.demo`` in its own process: the demo starts its
own emulator, which must not share moto's process-wide state with the tests' one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from devkit.scenarios.events import alarm_event
from infra import SAMPLE_EVENTS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The scenarios the README promises, in the order the demo plays them.
SCENARIOS = [
    "good-refresh",
    "bad-refresh",
    "alarm-storm",
    "maintenance-mute",
    "latest-refresh",
    "dry-run-group",
    "disabled-group",
    "manual-evaluate",
    "manual-rollback",
    "fleet-inventory",
]

pytestmark = pytest.mark.slow


def run_demo(*arguments: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.demo", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,  # the first run on a fresh clone also synthesizes the stack
        check=False,
    )


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The single JSON document --json prints; anything else on stdout (a log line) fails here."""
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def explained(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"


def test_every_scenario_is_observed_as_expected() -> None:
    # Given a fresh emulator, the synthesized stack and the demo fleet
    # When the whole demo runs, for scripts
    done = run_demo("--json")
    # Then it exits 0, and every scenario saw exactly what it expected
    assert done.returncode == 0, explained(done)
    report = as_json(done)
    assert report["ok"] is True
    assert [scenario["name"] for scenario in report["scenarios"]] == SCENARIOS
    for scenario in report["scenarios"]:
        assert scenario["observed"] == scenario["expected"], scenario["name"]
    # And the storm rolled back exactly once
    storm = next(scenario for scenario in report["scenarios"] if scenario["name"] == "alarm-storm")
    assert storm["observed"]["rollbacks"] == 1
    # And the rules were created from the synthesized template's two rules
    setup = json.dumps(report["setup"])
    assert "CDK template" in setup
    assert "TriggersAlarmStateChange" in setup
    assert "TriggersInstanceRefresh" in setup


def test_one_scenario_by_name_narrates_the_rollback_quietly() -> None:
    # When one scenario is asked for, with the default (quiet) narration
    done = run_demo("--scenario", "bad-refresh")
    # Then only it is played, the decision and the operator's email are shown
    assert done.returncode == 0, explained(done)
    assert "-> ROLLBACK_STARTED (alarm)  web-prod" in done.stdout
    assert "email as an operator receives it:" in done.stdout
    assert "| Subject: [auto-rollback] ROLLBACK_STARTED web-prod - alarm web-prod-5xx" in done.stdout
    assert "alarm web-prod-5xx -> OK" in done.stdout  # the rule filters the OK transition out
    assert "1/1 scenarios behaved as expected" in done.stdout
    assert "good-refresh" not in done.stdout
    # And no Powertools JSON (logs or metrics) reaches the terminal
    assert '"level"' not in done.stdout
    assert "CloudWatchMetrics" not in done.stdout


def test_an_alarm_event_file_goes_through_the_rules_to_a_rollback(tmp_path: Path) -> None:
    # Given an alarm event file, as an operator would copy it from an account
    event_file = tmp_path / "alarm.json"
    event_file.write_text(json.dumps(alarm_event("web-prod-5xx")))
    # When it is invoked (its times moved to now, after the demo's refresh started)
    done = run_demo("--invoke", str(event_file), "--restamp", "--json")
    # Then the alarm rule delivered it and the function rolled back and published
    assert done.returncode == 0, explained(done)
    outcome = as_json(done)
    assert outcome["matchedRules"] == ["TriggersAlarmStateChange"]
    [result] = outcome["results"]
    assert (result["outcome"], result["reason"], result["autoScalingGroupName"]) == (
        "ROLLBACK_STARTED",
        "alarm",
        "web-prod",
    )
    assert outcome["published"] == ["ROLLBACK_STARTED"]


def test_a_muted_sample_stays_muted_when_restamped(tmp_path: Path) -> None:
    # Given AWS's muted sample event (window in January 2026), renamed to a fleet alarm
    event = json.loads((SAMPLE_EVENTS_DIR / "alarm-metric-muted.json").read_text())
    event["detail"]["alarmName"] = "web-prod-5xx"
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-prod-5xx"]
    event_file = tmp_path / "muted.json"
    event_file.write_text(json.dumps(event))
    # When it is invoked with its times moved to now
    done = run_demo("--invoke", str(event_file), "--restamp", "--json")
    # Then its mute window moved with them, around the state change: still muted, nothing changed or published
    assert done.returncode == 0, explained(done)
    [result] = as_json(done)["results"]
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "alarm-muted")
    assert as_json(done)["published"] == []
    window = result["details"]["mutedBy"]
    changed_at = datetime.fromisoformat(result["trigger"]["stateChangedAt"])
    assert datetime.fromisoformat(window["windowStart"]) <= changed_at < datetime.fromisoformat(window["windowEnd"])


def test_an_event_no_rule_matches_never_reaches_the_function() -> None:
    done = run_demo("--invoke", str(SAMPLE_EVENTS_DIR / "unrelated-instance-launch.json"), "--json")
    assert done.returncode == 0, explained(done)
    outcome = as_json(done)
    assert (outcome["matchedRules"], outcome["results"]) == ([], [])


def test_list_and_unknown_scenario() -> None:
    listed = run_demo("--list")
    assert listed.returncode == 0, explained(listed)
    # The organization part (tests/integration/test_demo_organization.py) is listed last.
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [*SCENARIOS, "organization"]
    unknown = run_demo("--scenario", "no-such-thing")
    assert unknown.returncode == 2
    assert "unknown scenario no-such-thing" in unknown.stderr


def test_the_demo_deploys_the_template_cdk_json_describes(tmp_path: Path) -> None:
    # Given the template the tests check (cdk.json's context, as the CDK CLI passes it to the app)
    from devkit.template.cache import synthesize
    from devkit.template.synth import synth_template

    expected = synth_template(tmp_path)

    # When the demo synthesizes the stack it deploys on the emulator
    demo_template = synthesize()

    # Then it is the same template: cdk.json's options and feature flags reach the demo too
    assert demo_template["Resources"] == expected["Resources"]


def test_with_several_regions_the_demo_deploys_the_emulators_region(tmp_path: Path) -> None:
    # Given a configuration that lists two regions (one stack each)
    from devkit.template.synth import synth_template

    # When the template is taken for the emulator's region, as the demo does
    template = synth_template(tmp_path, {"regions": ["eu-west-1", "us-east-1"]}, region="us-east-1")

    # Then it is that region's stack, not a failure to choose (the dashboard is named for its region)
    names = [
        resource["Properties"]["DashboardName"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    assert names == ["AutoRollback-us-east-1"]
