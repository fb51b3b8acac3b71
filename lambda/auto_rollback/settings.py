"""Operator configuration, read once from the environment and validated as a whole."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from auto_rollback.vocabulary import (
    ENV_ALARM_ACCOUNTS,
    ENV_CHAT_TOPIC_ARN,
    ENV_DRY_RUN,
    ENV_IDEMPOTENCY_TABLE_NAME,
    ENV_INSUFFICIENT_DATA_ACTION,
    ENV_IRREVERSIBLE_FALLBACK,
    ENV_MEMBER_ACCOUNTS,
    ENV_MEMBER_ROLE_NAME,
    ENV_MUTED_ALARM_ACTION,
    ENV_NOTIFICATION_TOPIC_ARN,
    InsufficientDataAction,
    IrreversibleFallback,
    MutedAlarmAction,
    parse_account_list,
)

#: IAM's pattern for role names (CreateRole RoleName).
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")


class ConfigurationError(ValueError):
    """The function's environment is missing a variable or has an invalid value."""


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
    #: Hub mode (docs/DEPLOY.md, "Organization mode"): the role the function assumes in each member
    #: account to read and act there. None: per-account mode, the function acts with its own role.
    member_role_name: str | None = None
    #: Hub mode: the only accounts served (empty: every account whose events reach the hub's bus).
    member_accounts: frozenset[str] = frozenset()
    #: Hub mode: monitoring accounts whose alarms may link groups of other accounts (``<account>/<group>``).
    alarm_accounts: frozenset[str] = frozenset()

    @property
    def hub_mode(self) -> bool:
        return self.member_role_name is not None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate; the first problem found is raised with the variable's name."""
        env = os.environ if environ is None else environ
        settings = cls(
            notification_topic_arn=_required(env, ENV_NOTIFICATION_TOPIC_ARN, prefix="arn:"),
            idempotency_table_name=_required(env, ENV_IDEMPOTENCY_TABLE_NAME),
            region=_required_any(env, ("AWS_REGION", "AWS_DEFAULT_REGION")),
            dry_run=_boolean(env, ENV_DRY_RUN, default=False),
            irreversible_fallback=_choice(
                env, ENV_IRREVERSIBLE_FALLBACK, IrreversibleFallback, IrreversibleFallback.CANCEL
            ),
            insufficient_data_action=_choice(
                env, ENV_INSUFFICIENT_DATA_ACTION, InsufficientDataAction, InsufficientDataAction.IGNORE
            ),
            muted_alarm_action=_choice(env, ENV_MUTED_ALARM_ACTION, MutedAlarmAction, MutedAlarmAction.IGNORE),
            chat_topic_arn=_optional(env, ENV_CHAT_TOPIC_ARN, prefix="arn:"),
            function_name=_optional(env, "AWS_LAMBDA_FUNCTION_NAME"),
            member_role_name=_optional(env, ENV_MEMBER_ROLE_NAME),
            member_accounts=_accounts(env, ENV_MEMBER_ACCOUNTS),
            alarm_accounts=_accounts(env, ENV_ALARM_ACCOUNTS),
        )
        if settings.member_role_name is not None and not _ROLE_NAME.fullmatch(settings.member_role_name):
            raise ConfigurationError(
                f"{ENV_MEMBER_ROLE_NAME} must be an IAM role name, got {settings.member_role_name!r}"
            )
        for name, accounts in (
            (ENV_MEMBER_ACCOUNTS, settings.member_accounts),
            (ENV_ALARM_ACCOUNTS, settings.alarm_accounts),
        ):
            if accounts and not settings.hub_mode:
                raise ConfigurationError(
                    f"{name} applies to hub mode only: set {ENV_MEMBER_ROLE_NAME} too, or unset {name}"
                )
        return settings


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


def _accounts(env: Mapping[str, str], name: str) -> frozenset[str]:
    try:
        return parse_account_list(env.get(name, ""), name)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


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
