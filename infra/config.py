"""Deployment options, read from the CDK context (cdk.json or ``-c key=value``).

Every option is validated here, once, so a typo in cdk.json fails the synth with a
message that names the option instead of deploying something unexpected.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from constructs import Node

from auto_rollback import vocabulary
from auto_rollback.vocabulary import ACCOUNT_ID, ALARM_STATE, INSUFFICIENT_DATA_STATE

# The function's settings, as literals for the typed options below; their allowed values are read from
# the function's own enums (auto_rollback.vocabulary), and tests/unit/test_settings.py keeps the two equal.
IrreversibleFallback = Literal["cancel", "notify"]
InsufficientDataAction = Literal["ignore", "rollback"]
MutedAlarmAction = Literal["ignore", "rollback"]
#: ``account``: one self-contained deployment per account. ``hub``: one deployment (the hub) serves
#: every account of an AWS Organization through spokes a StackSet deploys (docs/DEPLOY.md, "Organization mode").
DeploymentMode = Literal["account", "hub"]
StackSetCallAs = Literal["DELEGATED_ADMIN", "SELF"]

#: Context keys, as written in cdk.json and documented in docs/DEPLOY.md.
DRY_RUN = "dryRun"
IRREVERSIBLE_FALLBACK = "irreversibleFallback"
INSUFFICIENT_DATA_ACTION = "insufficientDataAction"
MUTED_ALARM_ACTION = "mutedAlarmAction"
NOTIFICATION_EMAILS = "notificationEmails"
REGIONS = "regions"
RESERVED_CONCURRENCY = "reservedConcurrency"
CONSOLE_TEST_EVENTS = "consoleTestEvents"
CHAT_SLACK = "chatSlack"
CHAT_TEAMS = "chatTeams"
MODE = "mode"
ORGANIZATION_ID = "organizationId"
ORGANIZATIONAL_UNIT_IDS = "organizationalUnitIds"
MEMBER_ACCOUNTS = "memberAccounts"
ALARM_ACCOUNTS = "alarmAccounts"
STACK_SET_CALL_AS = "stackSetCallAs"
STACK_SET_REGION = "stackSetRegion"
#: Options that only mean something in hub mode; account mode refuses them unless left at their default.
HUB_ONLY_KEYS = (
    ORGANIZATION_ID,
    ORGANIZATIONAL_UNIT_IDS,
    MEMBER_ACCOUNTS,
    ALARM_ACCOUNTS,
    STACK_SET_CALL_AS,
    STACK_SET_REGION,
)

OPTION_KEYS = (
    DRY_RUN,
    IRREVERSIBLE_FALLBACK,
    INSUFFICIENT_DATA_ACTION,
    MUTED_ALARM_ACTION,
    NOTIFICATION_EMAILS,
    REGIONS,
    RESERVED_CONCURRENCY,
    CONSOLE_TEST_EVENTS,
    CHAT_SLACK,
    CHAT_TEAMS,
    MODE,
    *HUB_ONLY_KEYS,
)

#: Options that no longer exist, and what replaced them: an old cdk.json that still
#: sets one fails the synth with this text instead of being silently ignored.
REMOVED_KEYS = {
    "powertoolsLayerVersion": (
        "powertoolsLayerVersion was removed: the Powertools layer is now the one AWS publishes for exactly "
        "the aws-lambda-powertools release pinned in requirements.txt (resolved at deploy time from "
        "/aws/service/powertools/python/<arch>/<runtime>/<version>). Delete the key from cdk.json; to change "
        "Powertools, change the pin in requirements.txt (docs/DEPLOY.md, section 3)."
    ),
}

#: Context keys that belong to the CDK, not to this app: feature flags (``@aws-cdk/...``),
#: the CLI's own settings (``aws:cdk:...``), lookups cached in cdk.context.json
#: (``availability-zones:account=...``, ``ssm:account=...``: every cached lookup key has
#: ``provider:``), and the CLI's notice acknowledgements and telemetry switch.
_CDK_KEY_PREFIXES = ("@", "aws:", "cdk-")
_CDK_KEYS = frozenset({"acknowledged-issue-numbers", "cli-telemetry"})

#: Regions where AWS publishes the Powertools v3 layer for python3.13 on arm64 AND its
#: per-release SSM parameter (/aws/service/powertools/python/arm64/python3.13/<version>),
#: which the stack resolves at deploy time. Source: the region matrix of
#: aws-powertools/powertools-lambda-python .github/workflows/update_ssm.yml (the job that
#: writes those parameters), whose layer job (reusable_deploy_v3_layer_stack.yml) marks
#: every one of them has_arm64_support; Lambda offers python3.13 on arm64 in all of them.
#: Elsewhere (ap-southeast-6 at the time of writing, GovCloud, China) the deploy would
#: fail on the missing parameter or layer. RUNTIME/ARCHITECTURE are in infra/function.py;
#: a test pins that they are still python3.13/arm64, for which this list was made.
SUPPORTED_REGIONS = (
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

#: The reservedConcurrency docs/DEPLOY.md recommends where the account's quota allows
#: (and the container count of ``make bench``'s storm): capacity other functions cannot
#: take during an incident, and a cap that keeps an alarm storm from exhausting the
#: Auto Scaling API's account-wide rate. Not the default: see Settings.reserved_concurrency.
RECOMMENDED_RESERVED_CONCURRENCY = 5

_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
# The forms AWS Organizations gives ids (its API model's patterns).
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")
_ORGANIZATIONAL_UNIT_ID = re.compile(r"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32}")


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
    regions: tuple[str, ...] = ()
    #: ``None`` (``null`` in cdk.json, ``none`` with -c) leaves the function in the
    #: account's unreserved pool. The default: Lambda refuses any reservation that
    #: leaves fewer than its minimum unreserved (10 in a new account whose quota is
    #: 10), so a reservation would make the first deploy fail there (docs/DEPLOY.md §4).
    reserved_concurrency: int | None = None
    console_test_events: bool = True
    #: Amazon Q Developer in chat applications channels subscribed to the chat topic (None: none).
    chat_slack: SlackChannel | None = None
    chat_teams: TeamsChannel | None = None
    mode: DeploymentMode = "account"
    #: Hub mode: the organization whose accounts the hub serves (bus policy, member roles' trust).
    organization_id: str | None = None
    #: Hub mode: the OUs (or the root, ``r-...``) whose accounts get a spoke, now and when they join.
    organizational_unit_ids: tuple[str, ...] = ()
    #: Hub mode: the only accounts the function serves (empty: every account whose events reach the bus).
    member_accounts: tuple[str, ...] = ()
    #: Hub mode: monitoring accounts whose alarms may link groups of other accounts (``<account>/<group>``).
    alarm_accounts: tuple[str, ...] = ()
    #: Hub mode: who creates the StackSet: a delegated administrator, or the management account itself.
    stack_set_call_as: StackSetCallAs = "DELEGATED_ADMIN"
    #: Hub mode: the region whose hub stack holds the one StackSet. Chosen explicitly with several
    #: regions, because the StackSet and every spoke go with that stack (docs/DEPLOY.md, section 11).
    stack_set_region: str | None = None

    @property
    def hub(self) -> bool:
        return self.mode == "hub"

    @property
    def stack_set_home(self) -> str | None:
        """The region of the stack that holds the StackSet; None: the only stack's own (the profile's) region."""
        if self.stack_set_region:
            return self.stack_set_region
        return self.regions[0] if len(self.regions) == 1 else None

    @property
    def alarm_states(self) -> tuple[str, ...]:
        """Alarm states whose transitions the function must receive."""
        if self.insufficient_data_action == vocabulary.InsufficientDataAction.ROLLBACK.value:
            return (ALARM_STATE, INSUFFICIENT_DATA_STATE)
        return (ALARM_STATE,)

    @classmethod
    def from_context(cls, node: Node) -> Settings:
        """Read every option from the construct tree's context (cdk.json, -c), nulls included."""
        return cls.from_mapping(context_of(node))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Validate a whole context (strings from ``-c``, or JSON from cdk.json).

        A key that is neither an option nor the CDK's own stops the synth, naming the
        closest option: a misspelt ``dryrun`` must not deploy live mode. An option set
        to ``null`` is read as null (not as "unset"), so it either means what the deploy
        guide says (``reservedConcurrency``) or is refused.
        """
        check_keys(values)
        defaults = cls()
        settings = cls(
            dry_run=_boolean(values.get(DRY_RUN, defaults.dry_run), DRY_RUN),
            irreversible_fallback=_choice(
                values.get(IRREVERSIBLE_FALLBACK, defaults.irreversible_fallback),
                IRREVERSIBLE_FALLBACK,
                _values(vocabulary.IrreversibleFallback),
            ),
            insufficient_data_action=_choice(
                values.get(INSUFFICIENT_DATA_ACTION, defaults.insufficient_data_action),
                INSUFFICIENT_DATA_ACTION,
                _values(vocabulary.InsufficientDataAction),
            ),
            muted_alarm_action=_choice(
                values.get(MUTED_ALARM_ACTION, defaults.muted_alarm_action),
                MUTED_ALARM_ACTION,
                _values(vocabulary.MutedAlarmAction),
            ),
            notification_emails=tuple(
                _email(item) for item in _string_list(values.get(NOTIFICATION_EMAILS, []), NOTIFICATION_EMAILS)
            ),
            regions=_regions(values.get(REGIONS, [])),
            reserved_concurrency=_reserved_concurrency(values.get(RESERVED_CONCURRENCY, defaults.reserved_concurrency)),
            console_test_events=_boolean(
                values.get(CONSOLE_TEST_EVENTS, defaults.console_test_events), CONSOLE_TEST_EVENTS
            ),
            chat_slack=_slack_channel(values.get(CHAT_SLACK)),
            chat_teams=_teams_channel(values.get(CHAT_TEAMS)),
            mode=_choice(values.get(MODE, defaults.mode), MODE, ("account", "hub")),
            organization_id=_organization_id(values.get(ORGANIZATION_ID)),
            organizational_unit_ids=_organizational_units(values.get(ORGANIZATIONAL_UNIT_IDS, [])),
            member_accounts=_accounts(values.get(MEMBER_ACCOUNTS, []), MEMBER_ACCOUNTS),
            alarm_accounts=_accounts(values.get(ALARM_ACCOUNTS, []), ALARM_ACCOUNTS),
            stack_set_call_as=_choice(
                values.get(STACK_SET_CALL_AS, defaults.stack_set_call_as),
                STACK_SET_CALL_AS,
                ("DELEGATED_ADMIN", "SELF"),
            ),
            stack_set_region=_optional_region(values.get(STACK_SET_REGION), STACK_SET_REGION),
        )
        _check_one_chat_configuration(settings)
        _check_mode(settings)
        return settings


def _check_mode(settings: Settings) -> None:
    """Hub mode needs its organization and OUs; account mode must not look as if it served an organization."""
    if not settings.hub:
        defaults = Settings()
        set_anyway = [
            key
            for key, value, default in (
                (ORGANIZATION_ID, settings.organization_id, defaults.organization_id),
                (ORGANIZATIONAL_UNIT_IDS, settings.organizational_unit_ids, defaults.organizational_unit_ids),
                (MEMBER_ACCOUNTS, settings.member_accounts, defaults.member_accounts),
                (ALARM_ACCOUNTS, settings.alarm_accounts, defaults.alarm_accounts),
                (STACK_SET_CALL_AS, settings.stack_set_call_as, defaults.stack_set_call_as),
                (STACK_SET_REGION, settings.stack_set_region, defaults.stack_set_region),
            )
            if value != default
        ]
        if set_anyway:
            raise ConfigError(
                f'{", ".join(set_anyway)} {"apply" if len(set_anyway) > 1 else "applies"} to {MODE} "hub" only, '
                f'and {MODE} is "account": set "{MODE}": "hub" to serve an organization, or remove '
                f"{'them' if len(set_anyway) > 1 else 'it'}"
            )
        return
    missing = [
        key
        for key, value in (
            (ORGANIZATION_ID, settings.organization_id),
            (ORGANIZATIONAL_UNIT_IDS, settings.organizational_unit_ids),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f'{MODE} "hub" needs {" and ".join(missing)}: the organization whose accounts the hub serves '
            "(o-...) and the OUs (ou-...) or root (r-...) whose accounts get a spoke"
        )
    _check_stack_set_region(settings)
    if settings.member_accounts:
        # A monitoring account's alarm reaches the hub as an event of that account: refused
        # (account-not-served) unless the allow-list names it too.
        unserved = [account for account in settings.alarm_accounts if account not in settings.member_accounts]
        if unserved:
            raise ConfigError(
                f"{ALARM_ACCOUNTS} lists {', '.join(unserved)}, which {MEMBER_ACCOUNTS} does not: the function "
                f"would refuse that account's alarms. Add it to {MEMBER_ACCOUNTS}, or leave {MEMBER_ACCOUNTS} empty"
            )


def _check_stack_set_region(settings: Settings) -> None:
    """The StackSet's region must be named when there is a choice, and be one of the deployment's.

    The StackSet belongs to one region's hub stack: were that simply the first listed,
    adding a region in front would create a second StackSet (whose instances clash with
    the first's on the member roles' names) and dropping the first would delete the
    StackSet, and with it every spoke.
    """
    listed = ", ".join(settings.regions)
    if settings.stack_set_region is None and len(settings.regions) > 1:
        raise ConfigError(
            f'{MODE} "hub" with {len(settings.regions)} {REGIONS} needs {STACK_SET_REGION}: the region, one of '
            f"{listed}, whose hub stack holds the one StackSet of every spoke. Choose it once and keep it: "
            "changing it, or destroying that region's stack, deletes the StackSet and every spoke"
        )
    if settings.stack_set_region is not None and settings.regions and settings.stack_set_region not in settings.regions:
        raise ConfigError(
            f"{STACK_SET_REGION} {settings.stack_set_region!r} is not one of {REGIONS} ({listed}): the StackSet "
            "lives in one of the deployment's hub stacks"
        )


def _check_one_chat_configuration(settings: Settings) -> None:
    """A chat channel configuration belongs to the account, not to a region.

    Amazon Q Developer refuses a second configuration with the same name, or for a
    channel the account has already configured, so each regional stack creating its
    own would fail from the second region on.
    """
    chosen = [key for key, value in ((CHAT_SLACK, settings.chat_slack), (CHAT_TEAMS, settings.chat_teams)) if value]
    if chosen and len(settings.regions) > 1:
        raise ConfigError(
            f"{' and '.join(chosen)} cannot be used with {len(settings.regions)} {REGIONS}: a chat channel "
            "configuration belongs to the account, so every regional stack would create it again and AWS "
            "refuses the second. Set it to null, configure the channel once (Amazon Q Developer console), "
            "and add each region's ChatTopicArn output to that configuration's topics."
        )


def context_of(node: Node) -> dict[str, Any]:
    """The whole context, with the options set to ``null`` that the App drops.

    The CDK CLI hands the app its context (cdk.json, cdk.context.json, -c) as JSON in
    CDK_CONTEXT_JSON, and what does not fit in the environment in the file named by
    CONTEXT_OVERFLOW_LOCATION_ENV; the App keeps only the non-null values. Reading the
    same JSON again restores the nulls, so ``"reservedConcurrency": null`` cannot turn
    into a default.
    """
    context: dict[str, Any] = dict(node.get_all_context())
    for key, value in _cli_context().items():
        context.setdefault(key, value)
    return context


def _cli_context() -> dict[str, Any]:
    context: dict[str, Any] = {}
    raw = os.environ.get("CDK_CONTEXT_JSON")
    if raw:
        context.update(json.loads(raw))
    overflow = os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV")
    if overflow and os.path.exists(overflow):
        with open(overflow, encoding="utf-8") as file:
            context.update(json.load(file))
    return context


def is_cdk_key(key: str) -> bool:
    """Whether a context key belongs to the CDK (feature flag, CLI setting, cached lookup)."""
    return key.startswith(_CDK_KEY_PREFIXES) or ":" in key or key in _CDK_KEYS


def closest_option(key: str) -> str | None:
    """The option a mistyped key most likely meant (case-insensitive), if any is close."""
    by_lower = {option.lower(): option for option in OPTION_KEYS}
    if key.lower() in by_lower:
        return by_lower[key.lower()]
    matches = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None


def check_keys(keys: Iterable[str]) -> None:
    """Refuse every context key that is neither an option nor the CDK's own."""
    problems = []
    for key in keys:
        if key in OPTION_KEYS or is_cdk_key(key):
            continue
        if key in REMOVED_KEYS:
            problems.append(REMOVED_KEYS[key])
            continue
        closest = closest_option(key)
        hint = f"did you mean {closest!r}?" if closest else f"the options are: {', '.join(OPTION_KEYS)}"
        problems.append(f"unknown context key {key!r}: {hint}")
    if problems:
        raise ConfigError("; ".join(problems))


