"""AWS access: the only module that calls AWS. Clients are injectable for tests and benchmarks.

One layer of retries per call, never two. Reads are retried by botocore alone
(standard mode; adaptive mode for Auto Scaling, see ``AUTOSCALING_READ_CONFIG``).
The two calls that change something (rollback and cancel) go through a client
whose botocore retries are off, and are retried here alone, with capped
exponential backoff and full jitter: refusals (throttling, Auto Scaling's
``ResourceContention`` and ``LimitExceeded``, any 5xx) at least as often as
botocore would and then for as long as the invocation has time, because botocore
backs a 5xx off from 50 ms (five attempts in under a second) while a pending
update to the group lasts longer, and giving up early would leave a bad refresh
running; a connection error as often as botocore would, after which the caller
re-reads the refresh to learn whether the call was applied.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, RefreshableCredentials
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from auto_rollback import __version__
from auto_rollback.accounts import ROLE_SESSION_NAME, member_role_arn
from auto_rollback.facts import (
    ALARM_GROUP_TAG,
    ALARM_PREFIX_TAG,
    MODE_TAG,
    AlarmFacts,
    GroupConfig,
    GroupMode,
    GroupTags,
    MuteFacts,
    RefreshFacts,
)
from auto_rollback.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sts import STSClient

_T = TypeVar("_T")

#: Five attempts: botocore's backoff (random, doubling from up to 1 s for throttling) waits at most
#: 1 + 2 + 4 + 8 = 15 s in all, a quarter of the function's 60 s. Attempts that each hang until the
#: timeouts below (3 s to connect, 10 s to read) can outlast the invocation; Lambda's timeout then
#: ends it, its idempotency record expires with it, and Lambda's retry takes over.
MAX_ATTEMPTS = 5
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra=f"auto-rollback/{__version__}",
)
#: For rollback and cancel: botocore makes one attempt, and :meth:`AwsGateway._with_backoff` the rest.
WRITE_CONFIG = CLIENT_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
#: Auto Scaling's reads: adaptive mode's client-side rate limit on top of standard mode's retries. Auto
#: Scaling throttles all of an account's calls from one bucket (its API reference, "API request rate"),
#: the single-resource case the AWS SDKs reference guide ("Retry behavior") names for adaptive mode; in
#: an alarm storm it keeps a container from spending its attempts against a bucket other tools share.
#: Seven attempts, not five: in the storm of docs/PERFORMANCE.md a read throttled five times in a row
#: still happened, and the two more waits (at most 16 + 20 s) fit the invocation's time on that tail.
AUTOSCALING_READ_ATTEMPTS = 7
AUTOSCALING_READ_CONFIG = CLIENT_CONFIG.merge(
    Config(retries={"mode": "adaptive", "total_max_attempts": AUTOSCALING_READ_ATTEMPTS})
)
#: botocore's adaptive limit, once learnt, is never forgotten, and with a rarely invoked function it stays
#: near its floor (0.5 requests/s): every later invocation would wait. So the read client is made anew
#: at the start of the first invocation this long after the last throttled answer: the storm has passed.
FORGET_THROTTLING_AFTER_SECONDS = 60.0
#: The error codes botocore treats as throttling, among those AWS's services the function calls send.
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException"})

#: CloudWatch's limit on alarm names (and so on the prefixes worth asking about).
MAX_ALARM_NAME = 255
#: The largest pages and lists each API takes (botocore's models and the API references): the
#: fewer pages, the fewer calls when a group has many alarms.
MAX_TAGS_PAGE = 100  # DescribeTags MaxRecords
MAX_FILTER_VALUES = 1000  # DescribeTags: "The maximum number of filters per filter type ... is 1000."
MAX_ALARMS_PAGE = 100  # DescribeAlarms MaxRecords
MAX_ALARM_NAMES = 100  # DescribeAlarms AlarmNames
MAX_TAGGED_PAGE = 100  # GetResources ResourcesPerPage
MAX_TAG_FILTER_VALUES = 20  # GetResources: "each key can include up to 20 values"
MAX_GROUPS_PAGE = 100  # DescribeAutoScalingGroups MaxRecords
#: Every kind of alarm that can watch a group. DescribeAlarms returns metric alarms
#: only unless asked, so each kind must be named.
ALARM_TYPES: list[Any] = ["MetricAlarm", "CompositeAlarm", "LogAlarm"]

#: Refusals after which the same mutating call may succeed later: throttling, contention, quotas and
#: AWS's own transient failures (any 5xx counts too). The same codes botocore retries as throttling,
#: and Auto Scaling's two of its own (tests/unit/test_aws_gateway.py pins the correspondence).
RETRIED_WRITE_ERRORS = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ResourceContention",
        "LimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
    }
)


#: CloudWatch's service model from the botocore the tests pin (``make models``), read
#: before the Lambda runtime's own: a runtime boto3 older than alarm mute rules or log
#: alarms would lack ListAlarmMuteRules and silently drop ``LogAlarms``.
MODELS_DIR = Path(__file__).resolve().parent / "models"


def _core_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    core.set_config_variable("data_path", str(MODELS_DIR))
    return core


@cache
def aws_session() -> boto3.Session:
    """The one boto3 session of the container, whose clients use the shipped service models first.

    Every client the function makes on its own credentials comes from it: a session
    loads AWS's endpoint data, which a second one would load again (cold start,
    memory). Member accounts' sessions (hub mode) share its loader for that reason.
    """
    return boto3.Session(botocore_session=_core_session())


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class AwsGateway:
    """Typed reads and writes of Auto Scaling and CloudWatch, nothing more."""

    def __init__(
        self,
        autoscaling: AutoScalingClient | None = None,
        cloudwatch: CloudWatchClient | None = None,
        tagging: ResourceGroupsTaggingAPIClient | None = None,
        *,
        autoscaling_writes: AutoScalingClient | None = None,
        session: boto3.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: Where the clients come from: the container's own credentials, or (hub mode) a member account's role.
        self._session = session or aws_session()
        if autoscaling_writes is None:
            # An injected reader also writes: tests and benchmarks control its retries themselves.
            autoscaling_writes = autoscaling or self._session.client("autoscaling", config=WRITE_CONFIG)
        self._own_autoscaling = autoscaling is None
        if autoscaling is None or cloudwatch is None:
            autoscaling = autoscaling or self._new_autoscaling_reader()
            cloudwatch = cloudwatch or self._session.client("cloudwatch", config=CLIENT_CONFIG)
        self._clock = clock
        self._throttled_at: float | None = None
        self.autoscaling: AutoScalingClient = autoscaling
        #: Rollback and cancel only: botocore's retries off, so that ``_with_backoff`` is the one layer.
        self.autoscaling_writes: AutoScalingClient = autoscaling_writes
        self.cloudwatch: CloudWatchClient = cloudwatch
        self._tagging = tagging
        self._sleep = sleep

    def _new_autoscaling_reader(self) -> AutoScalingClient:
        client: AutoScalingClient = self._session.client("autoscaling", config=AUTOSCALING_READ_CONFIG)
        client.meta.events.register("needs-retry.auto-scaling", self._note_throttling)
        return client

    def _note_throttling(self, response: Any = None, **_: Any) -> None:
        """Every attempt's answer passes here (botocore's needs-retry event); returns None to leave retries alone."""
        if response is not None and response[1].get("Error", {}).get("Code") in THROTTLING_CODES:
            self._throttled_at = self._clock()

    def forget_past_throttling(self) -> None:
        """At the start of an invocation: a storm that ended a while ago no longer slows the reads."""
        quiet = self._throttled_at is not None and self._clock() - self._throttled_at >= FORGET_THROTTLING_AFTER_SECONDS
        if quiet and self._own_autoscaling:
            self.autoscaling = self._new_autoscaling_reader()
            self._throttled_at = None

    @property
    def tagging(self) -> ResourceGroupsTaggingAPIClient:
        """Made on first use: only checkpoint and bake checks need it, and a client costs cold start."""
        if self._tagging is None:
            self._tagging = self._session.client("resourcegroupstaggingapi", config=CLIENT_CONFIG)
        return self._tagging

    # --- reads ---------------------------------------------------------------------------------------------

    def groups_linked_by_prefix(self, alarm_name: str) -> dict[str, str]:
        """The groups whose alarm-prefix tag starts ``alarm_name``, with that prefix: one call at any account size.

        DescribeTags matches filter values exactly, so it is asked for every prefix of
        the name (at most 255: an alarm name's limit; the filter takes 1,000 values).
        The answer holds only the groups linked to this alarm, never the whole account.
        """
        prefixes = [alarm_name[:end] for end in range(1, min(len(alarm_name), MAX_ALARM_NAME) + 1)]
        if not prefixes:
            return {}
        rows = self._tag_rows([{"Name": "key", "Values": [ALARM_PREFIX_TAG]}, {"Name": "value", "Values": prefixes}])
        return {group: tags[ALARM_PREFIX_TAG] for group, tags in rows.items()}

    def groups(self, names: Collection[str]) -> dict[str, GroupTags]:
        """The auto-rollback tags of exactly the named groups; a group without them (or none) is disabled."""
        wanted = sorted(set(names))
        rows: dict[str, dict[str, str]] = {}
        for start in range(0, len(wanted), MAX_FILTER_VALUES):
            chunk = wanted[start : start + MAX_FILTER_VALUES]
            keys = [MODE_TAG, ALARM_PREFIX_TAG]
            rows |= self._tag_rows([{"Name": "auto-scaling-group", "Values": chunk}, {"Name": "key", "Values": keys}])
        return {name: _group(name, rows.get(name, {})) for name in wanted}

    def group_tags(self, group_name: str) -> GroupTags:
        """One group's auto-rollback tags; a group without them is disabled."""
        return self.groups([group_name])[group_name]

    def _tag_rows(self, filters: list[Any]) -> dict[str, dict[str, str]]:
        collected: dict[str, dict[str, str]] = {}
        pages = self.autoscaling.get_paginator("describe_tags").paginate(
            Filters=filters, PaginationConfig={"PageSize": MAX_TAGS_PAGE}
        )
        for page in pages:
            for tag in page.get("Tags", []):
                if tag.get("ResourceType") == "auto-scaling-group":
                    collected.setdefault(tag["ResourceId"], {})[tag["Key"]] = tag.get("Value", "")
        return collected

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
        try:
            refreshes = self.autoscaling.describe_instance_refreshes(**kwargs).get("InstanceRefreshes", [])
        except ClientError as error:
            # AWS refuses to describe a group that does not exist (ValidationError, "AutoScalingGroup
            # name not found"): an alarm tag naming a deleted or mistyped group, read before its tags
            # say so. It has no refresh to roll back.
            if error_code(error) == "ValidationError" and "not found" in str(error):
                return None
            raise
        return _refresh_facts(refreshes[0]) if refreshes else None

    def alarms_in_alarm_by_prefix(self, prefix: str, changed_since: datetime | None) -> Iterator[AlarmFacts]:
        """Alarms of every kind whose name starts with ``prefix``, now in ALARM since ``changed_since`` or later."""
        if len(prefix) > MAX_ALARM_NAME:  # a tag value may be 256 long; AWS refuses such a prefix
            return
        pages = self.cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=prefix,
            StateValue="ALARM",
            AlarmTypes=ALARM_TYPES,
            PaginationConfig={"PageSize": MAX_ALARMS_PAGE},
        )
        for page in pages:
            yield from _in_alarm_since(page, changed_since)

    def alarms_in_alarm_by_tag(
        self, group_name: str, changed_since: datetime | None, *, aliases: Sequence[str] = ()
    ) -> Iterator[AlarmFacts]:
        """Alarms tagged ``auto-rollback:group`` = ``group_name`` (or an alias), in ALARM since ``changed_since``.

        Lazy: nothing is read until the first alarm is asked for. The Resource Groups
        Tagging API finds the tagged alarms in one paged call (only this group's), and
        DescribeAlarms reads their states, 100 names a call.
        """
        names = self.alarms_tagged_for(group_name, aliases=aliases)
        for start in range(0, len(names), MAX_ALARM_NAMES):
            pages = self.cloudwatch.get_paginator("describe_alarms").paginate(
                AlarmNames=names[start : start + MAX_ALARM_NAMES],
                StateValue="ALARM",
                AlarmTypes=ALARM_TYPES,
                PaginationConfig={"PageSize": MAX_ALARMS_PAGE},
            )
            for page in pages:
                yield from _in_alarm_since(page, changed_since)

    def alarms_tagged_for(self, group_name: str, *, aliases: Sequence[str] = ()) -> list[str]:
        """The names of the alarms whose ``auto-rollback:group`` tag is exactly ``group_name`` or an alias.

        Hub mode's alias is ``<account>/<group>``: one filter takes both (up to 20 values), one call.
        """
        pages = self.tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": ALARM_GROUP_TAG, "Values": [group_name, *aliases]}],
            ResourceTypeFilters=["cloudwatch:alarm"],
            PaginationConfig={"PageSize": MAX_TAGGED_PAGE},
        )
        names: list[str] = []
        for page in pages:
            for mapping in page.get("ResourceTagMappingList", []):
                name = _alarm_name(mapping.get("ResourceARN", ""))
                if name and name not in names:
                    names.append(name)
        return names

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

    # --- inventory reads (manual ``inventory`` invoke only): each bounded by the caller's page counts ------

    def tagged_groups_page(self, next_token: str | None) -> tuple[list[GroupConfig], str | None]:
        """A page (up to 100) of the groups with an ``auto-rollback`` tag, whatever its value; and the next token.

        The ``tag-key`` filter, not ``tag:auto-rollback``: the latter matches exact values
        only, and the near misses (``Enabled``) are what an inventory must show.
        ``IncludeInstances=false`` is not sent: the parameter is recent, and a runtime's
        boto3 that predates it refuses the whole call before sending it. The instances
        cost answer size, not calls.
        """
        kwargs: dict[str, Any] = {"Filters": [{"Name": "tag-key", "Values": [MODE_TAG]}], "MaxRecords": MAX_GROUPS_PAGE}
        if next_token:
            kwargs["NextToken"] = next_token
        response = self.autoscaling.describe_auto_scaling_groups(**kwargs)
        groups = [_group_config(group) for group in response.get("AutoScalingGroups", [])]
        return groups, response.get("NextToken") or None

    def alarms_tagged_for_groups(
        self, group_names: Sequence[str], *, max_pages: int
    ) -> tuple[dict[str, list[str]], bool]:
        """The alarm names tagged ``auto-rollback:group`` = each group (at most 20 groups); True if pages were left.

        One GetResources filter takes 20 values, so up to 20 groups share each page.
        """
        if len(group_names) > MAX_TAG_FILTER_VALUES:
            raise ValueError(f"at most {MAX_TAG_FILTER_VALUES} groups per GetResources filter")
        found: dict[str, list[str]] = {name: [] for name in group_names}
        if not group_names:
            return found, False
        kwargs: dict[str, Any] = {
            "TagFilters": [{"Key": ALARM_GROUP_TAG, "Values": list(group_names)}],
            "ResourceTypeFilters": ["cloudwatch:alarm"],
            "ResourcesPerPage": MAX_TAGGED_PAGE,
        }
        for _ in range(max_pages):
            response = self.tagging.get_resources(**kwargs)
            for mapping in response.get("ResourceTagMappingList", []):
                name = _alarm_name(mapping.get("ResourceARN", ""))
                tags = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
                group = tags.get(ALARM_GROUP_TAG)
                if name and group in found and name not in found[group]:
                    found[group].append(name)
            if not response.get("PaginationToken"):
                return found, False
            kwargs["PaginationToken"] = response["PaginationToken"]
        return found, True

    def alarms_named(self, names: Sequence[str], *, max_pages: int) -> tuple[list[AlarmFacts], bool]:
        """The alarms of every kind with these names (at most 100), any state; True if pages were left."""
        if len(names) > MAX_ALARM_NAMES:
            raise ValueError(f"at most {MAX_ALARM_NAMES} alarm names per DescribeAlarms call")
        if not names:
            return [], False
        return self._alarm_pages({"AlarmNames": list(names)}, max_pages)

    def alarms_with_prefix(self, prefix: str, *, max_pages: int) -> tuple[list[AlarmFacts], bool]:
        """The alarms of every kind whose name starts with ``prefix``, any state; True if pages were left."""
        if not prefix or len(prefix) > MAX_ALARM_NAME:  # AWS refuses such a prefix
            return [], False
        return self._alarm_pages({"AlarmNamePrefix": prefix}, max_pages)

    def _alarm_pages(self, selection: dict[str, Any], max_pages: int) -> tuple[list[AlarmFacts], bool]:
        kwargs: dict[str, Any] = {**selection, "AlarmTypes": ALARM_TYPES, "MaxRecords": MAX_ALARMS_PAGE}
        alarms: list[AlarmFacts] = []
        for _ in range(max_pages):
            response = self.cloudwatch.describe_alarms(**kwargs)
            alarms.extend(_in_alarm_since(response, None))
            if not response.get("NextToken"):
                return alarms, False
            kwargs["NextToken"] = response["NextToken"]
        return alarms, True

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
            lambda: self.autoscaling_writes.rollback_instance_refresh(AutoScalingGroupName=group_name),
            remaining_seconds,
        )
        return str(response.get("InstanceRefreshId", ""))

    def cancel(self, group_name: str, remaining_seconds: Callable[[], float]) -> str:
        """CancelInstanceRefresh; returns the refresh id. Raises ClientError when AWS refuses."""
        response = self._with_backoff(
            lambda: self.autoscaling_writes.cancel_instance_refresh(AutoScalingGroupName=group_name),
            remaining_seconds,
        )
        return str(response.get("InstanceRefreshId", ""))

    def _with_backoff(self, call: Callable[[], _T], remaining_seconds: Callable[[], float]) -> _T:
        """As many attempts as botocore would make, and more for refusals while the invocation has time.

        A connection error is retried like botocore retries it (``MAX_ATTEMPTS`` in all): if AWS
        applied the call and only the answer was lost, AWS refuses the retry as having no active
        refresh, and the caller re-reads the refresh to learn what happened.
        """
        for attempt, delay in enumerate(_backoff_delays(), start=1):
            try:
                return call()
            except ClientError as error:
                out_of_time = attempt >= MAX_ATTEMPTS and delay >= remaining_seconds()
                if not _retried_write_error(error) or out_of_time:
                    raise
            except (BotoConnectionError, HTTPClientError):
                if attempt >= MAX_ATTEMPTS:
                    raise
            self._sleep(delay)
        raise AssertionError("unreachable: the backoff sequence is endless")  # pragma: no cover


