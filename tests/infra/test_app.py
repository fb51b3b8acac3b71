"""cdk.json and app.py: one stack per listed region, all named AutoRollback, only where the layer exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devkit.template.synth import REPO_ROOT, build, cdk_json_context
from infra.app import REGION_RULE_DESCRIPTION
from infra.config import SUPPORTED_REGIONS, ConfigError, Settings


def test_cdk_json_runs_the_app_with_the_project_venv() -> None:
    # Given cdk.json
    config = json.loads((REPO_ROOT / "cdk.json").read_text())

    # When the CLI reads how to run the app
    # Then it uses the venv's Python (the Makefile does not activate it)
    assert config["app"] == ".venv/bin/python app.py"


def test_cdk_json_defaults_are_the_documented_ones() -> None:
    # Given cdk.json's options
    settings = Settings.from_mapping(cdk_json_context())

    # When they are read
    # Then they are the safe defaults the deploy guide describes
    assert settings == Settings()
    assert settings.alarm_states == ("ALARM",)


def test_one_stack_per_listed_region_all_named_autorollback(tmp_path: Path) -> None:
    # Given three regions in the context
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]

    # When the app is built
    _, stacks = build(tmp_path, {"regions": regions})

    # Then each region gets its own stack (selected by `cdk deploy AutoRollback-<region>`), in the
    # same account, and CloudFormation names every one of them AutoRollback
    assert [(stack.artifact_id, stack.stack_name, stack.region) for stack in stacks] == [
        (f"AutoRollback-{region}", "AutoRollback", region) for region in regions
    ]
    assert {stack.account for stack in stacks} == {"123456789012"}


def test_no_region_listed_means_the_profile_region(tmp_path: Path) -> None:
    # Given regions = [] (cdk.json's default)
    # When the app is built
    _, stacks = build(tmp_path)

    # Then one stack named AutoRollback goes to the CLI profile's region
    assert [(stack.artifact_id, stack.stack_name, stack.region) for stack in stacks] == [
        ("AutoRollback", "AutoRollback", "us-east-1")
    ]


def test_listing_regions_later_updates_the_stack_already_deployed(tmp_path: Path) -> None:
    # Given a deployment made with regions = [] from a us-east-1 profile
    _, before = build(tmp_path / "before")

    # When the same account lists us-east-1 and eu-west-1
    _, after = build(tmp_path / "after", {"regions": ["us-east-1", "eu-west-1"]})

    # Then us-east-1 gets a stack of the same name (CloudFormation updates it) rather than a second one
    assert {(stack.stack_name, stack.region) for stack in before} <= {
        (stack.stack_name, stack.region) for stack in after
    }


def test_regions_may_be_given_on_the_command_line(tmp_path: Path) -> None:
    # Given `-c regions=eu-west-1,eu-central-1` (a string, as the CLI passes it)
    # When the app is built
    _, stacks = build(tmp_path, {"regions": "eu-west-1,eu-central-1"})

    # Then both regions get a stack
    assert [stack.region for stack in stacks] == ["eu-west-1", "eu-central-1"]


def test_a_profile_region_without_the_layer_stops_the_synth(tmp_path: Path) -> None:
    # Given regions = [] and an AWS profile in a region where the layer is not published
    # When the app is built
    # Then synth stops, saying where the region came from
    with pytest.raises(ConfigError, match="AWS profile's region: 'ap-southeast-6' is not a region"):
        build(tmp_path, environment={"region": "ap-southeast-6"})


@pytest.mark.parametrize("region", [None, "eu-west-1"], ids=["environment-agnostic", "region-known"])
def test_the_template_itself_refuses_other_regions(tmp_path: Path, region: str | None) -> None:
    # Given the app synthesized with or without a known region (a template may be deployed by hand)
    app, (stack,) = build(tmp_path, environment={"account": None, "region": region})

    # When its Rules are read
    rule = app.synth().get_stack_artifact(stack.artifact_id).template["Rules"]["SupportedRegion"]

    # Then CloudFormation checks the region against the allow-list before creating anything
    assert rule == {
        "Assertions": [
            {
                "Assert": {"Fn::Contains": [list(SUPPORTED_REGIONS), {"Ref": "AWS::Region"}]},
                "AssertDescription": REGION_RULE_DESCRIPTION,
            }
        ]
    }
    assert "python3.13 on arm64" in REGION_RULE_DESCRIPTION


def test_the_summary_says_what_is_wrong_with_the_options_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a misspelt option, as an operator checks the template before deploying
    from infra.summary import main

    # When the summary is asked for
    status = main(["-c", "dryrun=true"])

    # Then it stops with the line `cdk synth` prints, not a traceback
    assert status == 1
    assert capsys.readouterr().err == (
        "auto-rollback configuration error: unknown context key 'dryrun': did you mean 'dryRun'?\n"
    )
