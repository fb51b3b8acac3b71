"""``make demo``'s organization part, run the way a user runs it, so the hub-and-spoke demo cannot rot.

Each test starts ``python -m scripts.demo --scenario organization`` in its own process:
the demo starts its own emulator, which must not share moto's process-wide state
with the tests' one.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devkit.scenarios.organization import MONITORING, OUTSIDER, REFUSING, WORKLOAD
from tests.integration import test_demo as demo_tests

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENES = ["cross-account", "role-refused", "outsider"]

pytestmark = pytest.mark.slow


def run_demo(*arguments: str) -> subprocess.CompletedProcess[str]:
    # The first run on a fresh clone also synthesizes the hub stack.
    return demo_tests.run_demo(*arguments, timeout=240)


def explained(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def part() -> dict[str, Any]:
    """The organization part alone, for scripts: one JSON document."""
    done = run_demo("--scenario", "organization", "--json")
    assert done.returncode == 0, explained(done)
    document: dict[str, Any] = json.loads(done.stdout)
    assert document["ok"] is True
    assert document["scenarios"] == []  # the per-account scenarios were not asked for
    organization: dict[str, Any] = document["organization"]
    return organization


def scene(part: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [item for item in part["scenes"] if item["name"] == name]
    return found


def narration(item: dict[str, Any]) -> str:
    return "\n".join("\n".join([entry["text"], *entry["more"]]) for entry in item["timeline"])


def test_every_scene_is_observed_as_expected(part: dict[str, Any]) -> None:
    # Given the hub template's bus, rules and function, and the StackSet's spoke template in four accounts
    # When the organization part is played
    # Then every scene saw exactly what it expected, in order
    assert [item["name"] for item in part["scenes"]] == SCENES
    for item in part["scenes"]:
        assert item["observed"] == item["expected"], item["name"]
    setup = json.dumps(part["setup"])
    assert "CDK hub template" in setup
    assert "aws:PrincipalOrgID = o-a1b2c3d4e5" in setup


def test_a_monitoring_alarm_rolls_back_the_workload_refresh_through_the_hub(part: dict[str, Any]) -> None:
    # Given a workload group mid-refresh, and a monitoring account's alarm linking it by account
    played = scene(part, "cross-account")
    # When the alarm's event is put on the monitoring account's default bus
    observed = played["observed"]
    # Then it went through the spoke rule to the hub bus, and the hub rule delivered it to the function
    assert observed["route"].startswith(f"{MONITORING} default bus -> spoke rule AlarmStateChange -> hub bus")
    assert observed["route"].endswith("hub rule TriggersAlarmStateChange -> function")
    # And the workload account's refresh, and only it, was rolled back, with the workload account's own role
    assert observed["rollbacks"] == [WORKLOAD]
    text = narration(played)
    assert f"sts:AssumeRole arn:aws:iam::{WORKLOAD}:role/auto-rollback-member-us-east-1" in text
    assert f"RollbackInstanceRefresh checkout-prod in {WORKLOAD} -> ok" in text
    # And the operator's email names the account
    assert observed["notified"] == [f"ROLLBACK_STARTED for {WORKLOAD}"]
    assert f"Account / region:  {WORKLOAD} / us-east-1" in text


def test_a_member_whose_role_refuses_is_a_published_failure(part: dict[str, Any]) -> None:
    # Given a member whose role no longer trusts the hub, its refresh at a checkpoint
    played = scene(part, "role-refused")
    # When its event reaches the hub through its spoke
    observed = played["observed"]
    assert observed["route"].endswith("hub rule TriggersInstanceRefresh -> function")
    # Then the invocation fails (Lambda retries it) and FAILED member-role-refused is published, naming the account
    assert observed["decision"] == f"FAILED (member-role-refused) in {REFUSING}; invocation failed, Lambda retries"
    assert observed["notified"] == [f"FAILED for {REFUSING}"]
    assert observed["rollbacks"] == []
    assert f"arn:aws:iam::{REFUSING}:role/auto-rollback-member-us-east-1" in narration(played)


def test_an_account_outside_the_organization_never_reaches_the_function(part: dict[str, Any]) -> None:
    # Given an account in no organization whose rule targets the hub bus
    played = scene(part, "outsider")
    # When its alarm's event is put on its default bus
    observed = played["observed"]
    # Then EventBridge refuses the delivery to the hub bus (its policy asks for the organization), and nothing runs
    refused = "spoke rule AlarmStateChange -> refused by the hub bus policy"
    assert observed["route"] == f"{OUTSIDER} default bus -> {refused}"
    assert observed["decision"] == "function not invoked"
    assert (observed["rollbacks"], observed["notified"]) == ([], [])
    assert "does not allow events:PutEvents from account 555555555555" in narration(played)


def test_the_narration_ends_with_expected_against_observed() -> None:
    # When the part is played for a person
    done = run_demo("--scenario", "organization")
    # Then the timeline is printed live, then the table, and the part exits 0
    assert done.returncode == 0, explained(done)
    assert "-> ROLLBACK_STARTED (alarm) in 333333333333" in done.stdout
    assert "3/3 organization scenes behaved as expected" in done.stdout
    assert "scenarios behaved" not in done.stdout  # the per-account scenarios were not played
    assert '"level"' not in done.stdout  # no Powertools JSON on the terminal