def _retried_write_error(error: ClientError) -> bool:
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return error_code(error) in RETRIED_WRITE_ERRORS or status >= 500


def _backoff_delays(base: float = 0.2, cap: float = 5.0) -> Iterator[float]:
    """Capped exponential backoff with full jitter (AWS Architecture Blog's recommendation)."""
    attempt = 0
    while True:
        yield random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter, not cryptography
        attempt += 1


def _alarms_of(response: Any) -> list[Any]:
    """Every alarm in a DescribeAlarms answer, whatever its kind (each kind has its own list)."""
    return [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", []), *response.get("LogAlarms", [])]


def _in_alarm_since(page: Any, changed_since: datetime | None) -> Iterator[AlarmFacts]:
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


def _alarm_name(arn: str) -> str | None:
    """``arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`` -> ``<name>`` (which may hold colons)."""
    parts = arn.split(":", 6)
    return parts[6] if len(parts) == 7 and parts[5] == "alarm" and parts[6] else None


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


def _launch_template_version(configuration: Any) -> str | None:
    """The launch template Version of a group or desired configuration; None without a launch template.

    A launch template specification without Version means $Default (LaunchTemplateSpecification).
    """
    template = configuration.get("LaunchTemplate") or (
        (configuration.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
    )
    return str(template.get("Version") or "$Default") if template else None


def _group_config(group: Any) -> GroupConfig:
    tags = {
        tag["Key"]: tag.get("Value", "")
        for tag in group.get("Tags", [])
        if tag.get("Key") in {MODE_TAG, ALARM_PREFIX_TAG}
    }
    return GroupConfig(_group(group["AutoScalingGroupName"], tags), _launch_template_version(group))


def _refresh_facts(refresh: Any) -> RefreshFacts:
    desired = refresh.get("DesiredConfiguration") or {}
    return RefreshFacts(
        instance_refresh_id=refresh["InstanceRefreshId"],
        status=refresh["Status"],
        start_time=refresh.get("StartTime"),
        has_desired_configuration=bool(desired),
        launch_template_version=_launch_template_version(desired),
    )


# --- hub mode: member accounts ----------------------------------------------------------------------------


class MemberAccessError(Exception):
    """A member account's role could not be assumed: nothing can be read or done in that account."""

    def __init__(self, account: str, role_arn: str, code: str, message: str) -> None:
        self.account = account
        self.role_arn = role_arn
        self.code = code
        super().__init__(f"could not assume {role_arn} ({code}: {message})")


class _AssumedRoleProvider(CredentialProvider):
    """Hands botocore the member role's refreshable credentials (botocore's public extension point)."""

    METHOD = "auto-rollback-member-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


class MemberSessions:
    """Hub mode: opens a boto3 session in a member account, on the credentials of the account's role.

    The role is assumed when the session is opened, so that a refusal is a clear
    MemberAccessError there; botocore then refreshes the credentials (AssumeRole
    again) before they expire, so a session kept by the caller (the hub keeps one
    per account for the container's life) costs one AssumeRole an hour, not one per
    event. A refresh that is refused raises MemberAccessError too.
    """

    def __init__(self, role_name: str, *, sts: STSClient | None = None, partition: str = "aws") -> None:
        self.role_name = role_name
        self._partition = partition
        self._sts: STSClient = sts or aws_session().client("sts", config=CLIENT_CONFIG)

    def open(self, account: str) -> boto3.Session:
        """A session in ``account``; raises MemberAccessError when its role cannot be assumed."""
        role_arn = member_role_arn(account, self.role_name, self._partition)
        assume = partial(self._assume, account, role_arn)
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=assume(), refresh_using=assume, method=_AssumedRoleProvider.METHOD
        )
        core = _core_session()
        # The container's loader, whose parsed models and endpoints are cached: not read again per account.
        # (boto3 offers no public accessor to a session's botocore session.)
        core.register_component("data_loader", aws_session()._session.get_component("data_loader"))
        core.get_component("credential_provider").insert_before("env", _AssumedRoleProvider(credentials))
        return boto3.Session(botocore_session=core)

    def _assume(self, account: str, role_arn: str) -> dict[str, str]:
        try:
            answer = self._sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        except ClientError as error:
            raise MemberAccessError(account, role_arn, error_code(error), _aws_message(error)) from error
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }


