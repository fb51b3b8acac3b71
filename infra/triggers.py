"""The EventBridge rules that wake the function, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from auto_rollback.vocabulary import (
    ALARM_DETAIL_TYPE,
    ALARM_SOURCE,
    REFRESH_SOURCE,
    TARGET_TRACKING_ALARM_PREFIX,
    RefreshEventType,
)

#: Target-tracking alarms go to ALARM on every scale-out of every scaled resource, and the
#: function would only read tags to find them linked to nothing (they must never be: a
#: scale-out is no reason to roll back). ``anything-but`` with ``prefix`` works on event
#: buses (not in EventBridge Pipes) and, like ``prefix``, is case-sensitive: ignoring case
#: is a separate operator (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html,
#: rows "Anything-but (begins with)" and "Begins with (ignore case)"). So ``targettracking-x``
#: is still delivered, as the function's own case-sensitive prefix match expects.
ALARM_NAME_FILTER = [{"anything-but": {"prefix": TARGET_TRACKING_ALARM_PREFIX}}]
#: Every instance-refresh event the function handles; launch, terminate and
#: lifecycle events from the same source are left out on purpose.
REFRESH_DETAIL_TYPES = tuple(event_type.detail_type for event_type in RefreshEventType)
#: EventBridge's own retries when Lambda refuses the event (throttled, or the
#: service briefly unavailable). Lambda accepts asynchronous events in
#: milliseconds, so an hour of retries only matters during an outage; after that
#: the event lands in the failed-events queue instead of being dropped.
TARGET_RETRY_ATTEMPTS = 10
TARGET_MAX_EVENT_AGE = Duration.hours(1)


def alarm_rule_description(alarm_states: Sequence[str]) -> str:
    return (
        f"Alarm state changes to {' or '.join(alarm_states)}, "
        f"except {TARGET_TRACKING_ALARM_PREFIX}* alarms -> auto-rollback"
    )


def alarm_pattern(alarm_states: Sequence[str]) -> events.EventPattern:
    """The alarm transitions the function acts on: the hub's rule and every spoke's use this one pattern."""
    return events.EventPattern(
        source=[ALARM_SOURCE],
        detail_type=[ALARM_DETAIL_TYPE],
        detail={"state": {"value": list(alarm_states)}, "alarmName": ALARM_NAME_FILTER},
    )


REFRESH_RULE_DESCRIPTION = "EC2 Auto Scaling instance-refresh events -> auto-rollback"


def refresh_pattern() -> events.EventPattern:
    """The instance-refresh events the function handles: the hub's rule and every spoke's use this one pattern."""
    return events.EventPattern(source=[REFRESH_SOURCE], detail_type=list(REFRESH_DETAIL_TYPES))


class Triggers(Construct):
    """Rule 1: alarm transitions the function acts on. Rule 2: instance-refresh events.

    Filtering here rather than in the function means an OK transition, a
    target-tracking alarm, or any of the other events those two sources emit,
    never costs an invocation. In hub mode the rules listen on the hub's bus, to which
    every spoke forwards the same events from its account (infra/spoke.py).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        alarm_states: Sequence[str],
        dead_letter_queue: sqs.IQueue,
        event_bus: events.IEventBus | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        self.alarm_rule = events.Rule(
            self,
            "AlarmStateChange",
            description=alarm_rule_description(alarm_states),
            event_pattern=alarm_pattern(alarm_states),
            event_bus=event_bus,
        )
        self.refresh_rule = events.Rule(
            self,
            "InstanceRefresh",
            description=REFRESH_RULE_DESCRIPTION,
            event_pattern=refresh_pattern(),
            event_bus=event_bus,
        )
        for rule in (self.alarm_rule, self.refresh_rule):
            rule.add_target(
                targets.LambdaFunction(
                    function,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=TARGET_MAX_EVENT_AGE,
                    dead_letter_queue=dead_letter_queue,
                )
            )
