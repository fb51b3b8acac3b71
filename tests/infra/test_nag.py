"""cdk-nag's AWS Solutions checks: no finding left unacknowledged, every acknowledgment explained.

Kept apart from the other infra tests: with the plugin registered, synthesis
raises on any finding (which is the point) and Template.from_stack cannot be used.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from devkit.template.synth import build


@pytest.mark.parametrize(
    "environment",
    [{}, {"account": "210987654321", "region": "eu-west-1"}, {"account": None, "region": None}],
    ids=["test-account", "another-account-and-region", "no-credentials"],
)
def test_aws_solutions_checks_pass(tmp_path: Path, environment: dict[str, str | None]) -> None:
    # Given the app with the AWS Solutions pack, as app.py registers it
    app, _ = build(tmp_path, environment=environment)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    # When it is synthesized
    app.synth()

    # Then no violation is left (synth would have raised ValidationFailed), and every
    # acknowledgment still matches a finding (none is stale)
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["pluginName"] == "AwsSolutions"
    assert report["violations"] == []
    assert len(report["suppressedViolations"]) == 6


def test_every_acknowledgment_gives_a_reason(tmp_path: Path) -> None:
    # Given the app's constructs
    app, _ = build(tmp_path)

    # When the acknowledgments recorded on them are collected
    acknowledged = {
        rule: reason
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    }

    # Then each names an AWS Solutions rule and explains itself in a sentence or more
    assert sorted(rule.split("[")[0] for rule in acknowledged) == [
        "AwsSolutions::AwsSolutions-IAM4",
        "AwsSolutions::AwsSolutions-IAM5",
        "AwsSolutions::AwsSolutions-IAM5",
        "AwsSolutions::AwsSolutions-IAM5",
        "AwsSolutions::AwsSolutions-L1",
        "AwsSolutions::AwsSolutions-SQS3",
    ]
    for rule, reason in acknowledged.items():
        assert len(reason.split()) >= 15, f"{rule}: the reason is too short to be one"


def test_aws_solutions_checks_pass_for_a_dry_run_deployment(tmp_path: Path) -> None:
    # Given the app deployed with dryRun = true, whose role has no rollback statement
    app, _ = build(tmp_path, {"dryRun": True})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    # When it is synthesized
    app.synth()

    # Then nothing is left unacknowledged, and the group-ARN wildcard is neither found nor acknowledged
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["violations"] == []
    assert len(report["suppressedViolations"]) == 5
    assert "autoScalingGroup" not in json.dumps(report)


HUB_CONTEXT = {
    "stackSetRegion": "eu-west-1",
    "mode": "hub",
    "organizationId": "o-a1b2c3d4e5",
    "organizationalUnitIds": ["ou-ab12-cd34ef56"],
    "regions": ["eu-west-1", "us-east-1"],
}


def test_aws_solutions_checks_pass_for_the_hub(tmp_path: Path) -> None:
    # Given the app in hub mode, two regions (the first with the StackSet), with the AWS Solutions pack
    app, _ = build(tmp_path, HUB_CONTEXT)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    # When it is synthesized
    app.synth()

    # Then nothing is left unacknowledged, and the hub role's only wildcards are X-Ray's and the member role's account
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["violations"] == []
    suppressed = json.dumps(report["suppressedViolations"])
    assert "auto-rollback-member-eu-west-1" in suppressed and "autoScalingGroup" not in suppressed


def test_aws_solutions_checks_pass_for_the_spoke(tmp_path: Path) -> None:
    # Given the spoke's own app, with the AWS Solutions pack
    from infra.config import Settings
    from infra.spoke import build_spoke

    app = cdk.App(outdir=str(tmp_path), analytics_reporting=False)
    build_spoke(app, Settings.from_mapping(HUB_CONTEXT))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    # When it is synthesized
    app.synth()

    # Then nothing is left unacknowledged: the member role's three wildcards and the dead-letter queue's SQS3,
    # each with its reason
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["violations"] == []
    assert len(report["suppressedViolations"]) == 4