#: Refusals that say a member session itself is no longer good (its role deleted, changed or re-created
#: since the credentials were issued, or missing a permission the function needs), not the request.
CREDENTIAL_ERRORS = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)
#: A member session that outlived its credentials (botocore refreshes them 15 minutes early, so this is rare):
#: nothing is wrong with the role, and assuming it again is all it takes.
EXPIRED_ERRORS = frozenset({"ExpiredToken", "ExpiredTokenException"})
#: The hub's own calls (its records, its topics): their refusals are the hub's, never a member's.
_HUB_OPERATIONS = frozenset({"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Publish"})


def member_refusal(error: BaseException | None) -> MemberAccessError | ClientError | None:
    """The member session's refusal that ``error`` is or wraps (a group's failure, an action's cause), if any."""
    for _ in range(8):  # chains are short; bounded all the same
        if error is None:
            return None
        if isinstance(error, MemberAccessError):
            return error
        if (
            isinstance(error, ClientError)
            and error_code(error) in CREDENTIAL_ERRORS
            and error.operation_name not in _HUB_OPERATIONS
        ):
            return error
        first = getattr(error, "first", None)  # service.GroupsFailedError: the failure it re-raises
        error = first if isinstance(first, BaseException) else error.__cause__
    return None


def _aws_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