def check_region(region: str, where: str) -> str:
    """Refuse a region where the runtime or the Powertools layer (and its parameter) is missing."""
    if region not in SUPPORTED_REGIONS:
        raise ConfigError(
            f"{where}: {region!r} is not a region where AWS publishes the Powertools layer for python3.13 "
            f"on arm64 and its per-release SSM parameter, so the deploy would fail there; supported: "
            f"{', '.join(SUPPORTED_REGIONS)}"
        )
    return region


def _shown(value: Any) -> str:
    """A value as the operator wrote it in cdk.json (``null``, ``true``), or as -c gave it."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


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
    raise ConfigError(f"{key} must be true or false, got {_shown(value)}")


def _values(kind: type[StrEnum]) -> tuple[str, ...]:
    """An enum's values as plain strings: what the options hold and the stack writes."""
    return tuple(member.value for member in kind)


def _choice(value: Any, key: str, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}; got {_shown(value)}")
    return value


def _string_list(value: Any, key: str) -> list[str]:
    value = _decode(value)
    if isinstance(value, str):
        # "-c notificationEmails=a@x.org,b@x.org" is the natural thing to type.
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{key} must be a list of strings ([] for none), got {_shown(value)}")
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
        check_region(region, REGIONS)
    if len(set(regions)) != len(regions):
        raise ConfigError(f"{REGIONS} lists a region twice: {regions}")
    return tuple(regions)


