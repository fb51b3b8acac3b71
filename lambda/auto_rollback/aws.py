"""AWS access: the only module that calls AWS. Clients are injectable for tests and benchmarks.

Reads go through botocore's standard retry mode. The two calls that change
something (rollback and cancel) are additionally retried here, with capped
exponential backoff and full jitter, for as long as the invocation has time:
``ResourceContention`` and ``LimitExceeded`` are transient for them, and giving
up early would leave a bad refresh running.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from auto_rollback import __version__
from auto_rollback.facts import (
    ALARM_PREFIX_TAG,
    MODE_TAG,
    AlarmFacts,
    GroupMode,
    GroupTags,
    MuteFacts,
    RefreshFacts,
)
from auto_rollback.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient

_T = TypeVar("_T")

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra=f"auto-rollback/{__version__}",
)

#: CloudWatch's limit on alarm names (and so on the prefixes worth asking about).
MAX_ALARM_NAME = 255
#: Every kind of alarm that can watch a group. DescribeAlarms returns metric alarms
#: only unless asked, so each kind must be named.
ALARM_TYPES: list[Any] = ["MetricAlarm", "CompositeAlarm", "LogAlarm"]

#: Errors after which the same mutating call may succeed if tried again later.
TRANSIENT_ERRORS = frozenset(
    {
        "ResourceContention",
        "LimitExceeded",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "InternalFailure",
    }
)


#: CloudWatch's service model from the botocore the tests pin (``make models``), read
#: before the Lambda runtime's own: a runtime boto3 older than alarm mute rules or log
#: alarms would lack ListAlarmMuteRules and silently drop ``LogAlarms``.
MODELS_DIR = Path(__file__).resolve().parent / "models"


@cache
def aws_session() -> boto3.Session:
    """The one boto3 session of the container, whose clients use the shipped service models first.

    Every client the function makes comes from it: a session loads AWS's endpoint
    data, which a second one would load again (cold start, memory).
    """
    core = botocore.session.get_session()
    core.set_config_variable("data_path", str(MODELS_DIR))
    return boto3.Session(botocore_session=core)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class AwsGateway:
    """Typed reads and writes of Auto Scaling and CloudWatch, nothing more."""

    def __init__(
        self,
        autoscaling: AutoScalingClient | None = None,
        cloudwatch: CloudWatchClient | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if autoscaling is None or cloudwatch is None:
            session = aws_session()
            autoscaling = autoscaling or session.client("autoscaling", config=CLIENT_CONFIG)
            cloudwatch = cloudwatch or session.client("cloudwatch", config=CLIENT_CONFIG)
        self.autoscaling: AutoScalingClient = autoscaling
        self.cloudwatch: CloudWatchClient = cloudwatch
        self._sleep = sleep

    # --- reads ---------------------------------------------------------------------------------------------

    def opted_in_groups(self) -> dict[str, GroupTags]:
        """Every group that carries an auto-rollback tag, in one paginated DescribeTags call."""
        return self._group_tags([{"Name": "key", "Values": [MODE_TAG, ALARM_PREFIX_TAG]}])

    def group_tags(self, group_name: str) -> GroupTags:
        """One group's auto-rollback tags; a group without them is disabled."""
        found = self._group_tags([{"Name": "auto-scaling-group", "Values": [group_name]}])
        return found.get(group_name, GroupTags(name=group_name))

    def _group_tags(self, filters: list[Any]) -> dict[str, GroupTags]:
        collected: dict[str, dict[str, str]] = {}
        for page in self.autoscaling.get_paginator("describe_tags").paginate(Filters=filters):
            for tag in page.get("Tags", []):
                if tag.get("ResourceType") == "auto-scaling-group":
                    collected.setdefault(tag["ResourceId"], {})[tag["Key"]] = tag.get("Value", "")
        return {name: _group(name, tags) for name, tags in collected.items()}

    def alarm_tags(self, alarm_arn: str) -> dict[str, str]:
        """The alarm's tags; none when the alarm was deleted after it fired (prefix links still apply)."""
        try:
            response = self.cloudwatch.list_tags_for_resource(ResourceARN=alarm_arn)
        except ClientError as error:
            if error_code(error) in {"ResourceNotFound", "ResourceNotFoundException"}:
                return {}
            raise
        return {tag["Key"]: tag["Value"] for tag in response.get("Tags", [])}

    def latest_refresh(self, group_name: str, refresh_id: str | None = None) -> RefreshFacts | None:
        """The newest refresh of the group (or the one named), or None if there is none."""
        kwargs: dict[str, Any] = {"AutoScalingGroupName": group_name, "MaxRecords": 1}
        if refresh_id:
            kwargs["InstanceRefreshIds"] = [refresh_id]
        refreshes = self.autoscaling.describe_instance_refreshes(**kwargs).get("InstanceRefreshes", [])
        return _refresh_facts(refreshes[0]) if refreshes else None

    def alarms_in_alarm(self, changed_since: datetime | None) -> Iterator[AlarmFacts]:
        """Alarms of every kind now in ALARM that entered ALARM at or after ``changed_since``."""
        paginator = self.cloudwatch.get_paginator("describe_alarms")
        for page in paginator.paginate(StateValue="ALARM", AlarmTypes=ALARM_TYPES):
            for alarm in _alarms_of(page):
                changed_at = _state_changed_at(alarm)
                if changed_since is None or changed_at >= changed_since:
                    yield AlarmFacts(
                        name=alarm["AlarmName"],
                        arn=alarm["AlarmArn"],
                        state=alarm["StateValue"],
                        state_reason=alarm.get("StateReason", ""),
                        state_changed_at=changed_at,
                        # Only composite alarms carry these; present only while actions are held back.
                        actions_suppressed_by=alarm.get("ActionsSuppressedBy") or None,
                        actions_suppressed_reason=alarm.get("ActionsSuppressedReason", ""),
                    )

    def alarm_state(self, alarm_name: str) -> str | None:
        """The alarm's state now (any kind of alarm), or None if it no longer exists."""
        alarms = _alarms_of(self.cloudwatch.describe_alarms(AlarmNames=[alarm_name], AlarmTypes=ALARM_TYPES))
        return str(alarms[0]["StateValue"]) if alarms else None

    def active_mute(self, alarm_name: str) -> MuteFacts | None:
        """The mute rule silencing the alarm now, if any: one ListAlarmMuteRules call, as a rule.

        ``Statuses=["ACTIVE"]`` is "currently muting alarm actions" (GetAlarmMuteRule's
        documentation), so the first such rule settles it. AWS does not document that
        the filters apply before paging, so a page without one is followed by the next.
        The summary has no window, only the rule's ARN.
        """
        kwargs: dict[str, Any] = {"AlarmName": alarm_name, "Statuses": ["ACTIVE"], "MaxRecords": 100}
        while True:
            try:
                response = self.cloudwatch.list_alarm_mute_rules(**kwargs)
            except ClientError as error:
                # The alarm was deleted since DescribeAlarms listed it: no rule can mute it now.
                if error_code(error) in {"ResourceNotFound", "ResourceNotFoundException"}:
                    return None
                raise
            for rule in response.get("AlarmMuteRuleSummaries", []):
                if rule.get("Status") == "ACTIVE" and rule.get("AlarmMuteRuleArn"):
                    return MuteFacts(rule_arn=rule["AlarmMuteRuleArn"])
            if not response.get("NextToken"):
                return None
            kwargs["NextToken"] = response["NextToken"]

    def count_alarms_with_prefix(self, prefix: str) -> int:
        """How many alarms (any state, any kind, first page only) have a name starting with ``prefix``."""
        if len(prefix) > MAX_ALARM_NAME:  # a tag value may be 256 long; AWS refuses such a prefix
            return 0
        return len(
            _alarms_of(self.cloudwatch.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=ALARM_TYPES, MaxRecords=100))
        )

    # --- writes --------------------------------------------------------------------------------------------

    def rollback(self, group_name: str, remaining_seconds: Callable[[], float]) -> str:
        """RollbackInstanceRefresh; returns the refresh id. Raises ClientError when AWS refuses."""
        response = self._with_backoff(
            lambda: self.autoscaling.rollback_instance_refresh(AutoScalingGroupName=group_name),
            remaining_seconds,
        )
        return str(response.get("InstanceRefreshId", ""))

    def cancel(self, group_name: str, remaining_seconds: Callable[[], float]) -> str:
        """CancelInstanceRefresh; returns the refresh id. Raises ClientError when AWS refuses."""
        response = self._with_backoff(
            lambda: self.autoscaling.cancel_instance_refresh(AutoScalingGroupName=group_name),
            remaining_seconds,
        )
        return str(response.get("InstanceRefreshId", ""))

    def _with_backoff(self, call: Callable[[], _T], remaining_seconds: Callable[[], float]) -> _T:
        for delay in _backoff_delays():
            try:
                return call()
            except ClientError as error:
                if error_code(error) not in TRANSIENT_ERRORS or delay >= remaining_seconds():
                    raise
            self._sleep(delay)
        raise AssertionError("unreachable: the backoff sequence is endless")  # pragma: no cover


