"""The contract the function and the stack share: every name one side writes and the other reads.

Tag keys and values, refresh statuses, event sources and detail-types, manual
actions, outcomes, severities and reasons, the environment variables the stack
sets, the metric names the dashboard graphs, the organization's bus and role
names. The function (``auto_rollback``) and the stack (``infra``) import them from
here and never type them again, so that what the stack filters, grants, graphs and
configures is what the function emits and reads.

Standard library only, and no AWS call: the stack imports this module (and no
other of the function's), so it must bring in neither boto3 nor Powertools; and it
must never import CDK, which the function does not ship.
"""

from __future__ import annotations

import re
from enum import StrEnum

# --- tags ------------------------------------------------------------------------------------------------

#: Group tag that opts a group in. Absent means disabled.
MODE_TAG = "auto-rollback"
#: Group tag: alarms whose name starts with this value watch the group.
ALARM_PREFIX_TAG = "auto-rollback:alarm-prefix"
#: Alarm tag: the name of the group this alarm watches.
ALARM_GROUP_TAG = "auto-rollback:group"
#: How EC2 Auto Scaling and Application Auto Scaling name the alarms of target-tracking
#: policies (``TargetTracking-<resource>-AlarmHigh-<uuid>``, ``...-AlarmLow-<uuid>``). They go
#: to ALARM on every scale-out, so the stack's alarm rule drops their state changes
#: (infra/triggers.py), and an alarm named like this never invokes the function.
TARGET_TRACKING_ALARM_PREFIX = "TargetTracking-"


class GroupMode(StrEnum):
    """The value of a group's ``auto-rollback`` tag (the IAM condition of the rollback compares ENABLED)."""

    ENABLED = "enabled"
    DRY_RUN = "dry-run"
    DISABLED = "disabled"

    @classmethod
    def from_tag(cls, value: str | None) -> GroupMode:
        """Exactly a known value, or disabled: the function never guesses consent.

        Exact on purpose: the IAM policy that allows the rollback compares the tag
        with ``StringEquals`` (case-sensitive, no trimming). A looser match here would
        decide to roll back a group that IAM then refuses to touch.
        """
        try:
            return cls(value or "")
        except ValueError:
            return cls.DISABLED

    @classmethod
    def near_miss(cls, value: str | None) -> GroupMode | None:
        """The mode an owner most likely meant by a value that is not exact (``Enabled``, ``enabled ``)."""
        if value is None or cls.from_tag(value) is not cls.DISABLED:
            return None
        try:
            meant = cls(" ".join(value.split()).lower())
        except ValueError:
            return None
        return None if meant is cls.DISABLED else meant


# --- instance refreshes ----------------------------------------------------------------------------------


