"""Deploy guardrails: every context key, value and region is checked before anything is deployed."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from devkit.aws.aws_server import patched_environ
from devkit.template.synth import REPO_ROOT, build, cdk_json_context, synth_template
from infra.config import (
    OPTION_KEYS,
    SUPPORTED_REGIONS,
    ConfigError,
    Settings,
    context_of,
)
from infra.function import ARCHITECTURE, POWERTOOLS_SSM_PARAMETER, RUNTIME, powertools_version

# ---------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("dryrun", "dryRun"),
        ("DRYRUN", "dryRun"),
        ("dryRn", "dryRun"),
        ("reservedConcurency", "reservedConcurrency"),
        ("region", "regions"),
        ("notificationEmail", "notificationEmails"),
        ("mutedAlarmActions", "mutedAlarmAction"),
    ],
)
def test_a_misspelt_key_stops_the_synth_naming_the_option_meant(typed: str, meant: str) -> None:
    # Given a context key that is almost an option (as `-c dryrun=true` would give)
    # When the context is read
    # Then synth stops instead of deploying with the option left at its default, and names the option meant
    with pytest.raises(ConfigError, match=re.escape(f"unknown context key {typed!r}: did you mean {meant!r}?")):
        Settings.from_mapping({typed: "true"})


def test_a_key_like_no_option_lists_the_options() -> None:
    # Given a key that resembles no option at all
    # When the context is read
    with pytest.raises(ConfigError) as raised:
        Settings.from_mapping({"colour": "blue"})

    # Then the message lists every option there is
    assert "unknown context key 'colour'" in str(raised.value)
    assert all(key in str(raised.value) for key in OPTION_KEYS)


def test_every_unknown_key_is_named_at_once() -> None:
    # Given two mistakes in the same context
    # When it is read
    with pytest.raises(ConfigError) as raised:
        Settings.from_mapping({"dryrun": True, "Regions": ["eu-west-1"]})

    # Then both are reported, so one synth shows every fix to make
    assert "'dryrun'" in str(raised.value)
    assert "'Regions': did you mean 'regions'?" in str(raised.value)


@pytest.mark.parametrize(
    "key",
    [
        "@aws-cdk/core:enablePartitionLiterals",
        "@aws-cdk/aws-lambda:recognizeLayerVersion",
        "aws:cdk:enable-path-metadata",
        "aws:cdk:bundling-stacks",
        "availability-zones:account=123456789012:region=eu-west-1",
        "ssm:account=123456789012:parameterName=/some/parameter:region=eu-west-1",
        "cdk-toolkit-internal",
        "acknowledged-issue-numbers",
        "cli-telemetry",
    ],
)
def test_the_cdks_own_keys_pass(key: str) -> None:
    # Given a key the CDK itself puts in the context (feature flag, CLI setting, cached lookup)
    # When the context is read
    settings = Settings.from_mapping({key: True})

    # Then it is left alone
    assert settings == Settings()


def test_the_committed_cdk_json_has_no_unknown_key() -> None:
    # Given cdk.json as committed, feature flags included
    # When its context is read
    # Then nothing is refused, and the options are the defaults
    assert Settings.from_mapping(cdk_json_context()) == Settings()


def test_the_context_the_cli_passes_is_checked_as_a_whole() -> None:
    # Given the context as the CDK CLI hands it to app.py (CDK_CONTEXT_JSON), with a typo from -c
    cli_context = {**cdk_json_context(), "aws:cdk:version-reporting": True, "dryrun": "true"}

    # When app.py reads it
    with patched_environ({"CDK_CONTEXT_JSON": json.dumps(cli_context)}):
        app = cdk.App()

        # Then the typo is refused
        with pytest.raises(ConfigError, match="did you mean 'dryRun'"):
            Settings.from_context(app.node)


def test_an_old_cdk_json_with_the_layer_number_says_what_replaced_it() -> None:
    # Given a cdk.json from before this version, which pinned the layer by number
    # When it is read
    with pytest.raises(ConfigError) as raised:
        Settings.from_mapping({"powertoolsLayerVersion": 38})

    # Then synth stops and says what decides the layer now
    assert "powertoolsLayerVersion was removed" in str(raised.value)
    assert "requirements.txt" in str(raised.value)


# ------------------------------------------------------------------- null/none


@pytest.mark.parametrize("value", [None, "none", "None", "null", "NULL"])
def test_null_or_none_reserves_no_concurrency(value: Any) -> None:
    # Given reservedConcurrency null (cdk.json) or none/null (-c)
    # When it is read
    settings = Settings.from_mapping({"reservedConcurrency": value})

    # Then the function stays in the account's unreserved pool
    assert settings.reserved_concurrency is None


@pytest.mark.parametrize("key", ["chatSlack", "chatTeams"])
@pytest.mark.parametrize("value", [None, "none", "null", "NULL"])
def test_null_or_none_turns_a_chat_channel_off(key: str, value: Any) -> None:
    # Given a chat channel option set to null (cdk.json) or none/null (-c, to override cdk.json once)
    # When it is read
    settings = Settings.from_mapping({key: value})

    # Then no channel configuration is made
    assert settings.chat_slack is None and settings.chat_teams is None


def test_the_default_reserves_no_concurrency_so_a_new_account_can_deploy(template_json: dict[str, Any]) -> None:
    # Given the committed cdk.json (a new account's quota may be 10, and Lambda keeps 10 unreserved)
    # When the stack is synthesized
    (function,) = [
        resource
        for resource in template_json["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == "auto_rollback.handler.lambda_handler"
    ]

    # Then the function reserves nothing
    assert "ReservedConcurrentExecutions" not in function["Properties"]
    assert Settings().reserved_concurrency is None


@pytest.mark.parametrize(
    "key",
    ["dryRun", "irreversibleFallback", "insufficientDataAction", "mutedAlarmAction", "consoleTestEvents"],
)
def test_null_is_refused_where_it_means_nothing(key: str) -> None:
    # Given an option that has no "unset" value, set to null
    # When it is read
    # Then synth stops naming the option, instead of silently using the default
    with pytest.raises(ConfigError, match=rf"^{key} must .*got null$"):
        Settings.from_mapping({key: None})


@pytest.mark.parametrize("key", ["regions", "notificationEmails"])
def test_null_lists_are_refused_with_the_empty_list_suggested(key: str) -> None:
    # Given a list option set to null
    # When it is read
    # Then the message says that [] is how to write "none"
    with pytest.raises(ConfigError, match=rf"^{key} must be a list of strings \(\[\] for none\), got null$"):
        Settings.from_mapping({key: None})


def test_a_null_in_cdk_json_reaches_the_checks_although_the_app_drops_it() -> None:
    # Given the CLI's context with dryRun null (the App itself keeps only non-null values)
    with patched_environ({"CDK_CONTEXT_JSON": json.dumps({"dryRun": None, "reservedConcurrency": None})}):
        app = cdk.App()

        # When the app's context is read
        context = context_of(app.node)

        # Then both nulls are there, and the meaningless one stops the synth
        assert app.node.try_get_context("dryRun") is None
        assert context["dryRun"] is None and context["reservedConcurrency"] is None
        with pytest.raises(ConfigError, match="dryRun must be true or false, got null"):
            Settings.from_context(app.node)


def test_a_null_in_the_cli_overflow_file_is_read_too(tmp_path: Path) -> None:
    # Given a context too big for the environment: the CLI writes the rest to a file
    overflow = tmp_path / "context-overflow.json"
    overflow.write_text(json.dumps({"consoleTestEvents": None}))
    environment = {"CDK_CONTEXT_JSON": "{}", "CONTEXT_OVERFLOW_LOCATION_ENV": str(overflow)}

    # When the app's context is read
    with patched_environ(environment):
        app = cdk.App()
        # Then the null from the file is checked like any other
        with pytest.raises(ConfigError, match="consoleTestEvents must be true or false, got null"):
            Settings.from_context(app.node)


# -------------------------------------------------------------------- regions


@pytest.mark.parametrize("region", ["ap-southeast-6", "us-gov-west-1", "cn-north-1", "eu-east-9"])
def test_a_region_without_the_layer_stops_the_synth(region: str) -> None:
    # Given a listed region where AWS publishes no Powertools layer for python3.13/arm64
    # When the options are read
    with pytest.raises(ConfigError) as raised:
        Settings.from_mapping({"regions": ["eu-west-1", region]})

    # Then synth stops, naming the region and the regions that work
    assert f"regions: {region!r} is not a region where AWS publishes the Powertools layer" in str(raised.value)
    assert "eu-west-1, eu-west-2" in str(raised.value)


def test_the_allow_list_was_made_for_the_functions_runtime() -> None:
    # Given the region allow-list (researched for python3.13 on arm64)
    # When the function's runtime and architecture are read
    # Then they are still those: changing them means checking the list again
    assert (RUNTIME.name, ARCHITECTURE.name) == ("python3.13", "arm64")
    assert len(SUPPORTED_REGIONS) == len(set(SUPPORTED_REGIONS)) == 32
    assert list(SUPPORTED_REGIONS) == sorted(SUPPORTED_REGIONS)


# ------------------------------------------------------------- powertools pin


def test_the_layer_is_the_one_aws_publishes_for_the_pinned_release(template_json: dict[str, Any]) -> None:
    # Given the release pinned in requirements.txt (what .venv installs and the tests import)
    pinned = powertools_version()

    # When the stack is synthesized
    (function,) = [
        resource
        for resource in template_json["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == "auto_rollback.handler.lambda_handler"
    ]
    (layer,) = function["Properties"]["Layers"]
    parameter = template_json["Parameters"][layer["Ref"]]

    # Then CloudFormation resolves the layer from AWS's per-release parameter for exactly that release
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/aws/service/powertools/python/arm64/python3.13/{pinned}",
    }
    assert parameter["Default"] == POWERTOOLS_SSM_PARAMETER


def test_the_pin_is_what_the_tests_run_on_and_constraints_repeat_it() -> None:
    # Given the single pin (requirements.txt)
    pinned = powertools_version()

    # When the installed library and constraints.txt are read
    installed = importlib.metadata.version("aws-lambda-powertools")
    constraints = powertools_version(REPO_ROOT / "constraints.txt")

    # Then all three agree: the layer carries the Powertools that was tested
    assert pinned == installed == constraints


def test_the_pin_is_read_from_the_file_given(tmp_path: Path) -> None:
    # Given a requirements file pinning another release (with an extra and a comment)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3==1.0\naws-lambda-powertools[tracer]==9.8.7  # the layer follows\n")

    # When the pin is read
    # Then it is that release
    assert powertools_version(requirements) == "9.8.7"


def test_no_exact_pin_stops_the_synth(tmp_path: Path) -> None:
    # Given a requirements file where Powertools floats
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("aws-lambda-powertools>=3\n")

    # When the pin is read
    # Then synth stops: without an exact release there is no per-release layer to pick
    with pytest.raises(ConfigError, match="must pin aws-lambda-powertools==<version>"):
        powertools_version(requirements)


# ----------------------------------------------------------- option values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"dryRun": "true"}, {"dry_run": True}),
        ({"reservedConcurrency": "10"}, {"reserved_concurrency": 10}),
        ({"reservedConcurrency": 5}, {"reserved_concurrency": 5}),
        ({"reservedConcurrency": "none"}, {"reserved_concurrency": None}),
        (
            {"notificationEmails": "a@example.com,b@example.com"},
            {"notification_emails": ("a@example.com", "b@example.com")},
        ),
        ({"notificationEmails": '["a@example.com"]'}, {"notification_emails": ("a@example.com",)}),
        ({"consoleTestEvents": "false"}, {"console_test_events": False}),
    ],
)
def test_command_line_strings_are_understood(raw: dict[str, Any], expected: dict[str, Any]) -> None:
    # Given an option passed with -c (always a string) or written in cdk.json
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
        ({"regions": ["eu-west-1", "eu-west-1"]}, "regions"),
        ({"regions": ["Europe"]}, "regions"),
        ({"reservedConcurrency": 0}, "reservedConcurrency"),
        ({"reservedConcurrency": "five"}, "reservedConcurrency"),
        ({"consoleTestEvents": 1}, "consoleTestEvents"),
    ],
)
def test_invalid_options_stop_the_synth_with_the_option_named(raw: dict[str, Any], message: str) -> None:
    # Given an option with a value the stack cannot deploy
    # When it is read
    # Then synth stops, naming the option
    with pytest.raises(ConfigError, match=message):
        Settings.from_mapping(raw)


def test_a_reservation_is_deployed_when_asked_for(tmp_path: Path) -> None:
    # Given an account whose quota allows a reservation, and reservedConcurrency 5
    # When the stack is synthesized
    template = synth_template(tmp_path, {"reservedConcurrency": 5})

    # Then the function reserves (and is capped to) 5 executions
    reserved = [
        resource["Properties"].get("ReservedConcurrentExecutions")
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == "auto_rollback.handler.lambda_handler"
    ]
    assert reserved == [5]


# ------------------------------------------------------------------ hub mode

HUB = {"mode": "hub", "organizationId": "o-a1b2c3d4e5", "organizationalUnitIds": ["ou-ab12-cd34ef56"]}


def test_hub_mode_reads_its_organization_and_accounts() -> None:
    # Given hub mode as -c would give it (strings, comma-separated lists)
    raw = {
        "mode": "hub",
        "organizationId": "o-a1b2c3d4e5",
        "organizationalUnitIds": "ou-ab12-cd34ef56,r-ab12",
        "memberAccounts": "012345678901,222222222222",
        "alarmAccounts": "222222222222",
        "stackSetCallAs": "SELF",
    }

    # When it is read
    settings = Settings.from_mapping(raw)

    # Then every id is kept as written, leading zeros included
    assert settings.hub
    assert settings.organizational_unit_ids == ("ou-ab12-cd34ef56", "r-ab12")
    assert settings.member_accounts == ("012345678901", "222222222222")
    assert settings.alarm_accounts == ("222222222222",)
    assert settings.stack_set_call_as == "SELF"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"mode": "hub"}, 'mode "hub" needs organizationId and organizationalUnitIds'),
        ({**HUB, "organizationId": None}, 'mode "hub" needs organizationId:'),
        ({**HUB, "organizationalUnitIds": []}, 'mode "hub" needs organizationalUnitIds:'),
        ({**HUB, "organizationId": "o-short"}, "organizationId must be an AWS Organizations id such as o-a1b2c3d4e5"),
        ({**HUB, "organizationId": "O-A1B2C3D4E5"}, "organizationId must be an AWS Organizations id"),
        ({**HUB, "organizationalUnitIds": ["ou-ab12"]}, "organizationalUnitIds: 'ou-ab12' is neither an OU id"),
        ({**HUB, "organizationalUnitIds": ["r-ab12", "r-ab12"]}, "organizationalUnitIds lists an OU twice"),
        ({**HUB, "memberAccounts": ["12345678901"]}, "memberAccounts: '12345678901' is not an AWS account id"),
        ({**HUB, "memberAccounts": [123456789012]}, "memberAccounts must be a list of strings"),
        ({**HUB, "alarmAccounts": ["2222-2222-2222"]}, "alarmAccounts: '2222-2222-2222' is not an AWS account id"),
        (
            {**HUB, "memberAccounts": ["333333333333"], "alarmAccounts": ["222222222222"]},
            "alarmAccounts lists 222222222222, which memberAccounts does not",
        ),
        ({**HUB, "stackSetCallAs": "ADMIN"}, "stackSetCallAs must be one of DELEGATED_ADMIN, SELF"),
        (
            {**HUB, "regions": ["eu-west-1", "us-east-1"]},
            'mode "hub" with 2 regions needs stackSetRegion: the region, one of eu-west-1, us-east-1,',
        ),
        (
            {**HUB, "regions": ["eu-west-1", "us-east-1"], "stackSetRegion": "eu-central-1"},
            "stackSetRegion 'eu-central-1' is not one of regions (eu-west-1, us-east-1)",
        ),
        (
            {**HUB, "regions": ["eu-west-1"], "stackSetRegion": "us-east-1"},
            "stackSetRegion 'us-east-1' is not one of regions (eu-west-1)",
        ),
        ({**HUB, "stackSetRegion": "Europe"}, "stackSetRegion must be a region name such as eu-west-1, or null"),
        ({**HUB, "stackSetRegion": "ap-southeast-6"}, "stackSetRegion: 'ap-southeast-6' is not a region where"),
        ({"mode": "organization"}, "mode must be one of account, hub"),
        ({"mode": None}, "mode must be one of account, hub; got null"),
    ],
)
def test_hub_mode_mistakes_stop_the_synth(raw: dict[str, Any], message: str) -> None:
    # Given a hub-mode option that is missing or malformed
    # When the options are read
    # Then synth stops, naming the option and what it must look like
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_mapping(raw)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"organizationId": "o-a1b2c3d4e5"}, "organizationId applies"),
        (
            {"memberAccounts": ["333333333333"], "alarmAccounts": ["222222222222"]},
            "memberAccounts, alarmAccounts apply",
        ),
        ({"organizationalUnitIds": ["r-ab12"]}, "organizationalUnitIds applies"),
        ({"stackSetCallAs": "SELF"}, "stackSetCallAs applies"),
        ({"stackSetRegion": "eu-west-1"}, "stackSetRegion applies"),
    ],
)
def test_hub_options_in_account_mode_stop_the_synth(raw: dict[str, Any], named: str) -> None:
    # Given account mode (the default) with an option only a hub uses
    # When the options are read
    with pytest.raises(ConfigError) as raised:
        Settings.from_mapping(raw)

    # Then synth stops, naming the option and the mode that would use it, instead of deploying a plain account stack
    assert str(raised.value).startswith(named)
    assert 'to mode "hub" only' in str(raised.value)


def test_hub_options_left_at_their_defaults_pass_in_account_mode() -> None:
    # Given account mode with the hub options as cdk.json ships them
    raw = {
        "organizationId": None,
        "organizationalUnitIds": [],
        "memberAccounts": [],
        "alarmAccounts": [],
        "stackSetRegion": None,
    }

    # When the options are read
    # Then nothing is refused
    assert Settings.from_mapping({**raw, "stackSetCallAs": "DELEGATED_ADMIN"}) == Settings()


def test_a_hub_in_several_regions_still_refuses_a_chat_channel() -> None:
    # Given a hub of two regions with a Slack channel
    raw = {
        **HUB,
        "regions": ["eu-west-1", "us-east-1"],
        "chatSlack": {"workspaceId": "T0123ABCD", "channelId": "C0123"},
    }

    # When the options are read
    # Then the chat rule holds as in account mode
    with pytest.raises(ConfigError, match="chatSlack cannot be used with 2 regions"):
        Settings.from_mapping(raw)


def test_the_stack_set_region_warns_that_changing_it_removes_every_spoke() -> None:
    # Given a hub of two regions and no stackSetRegion
    # When the options are read
    with pytest.raises(ConfigError) as raised:
        Settings.from_mapping({**HUB, "regions": ["eu-west-1", "us-east-1"]})

    # Then the message says what is at stake in the choice
    assert "changing it, or destroying that region's stack, deletes the StackSet and every spoke" in str(raised.value)


@pytest.mark.parametrize(
    ("regions", "named", "home"),
    [
        (["eu-west-1", "us-east-1"], "us-east-1", "us-east-1"),
        (["eu-west-1"], None, "eu-west-1"),
        (["eu-west-1"], "eu-west-1", "eu-west-1"),
        ([], None, None),
        ([], "none", None),
    ],
    ids=["named-of-two", "the-only-listed", "the-only-listed-named", "profile-region", "profile-region-none"],
)
def test_the_stack_set_region_is_the_named_one_or_the_only_one(
    regions: list[str], named: str | None, home: str | None
) -> None:
    # Given a hub's regions and stackSetRegion (none: the profile's region, known only to the app)
    # When the options are read
    settings = Settings.from_mapping({**HUB, "regions": regions, "stackSetRegion": named})

    # Then the StackSet's region is the named one, else the only one listed
    assert settings.stack_set_home == home


def test_a_stack_set_region_other_than_the_profiles_stops_the_synth_when_no_region_is_listed(tmp_path: Path) -> None:
    # Given a hub with no regions listed (one stack, in the profile's us-east-1) and stackSetRegion eu-west-1
    # When the app is built
    # Then synth stops: the only hub stack cannot hold a StackSet said to be in another region
    with pytest.raises(ConfigError, match=re.escape("stackSetRegion is 'eu-west-1', but regions is empty")):
        build(tmp_path, {**HUB, "regions": [], "stackSetRegion": "eu-west-1"}, environment={"region": "us-east-1"})


def test_the_profiles_region_may_be_named_as_the_stack_set_region(tmp_path: Path) -> None:
    # Given a hub with no regions listed, the profile in eu-west-1, and stackSetRegion eu-west-1
    # When the app is built
    _, (stack,) = build(
        tmp_path, {**HUB, "regions": [], "stackSetRegion": "eu-west-1"}, environment={"region": "eu-west-1"}
    )

    # Then its only stack holds the StackSet
    assert stack.spoke_stack_set is not None