def _optional_region(value: Any, key: str) -> str | None:
    if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
        return None
    if not isinstance(value, str) or not _REGION.match(value):
        raise ConfigError(f"{key} must be a region name such as eu-west-1, or null; got {_shown(value)}")
    return check_region(value, key)


def _organization_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
        return None
    if not isinstance(value, str) or not _ORGANIZATION_ID.fullmatch(value):
        raise ConfigError(
            f"{ORGANIZATION_ID} must be an AWS Organizations id such as o-a1b2c3d4e5 "
            f"(aws organizations describe-organization --query Organization.Id), got {_shown(value)}"
        )
    return value


def _organizational_units(value: Any) -> tuple[str, ...]:
    units = _string_list(value, ORGANIZATIONAL_UNIT_IDS)
    for unit in units:
        if not _ORGANIZATIONAL_UNIT_ID.fullmatch(unit):
            raise ConfigError(
                f"{ORGANIZATIONAL_UNIT_IDS}: {unit!r} is neither an OU id such as ou-ab12-cd34ef56 nor a root id "
                "such as r-ab12"
            )
    if len(set(units)) != len(units):
        raise ConfigError(f"{ORGANIZATIONAL_UNIT_IDS} lists an OU twice: {units}")
    return tuple(units)


def _accounts(value: Any, key: str) -> tuple[str, ...]:
    # "-c memberAccounts=111122223333" must stay a string: as JSON it is a number (and one
    # with a leading zero is no JSON at all), which would lose or mangle the id.
    if isinstance(value, str) and not value.lstrip().startswith("["):
        value = [item.strip() for item in value.split(",") if item.strip()]
    accounts = _string_list(value, key)
    for account in accounts:
        if not ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"{key}: {account!r} is not an AWS account id (12 digits, as a string)")
    if len(set(accounts)) != len(accounts):
        raise ConfigError(f"{key} lists an account twice: {accounts}")
    return tuple(accounts)


