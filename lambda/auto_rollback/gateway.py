"""Typed reads of Auto Scaling, CloudWatch and the tagging API, and the two writes (rollback, cancel).

One of the modules that call AWS (see :mod:`auto_rollback.aws`); its clients come
from the container's session, or a member account's (hub mode), with the configs
and the write-retry layer of :mod:`auto_rollback.aws`. AWS's answers become facts
in :mod:`auto_rollback.answers`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from auto_rollback.answers import (
    alarm_name_of,
    alarms_in_state_since,
    alarms_of,
    group_config,
    group_tags,
    refresh_facts,
)
from auto_rollback.aws import (
    AUTOSCALING_READ_CONFIG,
    CLIENT_CONFIG,
    FORGET_THROTTLING_AFTER_SECONDS,
    THROTTLING_CODES,
    WRITE_CONFIG,
    aws_session,
    error_code,
    with_backoff,
)
from auto_rollback.facts import AlarmFacts, GroupConfig, GroupTags, MuteFacts, RefreshFacts
from auto_rollback.vocabulary import ALARM_GROUP_TAG, ALARM_PREFIX_TAG, MODE_TAG

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

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
        #: Rollback and cancel only: botocore's retries off, so that ``with_backoff`` is the one layer.
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
        return {name: group_tags(name, rows.get(name, {})) for name in wanted}

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
        return refresh_facts(refreshes[0]) if refreshes else None

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
            yield from alarms_in_state_since(page, changed_since)

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
                yield from alarms_in_state_since(page, changed_since)

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
                name = alarm_name_of(mapping.get("ResourceARN", ""))
                if name and name not in names:
                    names.append(name)
        return names

    def alarm_state(self, alarm_name: str) -> str | None:
        """The alarm's state now (any kind of alarm), or None if it no longer exists."""
        alarms = alarms_of(self.cloudwatch.describe_alarms(AlarmNames=[alarm_name], AlarmTypes=ALARM_TYPES))
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
        groups = [group_config(group) for group in response.get("AutoScalingGroups", [])]
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
                name = alarm_name_of(mapping.get("ResourceARN", ""))
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
            alarms.extend(alarms_in_state_since(response, None))
            if not response.get("NextToken"):
                return alarms, False
            kwargs["NextToken"] = response["NextToken"]
        return alarms, True

    def count_alarms_with_prefix(self, prefix: str) -> int:
        """How many alarms (any state, any kind, first page only) have a name starting with ``prefix``."""
        if len(prefix) > MAX_ALARM_NAME:  # a tag value may be 256 long; AWS refuses such a prefix
            return 0
        return len(
            alarms_of(self.cloudwatch.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=ALARM_TYPES, MaxRecords=100))
        )

    # --- writes --------------------------------------------------------------------------------------------

    def rollback(self, group_name: str, remaining_seconds: Callable[[], float]) -> str:
        """RollbackInstanceRefresh; returns the refresh id. Raises ClientError when AWS refuses."""
        response = with_backoff(
            lambda: self.autoscaling_writes.rollback_instance_refresh(AutoScalingGroupName=group_name),
            remaining_seconds,
            self._sleep,
        )
        return str(response.get("InstanceRefreshId", ""))

    def cancel(self, group_name: str, remaining_seconds: Callable[[], float]) -> str:
        """CancelInstanceRefresh; returns the refresh id. Raises ClientError when AWS refuses."""
        response = with_backoff(
            lambda: self.autoscaling_writes.cancel_instance_refresh(AutoScalingGroupName=group_name),
            remaining_seconds,
            self._sleep,
        )
        return str(response.get("InstanceRefreshId", ""))
