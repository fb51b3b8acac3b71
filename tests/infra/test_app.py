"""cdk.json options and app.py: one stack per listed region, every option validated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devkit.template.synth import REPO_ROOT, build, cdk_json_context
from infra.config import ConfigError, Settings


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


def test_one_stack_per_listed_region(tmp_path: Path) -> None:
    # Given three regions in the context
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]

    # When the app is built
    _, stacks = build(tmp_path, {"regions": regions})

    # Then each region gets its own stack, named after it, in the same account
    assert [(stack.stack_name, stack.region) for stack in stacks] == [
        (f"AutoRollback-{region}", region) for region in regions
    ]
    assert {stack.account for stack in stacks} == {"123456789012"}


def test_no_region_listed_means_the_profile_region(tmp_path: Path) -> None:
    # Given regions = [] (cdk.json's default)
    # When the app is built
    _, stacks = build(tmp_path)

    # Then one stack named AutoRollback goes to the CLI profile's region
    assert [(stack.stack_name, stack.region) for stack in stacks] == [("AutoRollback", "us-east-1")]


def test_regions_may_be_given_on_the_command_line(tmp_path: Path) -> None:
    # Given `-c regions=eu-west-1,eu-central-1` (a string, as the CLI passes it)
    # When the app is built
    _, stacks = build(tmp_path, {"regions": "eu-west-1,eu-central-1"})

    # Then both regions get a stack
    assert [stack.region for stack in stacks] == ["eu-west-1", "eu-central-1"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"dryRun": "true"}, {"dry_run": True}),
        ({"reservedConcurrency": "10"}, {"reserved_concurrency": 10}),
        ({"reservedConcurrency": "none"}, {"reserved_concurrency": None}),
        ({"powertoolsLayerVersion": "40"}, {"powertools_layer_version": 40}),
        ({"powertoolsLayerVersion": "latest"}, {"powertools_layer_version": "latest"}),
        (
            {"notificationEmails": "a@example.com,b@example.com"},
            {"notification_emails": ("a@example.com", "b@example.com")},
        ),
        ({"notificationEmails": '["a@example.com"]'}, {"notification_emails": ("a@example.com",)}),
        ({"consoleTestEvents": "false"}, {"console_test_events": False}),
    ],
)
def test_command_line_strings_are_understood(raw: dict[str, Any], expected: dict[str, Any]) -> None:
    # Given an option passed with -c (always a string)
    # When it is read
    settings = Settings.from_mapping(raw)

    # Then it has its typed value
    for attribute, value in expected.items():
        assert getattr(settings, attribute) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"dryRun": "yes"}, "dryRun"),
        ({"irreversibleFallback": "rollback"}, "irreversibleFallback"),
        ({"insufficientDataAction": "alarm"}, "insufficientDataAction"),
        ({"notificationEmails": ["not-an-email"]}, "notificationEmails"),
        ({"powertoolsLayerVersion": 0}, "powertoolsLayerVersion"),
        ({"powertoolsLayerVersion": "newest"}, "powertoolsLayerVersion"),
        ({"regions": ["eu-west-1", "eu-west-1"]}, "regions"),
        ({"regions": ["Europe"]}, "regions"),
        ({"reservedConcurrency": 0}, "reservedConcurrency"),
        ({"consoleTestEvents": 1}, "consoleTestEvents"),
    ],
)
def test_invalid_options_stop_the_synth_with_the_option_named(raw: dict[str, Any], message: str) -> None:
    # Given an option with a value the stack cannot deploy
    # When it is read
    # Then synth stops, naming the option
    with pytest.raises(ConfigError, match=message):
        Settings.from_mapping(raw)
