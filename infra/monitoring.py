"""Alarms on auto-rollback itself: a safety net must say when it has a hole."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from auto_rollback.vocabulary import CHAT_FAILURE_METRIC, NAMESPACE, SERVICE

#: One failure is already worth a human look: each invocation is a production
#: alarm or refresh that may not have been handled.
PERIOD = Duration.minutes(5)
THRESHOLD = 1


class Monitoring(Construct):
    """Alarms on function errors, throttles and failed events, sent to the outcomes topic.

    Missing data means no traffic, which is healthy, hence NOT_BREACHING.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        failed_events: sqs.IQueue,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        action = actions.SnsAction(topic)
        self.alarms = [
            self._alarm(
                "Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                "The auto-rollback function failed; Lambda retries it, then moves the event to "
                "the failed-events queue.",
            ),
            self._alarm(
                "Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                "The auto-rollback function was throttled (reserved concurrency reached); "
                "events wait and are retried for up to an hour.",
            ),
            self._alarm(
                "FailedEvents",
                failed_events.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                "An event reached the failed-events queue: it was NOT handled. Inspect and replay it.",
            ),
            self._alarm(
                "ChatPublishFailures",
                cloudwatch.Metric(
                    namespace=NAMESPACE,
                    metric_name=CHAT_FAILURE_METRIC,
                    dimensions_map={"service": SERVICE},
                    period=PERIOD,
                    statistic="Sum",
                ),
                "An outcome was published but its chat copy was refused by SNS: the chat channel missed it. "
                "The function's log has the message (ERROR, field chatMessage); check the chat topic and its key.",
            ),
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(action)

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=THRESHOLD,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