def _reserved_concurrency(value: Any) -> int | None:
    value = _decode(value)
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
        return None
    # Zero would silently stop every rollback: refuse it rather than deploy a no-op.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{RESERVED_CONCURRENCY} must be a positive integer, or null/none for no reservation; got {_shown(value)}"
        )
    return value


# --------------------------------------------------------------------------- chat channels
# Formats from the Amazon Q Developer in chat applications API (botocore's chatbot model).

_SLACK_WORKSPACE = re.compile(r"[0-9A-Z]{1,255}")
_SLACK_CHANNEL = re.compile(r"[A-Za-z0-9]{1,255}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
_TEAMS_CHANNEL = re.compile(r"[a-zA-Z0-9\-_=+/.,]*%3[aA][a-zA-Z0-9\-_=+/.,]*%40[a-zA-Z0-9\-_=+/.,]*")


@dataclass(frozen=True)
class SlackChannel:
    """``chatSlack``: ``{"workspaceId": "T0123ABCD", "channelId": "C0123ABCD"}``."""

    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class TeamsChannel:
    """``chatTeams``: ``{"teamId": <uuid>, "channelId": "19%3a...%40thread.tacv2", "tenantId": <uuid>}``."""

    team_id: str
    channel_id: str
    tenant_id: str


def _chat_fields(value: Any, key: str, fields: dict[str, tuple[re.Pattern[str], str]]) -> dict[str, str] | None:
    value = _decode(value)
    # "-c chatSlack=null" is how one command turns off a channel that cdk.json configures.
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be an object with {', '.join(fields)}, got {_shown(value)}")
    unknown = sorted(set(value) - set(fields))
    missing = [name for name in fields if name not in value]
    if unknown or missing:
        raise ConfigError(f"{key} must have exactly {', '.join(fields)}; missing {missing}, unknown {unknown}")
    for name, (pattern, example) in fields.items():
        if not isinstance(value[name], str) or not pattern.fullmatch(value[name]):
            raise ConfigError(f"{key}.{name} must look like {example}, got {_shown(value[name])}")
    return {name: str(value[name]) for name in fields}


def _slack_channel(value: Any) -> SlackChannel | None:
    fields = _chat_fields(
        value,
        CHAT_SLACK,
        {
            "workspaceId": (_SLACK_WORKSPACE, "T0123ABCD (upper-case letters and digits, from the Slack workspace)"),
            "channelId": (_SLACK_CHANNEL, "C0123ABCD (letters and digits, from the channel's details)"),
        },
    )
    return SlackChannel(fields["workspaceId"], fields["channelId"]) if fields else None


def _teams_channel(value: Any) -> TeamsChannel | None:
    fields = _chat_fields(
        value,
        CHAT_TEAMS,
        {
            "teamId": (_UUID, "a UUID such as 0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b"),
            "channelId": (_TEAMS_CHANNEL, "19%3a0123abcd%40thread.tacv2 (URL-encoded, from the channel's link)"),
            "tenantId": (_UUID, "a UUID such as 0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b"),
        },
    )
    return TeamsChannel(fields["teamId"], fields["channelId"], fields["tenantId"]) if fields else None
