"""Hub mode's vocabulary and configuration: links that name an account, and the accounts served."""

from __future__ import annotations

import pytest

from auto_rollback.events import ManualTrigger, parse_event
from auto_rollback.settings import ConfigurationError, Settings
from auto_rollback.vocabulary import member_role_name, split_group_link

VALID = {
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:auto-rollback",
    "IDEMPOTENCY_TABLE_NAME": "auto-rollback-idempotency",
    "AWS_REGION": "us-east-1",
}


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("333333333333/web-prod", ("333333333333", "web-prod")),
        ("333333333333/team/web", ("333333333333", "team/web")),  # group names may hold slashes
        ("web-prod", (None, "web-prod")),
        ("33333333333/web", (None, "33333333333/web")),  # eleven digits: a group name
        ("333333333333/", (None, "333333333333/")),  # no group after the slash
        ("arn:aws:iam::333333333333:role/x", (None, "arn:aws:iam::333333333333:role/x")),
    ],
)
def test_a_group_link_names_an_account_only_as_twelve_digits_and_a_slash(
    link: str, expected: tuple[str | None, str]
) -> None:
    assert split_group_link(link) == expected


def test_member_roles_are_named_per_region_since_iam_names_are_global() -> None:
    assert member_role_name("eu-west-1") == "auto-rollback-member-eu-west-1"


def test_hub_mode_reads_the_role_and_the_account_lists() -> None:
    # Given the environment the hub stack sets
    settings = Settings.from_environment(
        {
            **VALID,
            "MEMBER_ROLE_NAME": "auto-rollback-member-us-east-1",
            "MEMBER_ACCOUNTS": "333333333333, 444444444444",
            "ALARM_ACCOUNTS": "222222222222",
        }
    )
    # Then the function runs in hub mode, serving exactly those accounts
    assert settings.hub_mode
    assert settings.member_accounts == {"333333333333", "444444444444"}
    assert settings.alarm_accounts == {"222222222222"}
    # And without a role it runs per account, serving its own account only
    assert not Settings.from_environment(VALID).hub_mode


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"MEMBER_ROLE_NAME": "auto-rollback-member-us-east-1", "MEMBER_ACCOUNTS": "3333"}, "MEMBER_ACCOUNTS"),
        ({"MEMBER_ROLE_NAME": "auto-rollback-member-us-east-1", "ALARM_ACCOUNTS": "x"}, "ALARM_ACCOUNTS"),
        ({"MEMBER_ROLE_NAME": "role with spaces"}, "MEMBER_ROLE_NAME"),
        ({"MEMBER_ACCOUNTS": "333333333333"}, "MEMBER_ACCOUNTS"),  # hub-only, without hub mode
        ({"ALARM_ACCOUNTS": "222222222222"}, "ALARM_ACCOUNTS"),
    ],
)
def test_a_bad_hub_setting_is_refused_naming_the_variable(extra: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_environment({**VALID, **extra})


def test_a_manual_invoke_may_name_the_member_account() -> None:
    # Given an operator's rollback of a member account's group, from the hub's console
    trigger = parse_event({"action": "rollback", "autoScalingGroupName": "web", "account": "333333333333"})
    # Then the account is kept for the hub to act in
    assert isinstance(trigger, ManualTrigger)
    assert trigger.account == "333333333333"