class RefreshStatus(StrEnum):
    """An instance refresh's ``Status``, as DescribeInstanceRefreshes reports it."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    BAKING = "Baking"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    CANCELLING = "Cancelling"
    CANCELLED = "Cancelled"
    ROLLBACK_IN_PROGRESS = "RollbackInProgress"
    ROLLBACK_SUCCESSFUL = "RollbackSuccessful"
    ROLLBACK_FAILED = "RollbackFailed"


#: Refresh statuses in which a rollback can still help.
ACTIVE_STATUSES = frozenset({RefreshStatus.PENDING, RefreshStatus.IN_PROGRESS, RefreshStatus.BAKING})
#: What a refresh looks like after a rollback, and after a cancel (ours or anyone's).
ROLLING_BACK_STATUSES = frozenset(
    {RefreshStatus.ROLLBACK_IN_PROGRESS, RefreshStatus.ROLLBACK_SUCCESSFUL, RefreshStatus.ROLLBACK_FAILED}
)
CANCELLED_STATUSES = frozenset({RefreshStatus.CANCELLING, RefreshStatus.CANCELLED})

# --- events: what the stack's rules let through and the function parses -----------------------------------

ALARM_SOURCE = "aws.cloudwatch"
ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
REFRESH_SOURCE = "aws.autoscaling"
REFRESH_DETAIL_TYPE_PREFIX = "EC2 Auto Scaling Instance Refresh "
#: CloudWatch's alarm states. The function acts on ALARM, and on INSUFFICIENT_DATA when
#: INSUFFICIENT_DATA_ACTION=rollback; the stack's rule lets through exactly those.
ALARM_STATE = "ALARM"
INSUFFICIENT_DATA_STATE = "INSUFFICIENT_DATA"
OK_STATE = "OK"
ALARM_STATES = (OK_STATE, ALARM_STATE, INSUFFICIENT_DATA_STATE)


class RefreshEventType(StrEnum):
    """The instance-refresh detail-types, by the suffix after the common prefix."""

    STARTED = "Started"
    CHECKPOINT_REACHED = "Checkpoint Reached"
    STARTED_BAKING = "Started Baking"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    ROLLBACK_STARTED = "Rollback Started"
    ROLLBACK_SUCCEEDED = "Rollback Succeeded"
    ROLLBACK_FAILED = "Rollback Failed"

    @property
    def detail_type(self) -> str:
        return REFRESH_DETAIL_TYPE_PREFIX + self.value


class ManualAction(StrEnum):
    """A manual invoke's ``action`` that acts on, or answers for, one group (it names the group)."""

    ROLLBACK = "rollback"
    EVALUATE = "evaluate"


#: The manual invoke that lists the fleet (read-only, every opted-in group); it names no group.
INVENTORY_ACTION = "inventory"

# --- outcomes, severities and reasons (README, "Outcomes") --------------------------------------------------


class Outcome(StrEnum):
    """What an invocation did for one group. The README documents each value."""

    ROLLBACK_STARTED = "ROLLBACK_STARTED"
    CANCELLED = "CANCELLED"
    ROLLBACK_UNSUPPORTED = "ROLLBACK_UNSUPPORTED"
    DRY_RUN = "DRY_RUN"
    SKIPPED = "SKIPPED"
    DEDUPLICATED = "DEDUPLICATED"
    NOTIFIED = "NOTIFIED"
    FAILED = "FAILED"


#: Outcomes that changed something (or would have, in dry run): they are published at least once.
PUBLISHED_OUTCOMES = frozenset(
    {
        Outcome.ROLLBACK_STARTED,
        Outcome.CANCELLED,
        Outcome.ROLLBACK_UNSUPPORTED,
        Outcome.DRY_RUN,
        Outcome.NOTIFIED,
        Outcome.FAILED,
    }
)
#: What the function records for an event it rejects. Not an Outcome: no group was decided.
INVALID_EVENT = "INVALID_EVENT"
#: The log lines the stack's saved Logs Insights queries read: each decision, with the result
#: under ``result``, and each rejected event, with ``field`` and ``problem``.
DECISION_LOG_MESSAGE = "Decision"
REJECTED_LOG_MESSAGE = "Rejected event"


class Severity(StrEnum):
    """Lets subscribers filter notifications (SNS message attribute ``severity``)."""

    HIGH = "high"
    MEDIUM = "medium"
    INFO = "info"


