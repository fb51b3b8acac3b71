"""Operators invoking the function by hand from the Lambda console."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auto_rollback.events import InvalidEventError
from devkit.aws import refresh_api
from devkit.scenarios.events import manual_event
from devkit.scenarios.fleet import start_refresh
from devkit.scenarios.harness import invoke
from tests.conftest import load_event
from tests.integration.conftest import World


def test_manual_rollback_skips_alarm_checks(world: World) -> None:
    # Given a refresh with no alarm at all
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"))
    # When an operator pastes the sample console event
    result = invoke(load_event("manual-rollback.json"))
    # Then the refresh is rolled back and the operator's reason travels with the notification
    assert (result["outcome"], result["reason"], result["instanceRefreshId"]) == (
        "ROLLBACK_STARTED",
        "manual-request",
        refresh_id,
    )
    assert result["trigger"] == {
        "type": "manual",
        "action": "rollback",
        "reason": "Error rate doubled after the 10:00 AMI roll-out",
    }
    [message] = world.published()
    assert message.subject == "[auto-rollback] ROLLBACK_STARTED web-prod - manual rollback"


def test_manual_rollback_still_requires_opt_in(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod", mode=None))
    result = invoke(manual_event("rollback", "web-prod"))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "group-not-enabled")
    assert world.mutating_calls() == []


def test_manual_rollback_dry_run(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    result = invoke(manual_event("rollback", "web-prod", dry_run=True))
    assert (result["outcome"], result["reason"], result["dryRun"]) == ("DRY_RUN", "dry-run-requested", True)
    assert world.mutating_calls() == []


def test_manual_rollback_without_active_refresh(world: World) -> None:
    world.fleet("web-prod")
    result = invoke(manual_event("rollback", "web-prod"))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "no-active-refresh")


def test_evaluate_reports_what_would_happen_and_changes_nothing(world: World) -> None:
    # Given a refresh with a linked alarm firing
    start_refresh(world.autoscaling, world.fleet("web-prod", tags={"auto-rollback:alarm-prefix": "web-prod-"}))
    world.alarm("web-prod-5xx")
    # When an operator asks the function to evaluate
    result = invoke(load_event("manual-evaluate.json"))
    # Then it says it would roll back, and nothing was changed or published
    assert (result["outcome"], result["reason"], result["dryRun"]) == ("DRY_RUN", "evaluate-would-roll-back", True)
    assert world.mutating_calls() == []
    assert world.published() == []


def test_evaluate_with_nothing_firing(world: World) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    result = invoke(manual_event("evaluate", "web-prod"))
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "no-linked-alarm-in-alarm")


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"action": "rollback"}, "autoScalingGroupName"),
        ({"action": "rollbak", "autoScalingGroupName": "web-prod"}, "action"),
        ({"action": "rollback", "autoScalingGroupName": "web-prod", "dryrun": True}, "dryrun"),
        ({"action": "rollback", "autoScalingGroupName": "web-prod", "dryRun": "yes"}, "dryRun"),
        ({"action": "rollback", "autoScalingGroupName": ["web-prod"]}, "autoScalingGroupName"),
        ({"hello": "world"}, "source"),
    ],
)
def test_invalid_console_input_names_the_field_and_changes_nothing(
    world: World, event: dict[str, object], field: str
) -> None:
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    with pytest.raises(InvalidEventError) as refused:
        invoke(event)
    assert refused.value.field == field
    assert world.mutating_calls() == []
    assert world.published() == []


def test_missing_configuration_names_the_variable(configure: Callable[..., World]) -> None:
    from auto_rollback.settings import ConfigurationError

    configure(IRREVERSIBLE_FALLBACK="rollback-anyway")
    with pytest.raises(ConfigurationError, match="IRREVERSIBLE_FALLBACK"):
        invoke(manual_event("evaluate", "web-prod"))
    assert refresh_api.calls() == []