def _backoff_delays(base: float = 0.2, cap: float = 5.0) -> Iterator[float]:
    """Capped exponential backoff with full jitter (AWS Architecture Blog's recommendation)."""
    attempt = 0
    while True:
        yield random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter, not cryptography
        attempt += 1


def _alarms_of(response: Any) -> list[Any]:
    """Every alarm in a DescribeAlarms answer, whatever its kind (each kind has its own list)."""
    return [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", []), *response.get("LogAlarms", [])]


def _state_changed_at(alarm: Any) -> datetime:
    """When the alarm entered its current state.

    ``StateTransitionedTimestamp``, not ``StateUpdatedTimestamp``: the latter also
    moves when a metric alarm's EvaluationState changes and on any update of a
    composite alarm, so an alarm in ALARM since before a refresh would look new.
    """
    transitioned = alarm.get("StateTransitionedTimestamp")
    if transitioned is None:  # not in AWS's answers today; an older API version lacked it
        logger.warning("DescribeAlarms gave no StateTransitionedTimestamp", extra={"alarm": alarm.get("AlarmName")})
        return cast(datetime, alarm["StateUpdatedTimestamp"])
    return cast(datetime, transitioned)


def _group(name: str, tags: dict[str, str]) -> GroupTags:
    mode = GroupMode.from_tag(tags.get(MODE_TAG))
    return GroupTags(
        name=name,
        mode=mode,
        alarm_prefix=tags.get(ALARM_PREFIX_TAG) or None,
        # Kept only when it is not exactly a mode: GroupTags.meant_mode reads it for near misses.
        unrecognised_mode=tags.get(MODE_TAG) if mode is GroupMode.DISABLED else None,
    )


def _refresh_facts(refresh: Any) -> RefreshFacts:
    desired = refresh.get("DesiredConfiguration") or {}
    template = desired.get("LaunchTemplate") or (
        (desired.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
    )
    return RefreshFacts(
        instance_refresh_id=refresh["InstanceRefreshId"],
        status=refresh["Status"],
        start_time=refresh.get("StartTime"),
        has_desired_configuration=bool(desired),
        # A launch template specification without Version means $Default (LaunchTemplateSpecification).
        launch_template_version=(template.get("Version") or "$Default") if template else None,
    )
