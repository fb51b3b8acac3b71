"""Operator configuration, read once from the environment and validated as a whole."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum


class ConfigurationError(ValueError):
    """The function's environment is missing a variable or has an invalid value."""


class IrreversibleFallback(StrEnum):
    """What to do when AWS answers that a refresh cannot be rolled back."""

    CANCEL = "cancel"
    NOTIFY = "notify"


class InsufficientDataAction(StrEnum):
    """Whether an alarm going to INSUFFICIENT_DATA counts as a failure signal."""

    IGNORE = "ignore"
    ROLLBACK = "rollback"


class MutedAlarmAction(StrEnum):
    """Whether an alarm silenced by a CloudWatch alarm mute rule may still roll a refresh back."""

    IGNORE = "ignore"  # the mute is honoured, as the alarm's own actions honour it
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Settings:
    """Typed view of the environment variables the README documents."""

    notification_topic_arn: str
    idempotency_table_name: str
    region: str
    dry_run: bool = False
    irreversible_fallback: IrreversibleFallback = IrreversibleFallback.CANCEL
    insufficient_data_action: InsufficientDataAction = InsufficientDataAction.IGNORE
    muted_alarm_action: MutedAlarmAction = MutedAlarmAction.IGNORE
    #: The topic Amazon Q Developer in chat applications reads (chat-format messages only); None: no chat.
    chat_topic_arn: str | None = None
    #: Set by Lambda itself; shown in the paste-ready ``evaluate`` command of chat messages.
    function_name: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate; the first problem found is raised with the variable's name."""
        env = os.environ if environ is None else environ
        return cls(
            notification_topic_arn=_required(env, "NOTIFICATION_TOPIC_ARN", prefix="arn:"),
            idempotency_table_name=_required(env, "IDEMPOTENCY_TABLE_NAME"),
            region=_required_any(env, ("AWS_REGION", "AWS_DEFAULT_REGION")),
            dry_run=_boolean(env, "DRY_RUN", default=False),
            irreversible_fallback=_choice(env, "IRREVERSIBLE_FALLBACK", IrreversibleFallback, "cancel"),
            insufficient_data_action=_choice(env, "INSUFFICIENT_DATA_ACTION", InsufficientDataAction, "ignore"),
            muted_alarm_action=_choice(env, "MUTED_ALARM_ACTION", MutedAlarmAction, "ignore"),
            chat_topic_arn=_optional(env, "CHAT_TOPIC_ARN", prefix="arn:"),
            function_name=_optional(env, "AWS_LAMBDA_FUNCTION_NAME"),
        )


def _required(env: Mapping[str, str], name: str, prefix: str = "") -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is required but is not set")
    if prefix and not value.startswith(prefix):
        raise ConfigurationError(f"{name} must start with {prefix!r}, got {value!r}")
    return value


def _optional(env: Mapping[str, str], name: str, prefix: str = "") -> str | None:
    """None when unset or blank; otherwise checked as :func:`_required` checks."""
    return _required(env, name, prefix) if env.get(name, "").strip() else None


def _required_any(env: Mapping[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if env.get(name, "").strip():
            return env[name].strip()
    raise ConfigurationError(f"{' or '.join(names)} is required but is not set")


def _boolean(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in {"true", "false"}:
        raise ConfigurationError(f"{name} must be 'true' or 'false', got {env[name]!r}")
    return raw == "true"


def _choice[E: Enum](env: Mapping[str, str], name: str, kind: type[E], default: str) -> E:
    raw = env.get(name, "").strip().lower() or default
    try:
        return kind(raw)
    except ValueError:
        allowed = " | ".join(str(member.value) for member in kind)
        raise ConfigurationError(f"{name} must be one of {allowed}, got {env[name]!r}") from None
