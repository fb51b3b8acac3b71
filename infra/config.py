"""Deployment options, read from the CDK context (cdk.json or ``-c key=value``).

Every option is validated here, once, so a typo in cdk.json fails the synth with a
message that names the option instead of deploying something unexpected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from constructs import Node

IrreversibleFallback = Literal["cancel", "notify"]
InsufficientDataAction = Literal["ignore", "rollback"]
MutedAlarmAction = Literal["ignore", "rollback"]

#: Context keys, as written in cdk.json and documented in docs/DEPLOY.md.
DRY_RUN = "dryRun"
IRREVERSIBLE_FALLBACK = "irreversibleFallback"
INSUFFICIENT_DATA_ACTION = "insufficientDataAction"
MUTED_ALARM_ACTION = "mutedAlarmAction"
NOTIFICATION_EMAILS = "notificationEmails"
POWERTOOLS_LAYER_VERSION = "powertoolsLayerVersion"
REGIONS = "regions"
RESERVED_CONCURRENCY = "reservedConcurrency"
CONSOLE_TEST_EVENTS = "consoleTestEvents"

OPTION_KEYS = (
    DRY_RUN,
    IRREVERSIBLE_FALLBACK,
    INSUFFICIENT_DATA_ACTION,
    MUTED_ALARM_ACTION,
    NOTIFICATION_EMAILS,
    POWERTOOLS_LAYER_VERSION,
    REGIONS,
    RESERVED_CONCURRENCY,
    CONSOLE_TEST_EVENTS,
)

#: The one value of ``powertoolsLayerVersion`` that is not a number: resolve the
#: newest layer at deploy time from AWS's public SSM parameter.
LATEST: Literal["latest"] = "latest"

_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class ConfigError(ValueError):
    """A context option has a value the stack cannot deploy."""


@dataclass(frozen=True)
class Settings:
    """What one deployment of auto-rollback looks like (the same in every region)."""

    dry_run: bool = False
    irreversible_fallback: IrreversibleFallback = "cancel"
    insufficient_data_action: InsufficientDataAction = "ignore"
    #: ``ignore`` honours CloudWatch alarm mute rules; ``rollback`` acts on muted alarms anyway.
    muted_alarm_action: MutedAlarmAction = "ignore"
    notification_emails: tuple[str, ...] = ()
    #: A layer version number, or :data:`LATEST` to resolve it at deploy time.
    powertools_layer_version: int | Literal["latest"] = 38
    regions: tuple[str, ...] = ()
    #: ``None`` (context value ``"none"``) leaves the function in the account's
    #: unreserved pool, for accounts whose concurrency quota is too low to reserve.
    reserved_concurrency: int | None = 5
    console_test_events: bool = True

    @property
    def alarm_states(self) -> tuple[str, ...]:
        """Alarm states whose transitions the function must receive."""
        if self.insufficient_data_action == "rollback":
            return ("ALARM", "INSUFFICIENT_DATA")
        return ("ALARM",)

    @classmethod
    def from_context(cls, node: Node) -> Settings:
        """Read every option from the construct tree's context (cdk.json, -c)."""
        values = {key: node.try_get_context(key) for key in OPTION_KEYS}
        return cls.from_mapping({key: value for key, value in values.items() if value is not None})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Validate raw context values (strings from ``-c``, or JSON from cdk.json)."""
        defaults = cls()
        return cls(
            dry_run=_boolean(values.get(DRY_RUN, defaults.dry_run), DRY_RUN),
            irreversible_fallback=_choice(
                values.get(IRREVERSIBLE_FALLBACK, defaults.irreversible_fallback),
                IRREVERSIBLE_FALLBACK,
                ("cancel", "notify"),
            ),
            insufficient_data_action=_choice(
                values.get(INSUFFICIENT_DATA_ACTION, defaults.insufficient_data_action),
                INSUFFICIENT_DATA_ACTION,
                ("ignore", "rollback"),
            ),
            muted_alarm_action=_choice(
                values.get(MUTED_ALARM_ACTION, defaults.muted_alarm_action),
                MUTED_ALARM_ACTION,
                ("ignore", "rollback"),
            ),
            notification_emails=tuple(
                _email(item) for item in _string_list(values.get(NOTIFICATION_EMAILS, []), NOTIFICATION_EMAILS)
            ),
            powertools_layer_version=_layer_version(
                values.get(POWERTOOLS_LAYER_VERSION, defaults.powertools_layer_version)
            ),
            regions=_regions(values.get(REGIONS, [])),
            reserved_concurrency=_reserved_concurrency(values.get(RESERVED_CONCURRENCY, defaults.reserved_concurrency)),
            console_test_events=_boolean(
                values.get(CONSOLE_TEST_EVENTS, defaults.console_test_events), CONSOLE_TEST_EVENTS
            ),
        )


def _decode(value: Any) -> Any:
    """``-c key=value`` always gives a string: accept JSON there too (lists, numbers)."""
    if isinstance(value, str) and value and value[0] in "[{0123456789":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _boolean(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"{key} must be true or false, got {value!r}")


def _choice(value: Any, key: str, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _string_list(value: Any, key: str) -> list[str]:
    value = _decode(value)
    if isinstance(value, str):
        # "-c notificationEmails=a@x.org,b@x.org" is the natural thing to type.
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{key} must be a list of strings, got {value!r}")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ConfigError(f"{NOTIFICATION_EMAILS}: {value!r} is not an email address")
    return value


def _regions(value: Any) -> tuple[str, ...]:
    regions = _string_list(value, REGIONS)
    for region in regions:
        if not _REGION.match(region):
            raise ConfigError(f"{REGIONS}: {region!r} is not a region name such as eu-west-1")
    if len(set(regions)) != len(regions):
        raise ConfigError(f"{REGIONS} lists a region twice: {regions}")
    return tuple(regions)


def _layer_version(value: Any) -> int | Literal["latest"]:
    if value == LATEST:
        return LATEST
    value = _decode(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{POWERTOOLS_LAYER_VERSION} must be a layer version number or 'latest', got {value!r}")
    return value


def _reserved_concurrency(value: Any) -> int | None:
    value = _decode(value)
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
        return None
    # Zero would silently stop every rollback: refuse it rather than deploy a no-op.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{RESERVED_CONCURRENCY} must be a positive integer or null, got {value!r}")
    return value