# Machine-readable reasons, documented in the README. Plain strings: a result carries
# its reason as text, to the caller, the logs and every subscriber.
# The decision's:
NOT_ALARM_STATE = "not-alarm-state"
ALARM_MUTED = "alarm-muted"
ACTIONS_SUPPRESSED = "alarm-actions-suppressed"
NO_LINKED_GROUP = "no-linked-group"
GROUP_NOT_ENABLED = "group-not-enabled"
OPT_IN_NOT_EXACT = "opt-in-tag-not-exact"
GROUP_TAG_NOT_EXACT = "group-tag-not-exact"
NO_ACTIVE_REFRESH = "no-active-refresh"
REFRESH_CANCELLING = "refresh-cancelling"
ROLLBACK_IN_PROGRESS = "rollback-in-progress"
ALARM_PREDATES_REFRESH = "alarm-predates-refresh"
NO_ALARM_IN_ALARM = "no-linked-alarm-in-alarm"
DRY_RUN_SETTING = "dry-run"
DRY_RUN_GROUP = "group-dry-run"
DRY_RUN_REQUEST = "dry-run-requested"
ROLLBACK_BY_ALARM = "alarm"
ROLLBACK_BY_REQUEST = "manual-request"
EVALUATE_WOULD_ROLL_BACK = "evaluate-would-roll-back"
#: A lifecycle event's reason, by its type: ``refresh-started``, ``refresh-checkpoint-reached``, ...
LIFECYCLE_REASONS = {
    event_type: "refresh-" + event_type.name.lower().replace("_", "-") for event_type in RefreshEventType
}
# The actions':
REFRESH_ENDED = "refresh-ended"
IRREVERSIBLE = "rollback-irreversible"
ALREADY_HANDLED = "already-handled"
RECOVERED = "recovered-interrupted-invocation"
# Hub mode's:
ACCOUNT_NOT_SERVED = "account-not-served"
MEMBER_ROLE_REFUSED = "member-role-refused"
MEMBER_ACCESS_DENIED = "member-access-denied"
CROSS_ACCOUNT_LINK_REFUSED = "cross-account-link-refused"

# The inventory's warning codes, documented in the README. Near misses reuse the decision's reason
# (OPT_IN_NOT_EXACT).
OPT_IN_UNRECOGNISED = "opt-in-tag-unrecognised"
NO_LINKED_ALARM = "no-linked-alarm"
MOVING_LAUNCH_TEMPLATE_VERSION = "launch-template-moving-version"
TARGET_TRACKING_PREFIX = "target-tracking-prefix"
TARGET_TRACKING_ALARM = "target-tracking-alarm"
ALARM_PREFIX_TOO_LONG = "alarm-prefix-too-long"
ALARMS_NOT_ALL_LISTED = "alarms-not-all-listed"
OUT_OF_TIME = "out-of-time"

# --- settings: the environment variables the stack sets and the function reads (README, "Settings") ----------


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


ENV_NOTIFICATION_TOPIC_ARN = "NOTIFICATION_TOPIC_ARN"
ENV_IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"
ENV_DRY_RUN = "DRY_RUN"
ENV_IRREVERSIBLE_FALLBACK = "IRREVERSIBLE_FALLBACK"
ENV_INSUFFICIENT_DATA_ACTION = "INSUFFICIENT_DATA_ACTION"
ENV_MUTED_ALARM_ACTION = "MUTED_ALARM_ACTION"
ENV_CHAT_TOPIC_ARN = "CHAT_TOPIC_ARN"
#: Hub mode: set only on a hub's function, and what makes it one.
ENV_MEMBER_ROLE_NAME = "MEMBER_ROLE_NAME"
ENV_MEMBER_ACCOUNTS = "MEMBER_ACCOUNTS"
ENV_ALARM_ACCOUNTS = "ALARM_ACCOUNTS"
#: Powertools' own variables, which the stack sets to the names below.
ENV_POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"

# --- metrics: what the function emits (EMF) and the stack alarms on and graphs ------------------------------

SERVICE = "auto-rollback"
NAMESPACE = "AutoRollback"
#: Added for each ROLLBACK_STARTED and each FAILED, besides the per-outcome metric: what an on-call acts on.
ROLLBACKS_METRIC = "RollbacksStarted"
FAILURES_METRIC = "Failures"
#: A chat copy of an outcome that SNS refused (the outcome itself was published);
#: the stack alarms on it and graphs it.
CHAT_FAILURE_METRIC = "ChatPublishFailures"
#: Hub mode: events from an account outside MEMBER_ACCOUNTS, refused without retries.
REFUSED_ACCOUNT_METRIC = "RefusedAccountEvents"
#: Hub mode: a monitoring account whose alarms a checkpoint could not read (its role refused the hub).
UNREADABLE_ALARM_ACCOUNT_METRIC = "UnreadableAlarmAccounts"


