"""What an operator looks at after a deploy: a dashboard and saved Logs Insights queries.

The dashboard graphs the function's own EMF metrics (auto_rollback.vocabulary names them:
one ``Outcome<Pascal>`` metric per outcome, ``RollbacksStarted``, ``Failures``,
all with the single dimension ``service``) beside Lambda's and SQS's metrics and
the function's alarms. The saved queries read the function's JSON log lines
(Powertools Logger): each decision is logged as ``message = "Decision"`` with the
result under ``result``, and each rejected event as ``message = "Rejected event"``
with ``field`` and ``problem``. tests/infra/test_dashboard.py and
tests/integration/test_log_queries.py compare both with what the function emits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from auto_rollback.vocabulary import (
    CHAT_FAILURE_METRIC,
    DECISION_LOG_MESSAGE,
    FAILURES_METRIC,
    INVALID_EVENT,
    NAMESPACE,
    REFUSED_ACCOUNT_METRIC,
    REJECTED_LOG_MESSAGE,
    ROLLBACKS_METRIC,
    SERVICE,
    UNREADABLE_ALARM_ACCOUNT_METRIC,
    Outcome,
    outcome_metric_name,
)
from infra.console_events import PLACEHOLDER_GROUP

#: Rollbacks are rare: a week shows the last ones, hourly sums keep each visible.
DEFAULT_INTERVAL = Duration.days(7)
PERIOD = Duration.hours(1)

#: The ``level`` Powertools Logger writes for ``logger.error`` lines.
ERROR_LEVEL = "ERROR"


def dashboard_name(stack: Stack) -> str:
    """Unique in the account: dashboards are global, so the region is in the name once."""
    region = stack.region
    if not Token.is_unresolved(region) and stack.stack_name.endswith(f"-{region}"):
        return stack.stack_name
    return f"{stack.stack_name}-{region}"


def console_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"


@dataclass(frozen=True)
class SavedQuery:
    """A Logs Insights query: fields shown, and equality filters that must all hold."""

    name: str
    fields: tuple[str, ...]
    filters: tuple[tuple[str, str], ...]
    limit: int = 1000

    @property
    def text(self) -> str:
        # Equality on string literals only: the values below are constants without quotes.
        condition = " and ".join(f'{field} = "{value}"' for field, value in self.filters)
        return "\n| ".join(
            [
                f"fields {', '.join(('@timestamp', *self.fields))}",
                f"filter {condition}",
                "sort @timestamp desc",
                f"limit {self.limit}",
            ]
        )


_DECISION_FIELDS = (
    "result.autoScalingGroupName",
    "result.outcome",
    "result.reason",
    "result.dryRun",
    "result.instanceRefreshId",
    "result.trigger.type",
    "result.summary",
    "correlation_id",
)

#: The saved queries, by construct id. The operator sets the period in the console;
#: the group query names PLACEHOLDER_GROUP, which the operator replaces.
QUERIES = {
    "DecisionsForGroup": SavedQuery(
        name="Decisions for one group (replace the group name)",
        fields=_DECISION_FIELDS,
        filters=(("message", DECISION_LOG_MESSAGE), ("result.autoScalingGroupName", PLACEHOLDER_GROUP)),
    ),
    "RollbacksStarted": SavedQuery(
        name="Rollbacks started",
        fields=_DECISION_FIELDS,
        filters=(("message", DECISION_LOG_MESSAGE), ("result.outcome", Outcome.ROLLBACK_STARTED.value)),
    ),
    "RejectedEvents": SavedQuery(
        name="Rejected events",
        fields=("field", "problem", "function_request_id"),
        filters=(("message", REJECTED_LOG_MESSAGE),),
    ),
    # A rollback that could not be done is raised so that Lambda retries the event:
    # it is logged at ERROR (with the group when an alarm links several), never as a
    # Decision, and published as FAILED.
    "Errors": SavedQuery(
        name="Errors",
        fields=("message", "group", "exception_name", "field", "problem", "function_request_id", "correlation_id"),
        filters=(("level", ERROR_LEVEL),),
    ),
}


class SavedQueries(Construct):
    """The decision history: Logs Insights queries saved in a folder named after the stack."""

    def __init__(self, scope: Construct, construct_id: str, *, log_group: logs.ILogGroup) -> None:
        super().__init__(scope, construct_id)
        folder = Stack.of(self).stack_name
        self.queries = [
            logs.CfnQueryDefinition(
                self,
                construct_id,
                name=f"{folder}/{query.name}",
                query_string=query.text,
                log_group_names=[log_group.log_group_name],
            )
            for construct_id, query in QUERIES.items()
        ]


class Dashboard(Construct):
    """Outcomes, rollbacks, failures, throttles, duration, failed events and alarms, on one page."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        log_group: logs.ILogGroup,
        failed_events: sqs.IQueue,
        alarms: Sequence[cloudwatch.IAlarm],
        hub: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        # Hub mode: events of accounts outside memberAccounts, answered without a retry.
        refused = (
            [
                _count(REFUSED_ACCOUNT_METRIC, "Events of accounts not served"),
                _count(UNREADABLE_ALARM_ACCOUNT_METRIC, "Monitoring accounts not readable at checkpoints"),
            ]
            if hub
            else []
        )
        stack = Stack.of(self)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(stack),
            default_interval=DEFAULT_INTERVAL,
            widgets=[
                [
                    cloudwatch.GraphWidget(
                        title="Outcomes by type",
                        left=[_count(outcome_metric_name(outcome), outcome.value) for outcome in Outcome],
                        stacked=True,
                        width=12,
                    ),
                    cloudwatch.GraphWidget(
                        title="Rollbacks and failures",
                        left=[
                            _count(ROLLBACKS_METRIC, "Rollbacks started"),
                            _count(FAILURES_METRIC, "Failed outcomes"),
                            function.metric_errors(period=PERIOD, statistic="Sum", label="Failed invocations"),
                            _count(outcome_metric_name(INVALID_EVENT), "Rejected events"),
                            _count(CHAT_FAILURE_METRIC, "Chat copies not published"),
                            *refused,
                        ],
                        width=12,
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Invocations and throttles",
                        left=[
                            function.metric_invocations(period=PERIOD, statistic="Sum", label="Invocations"),
                            function.metric_throttles(period=PERIOD, statistic="Sum", label="Throttles"),
                        ],
                        width=8,
                    ),
                    cloudwatch.GraphWidget(
                        title="Duration (ms)",
                        left=[
                            function.metric_duration(period=PERIOD, statistic=statistic, label=statistic)
                            for statistic in ("p50", "p99", "Maximum")
                        ],
                        width=8,
                    ),
                    cloudwatch.GraphWidget(
                        title="Failed-events queue depth",
                        left=[
                            failed_events.metric_approximate_number_of_messages_visible(
                                period=PERIOD, statistic="Maximum", label="Events waiting"
                            )
                        ],
                        width=8,
                    ),
                ],
                [cloudwatch.AlarmStatusWidget(title="The function's own alarms", alarms=list(alarms), width=24)],
                [
                    cloudwatch.LogQueryWidget(
                        title="Latest rollbacks",
                        log_group_names=[log_group.log_group_name],
                        query_string=QUERIES["RollbacksStarted"].text,
                        width=24,
                    )
                ],
            ],
        )
        self.url = console_url(stack.region, self.dashboard.dashboard_name)


def _count(metric_name: str, label: str) -> cloudwatch.Metric:
    """One of the function's EMF metrics, with the one dimension Powertools gives it."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"service": SERVICE},
        statistic="Sum",
        period=PERIOD,
        label=label,
    )
