"""Configuration: defaults, valid values, and one clear error naming the variable."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import pytest

from auto_rollback.settings import ConfigurationError, Settings
from auto_rollback.vocabulary import InsufficientDataAction, IrreversibleFallback, MutedAlarmAction

ROOT = Path(__file__).resolve().parents[2]

VALID = {
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:auto-rollback",
    "IDEMPOTENCY_TABLE_NAME": "auto-rollback-idempotency",
    "AWS_REGION": "us-east-1",
}


def test_defaults_are_the_safe_documented_ones() -> None:
    settings = Settings.from_environment(VALID)
    assert settings.dry_run is False
    assert settings.irreversible_fallback is IrreversibleFallback.CANCEL
    assert settings.insufficient_data_action is InsufficientDataAction.IGNORE
    assert settings.chat_topic_arn is None
    assert settings.function_name is None


def test_chat_topic_and_function_name_are_read_when_set() -> None:
    # Given the chat topic the stack sets, and the function name Lambda sets
    settings = Settings.from_environment(
        {**VALID, "CHAT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:chat", "AWS_LAMBDA_FUNCTION_NAME": "fn"}
    )
    # Then both are read; a blank chat topic means no chat
    assert (settings.chat_topic_arn, settings.function_name) == ("arn:aws:sns:us-east-1:123456789012:chat", "fn")
    assert Settings.from_environment({**VALID, "CHAT_TOPIC_ARN": " "}).chat_topic_arn is None


def test_every_option_is_read() -> None:
    settings = Settings.from_environment(
        {**VALID, "DRY_RUN": "TRUE", "IRREVERSIBLE_FALLBACK": "notify", "INSUFFICIENT_DATA_ACTION": "rollback"}
    )
    assert settings.dry_run is True
    assert settings.irreversible_fallback is IrreversibleFallback.NOTIFY
    assert settings.insufficient_data_action is InsufficientDataAction.ROLLBACK


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"NOTIFICATION_TOPIC_ARN": ""}, "NOTIFICATION_TOPIC_ARN"),
        ({"NOTIFICATION_TOPIC_ARN": "my-topic"}, "NOTIFICATION_TOPIC_ARN"),
        ({"IDEMPOTENCY_TABLE_NAME": " "}, "IDEMPOTENCY_TABLE_NAME"),
        ({"DRY_RUN": "yes"}, "DRY_RUN"),
        ({"IRREVERSIBLE_FALLBACK": "ignore"}, "IRREVERSIBLE_FALLBACK"),
        ({"INSUFFICIENT_DATA_ACTION": "panic"}, "INSUFFICIENT_DATA_ACTION"),
        ({"AWS_REGION": ""}, "AWS_REGION"),
        ({"CHAT_TOPIC_ARN": "chat-topic"}, "CHAT_TOPIC_ARN"),
    ],
)
def test_invalid_configuration_names_the_variable(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_environment({**VALID, **changes})


@pytest.mark.parametrize(
    ("literal", "kind"),
    [
        ("IrreversibleFallback", IrreversibleFallback),
        ("InsufficientDataAction", InsufficientDataAction),
        ("MutedAlarmAction", MutedAlarmAction),
    ],
)
def test_the_stack_types_each_setting_with_exactly_the_function_s_values(literal: str, kind: type[StrEnum]) -> None:
    # Given the literal type infra/config.py gives a setting it writes (read from its source:
    # importing the stack would start CDK's Node runtime)
    tree = ast.parse((ROOT / "infra" / "config.py").read_text(encoding="utf-8"))
    (value,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and [ast.unparse(target) for target in node.targets] == [literal]
    ]
    assert isinstance(value, ast.Subscript) and ast.unparse(value.value) == "Literal"

    # When its allowed values are read
    allowed = ast.literal_eval(value.slice)

    # Then they are the values of the function's own enum, in its order
    assert allowed == tuple(member.value for member in kind)