def outcome_metric_name(outcome: str) -> str:
    """``ROLLBACK_STARTED`` -> ``OutcomeRollbackStarted``: one metric per outcome (and INVALID_EVENT)."""
    return "Outcome" + "".join(part.capitalize() for part in outcome.split("_"))


# --- the deployment: what the stack deploys and the tools find it by ----------------------------------------

#: The function's entry point, as the stack configures it and the demo and smoke test look for it.
HANDLER = "auto_rollback.handler.lambda_handler"
#: The display names of the stack's two topics, by which the embedded AWS tells them apart.
OUTCOMES_TOPIC_DISPLAY_NAME = "auto-rollback outcomes"
CHAT_TOPIC_DISPLAY_NAME = "auto-rollback chat"

# --- limits ------------------------------------------------------------------------------------------------

#: The function's memory. Lambda allots CPU in proportion to memory, so 256 MB doubles
#: the CPU share of the 128 MB minimum, which shortens the cold start spent importing
#: boto3 and Powertools; at a few invocations per alarm the cost difference is
#: negligible. The stack sets it; the bench measures the function against it.
MEMORY_MB = 256

# --- organization mode: the hub's bus and the roles (docs/DEPLOY.md, "Organization mode") --------------------
#
# In hub mode one function, in a hub account, serves every account of an AWS
# Organization: each member account's spoke forwards its events to the hub's bus
# and holds a role the function assumes to read and act there. The hub stack and the
# spoke template use these names, so that the role the function asks for is the role
# the template creates.

#: The custom event bus in the hub account that every spoke of the same region forwards to.
HUB_BUS_NAME = "auto-rollback-hub"
#: The role session name member accounts see in CloudTrail for every call the function makes there.
ROLE_SESSION_NAME = "auto-rollback"
MEMBER_ROLE_PREFIX = "auto-rollback-member"
HUB_ROLE_PREFIX = "auto-rollback-hub"

#: An AWS account id: twelve digits, leading zeros included.
ACCOUNT_ID = re.compile(r"\d{12}")
_QUALIFIED_LINK = re.compile(r"(\d{12})/(.+)", re.DOTALL)


def member_role_name(region: str) -> str:
    """The role of a member account the hub of ``region`` assumes: one per region, as IAM names are global."""
    return f"{MEMBER_ROLE_PREFIX}-{region}"


def hub_role_name(region: str) -> str:
    """The hub function's execution role, named so that spokes can trust it before it is deployed anywhere else."""
    return f"{HUB_ROLE_PREFIX}-{region}"


def member_role_arn(account: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def split_group_link(value: str) -> tuple[str | None, str]:
    """``"111122223333/web"`` names group ``web`` of account 111122223333; any other value names a group only.

    Group names may themselves contain ``/``: in hub mode a group whose name starts
    with twelve digits and a slash must be written with its account in front.
    """
    qualified = _QUALIFIED_LINK.fullmatch(value)
    if qualified is None:
        return None, value
    return qualified.group(1), qualified.group(2)


def parse_account_list(raw: str, name: str) -> frozenset[str]:
    """A comma-separated list of account ids (blank: none), as MEMBER_ACCOUNTS and ALARM_ACCOUNTS are written.

    Raises ValueError naming ``name`` and the bad entry.
    """
    accounts = [entry.strip() for entry in raw.split(",") if entry.strip()]
    for account in accounts:
        if not ACCOUNT_ID.fullmatch(account):
            raise ValueError(f"{name} must list 12-digit AWS account ids separated by commas, got {account!r}")
    return frozenset(accounts)
