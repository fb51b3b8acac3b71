"""AutoRollbackStack: everything auto-rollback needs in one account and region."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.config import Settings
from infra.console_events import ConsoleTestEvents
from infra.dashboard import Dashboard, SavedQueries
from infra.failed_events import FailedEvents
from infra.function import AutoRollbackFunction
from infra.hub import HubBus
from infra.idempotency import IdempotencyStore
from infra.monitoring import Monitoring
from infra.notifications import Notifications
from infra.stackset import STACK_SET_NAME, SpokeStackSet
from infra.triggers import Triggers


class AutoRollbackStack(Stack):
    """One deployment of auto-rollback, serving every opted-in group of its region.

    In hub mode, the groups of every account of the organization in its region, through the
    spokes; ``hosts_stack_set`` puts the one StackSet of the deployment in this stack.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, hosts_stack_set: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.hub_bus: HubBus | None = None
        self.spoke_stack_set: SpokeStackSet | None = None
        if settings.hub:
            assert settings.organization_id is not None  # Settings refuses hub mode without it
            self.hub_bus = HubBus(self, "Hub", organization_id=settings.organization_id)
            if hosts_stack_set:
                # With no region listed, the stack's own region (its profile's, or the one it is deployed to).
                self.spoke_stack_set = SpokeStackSet(
                    self, "Spokes", settings=settings, regions=list(settings.regions) or [self.region]
                )

        self.notifications = Notifications(
            self,
            "Outcomes",
            emails=settings.notification_emails,
            slack=settings.chat_slack,
            teams=settings.chat_teams,
        )
        self.idempotency = IdempotencyStore(self, "Idempotency")
        self.failed_events = FailedEvents(self, "FailedEvents")
        self.function = AutoRollbackFunction(
            self,
            "AutoRollback",
            settings=settings,
            topic=self.notifications.topic,
            topic_key=self.notifications.key,
            table=self.idempotency.table,
            failed_events=self.failed_events.queue,
            chat_topic=self.notifications.chat_topic,
        )
        self.triggers = Triggers(
            self,
            "Triggers",
            function=self.function.function,
            alarm_states=settings.alarm_states,
            dead_letter_queue=self.failed_events.queue,
            event_bus=self.hub_bus.bus if self.hub_bus else None,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            function=self.function.function,
            failed_events=self.failed_events.queue,
            topic=self.notifications.topic,
        )
        self.dashboard = Dashboard(
            self,
            "Dashboard",
            function=self.function.function,
            log_group=self.function.log_group,
            failed_events=self.failed_events.queue,
            alarms=self.monitoring.alarms,
            hub=settings.hub,
        )
        self.saved_queries = SavedQueries(self, "DecisionHistory", log_group=self.function.log_group)
        if settings.console_test_events:
            self.console_events = ConsoleTestEvents(
                self, "ConsoleTestEvents", function=self.function.function, hub=settings.hub
            )

        # What an operator needs after a deploy: where to subscribe, what to invoke,
        # where unhandled events wait.
        CfnOutput(self, "OutcomesTopicArn", value=self.notifications.topic.topic_arn)
        CfnOutput(self, "ChatTopicArn", value=self.notifications.chat_topic.topic_arn)
        CfnOutput(self, "FunctionName", value=self.function.function.function_name)
        CfnOutput(self, "FailedEventsQueueUrl", value=self.failed_events.queue.queue_url)
        CfnOutput(self, "IdempotencyTableName", value=self.idempotency.table.table_name)
        CfnOutput(self, "LogGroupName", value=self.function.log_group.log_group_name)
        CfnOutput(self, "DashboardUrl", value=self.dashboard.url)
        if self.hub_bus is not None:
            # What a spoke forwards to, and what to check a member account's rules against.
            CfnOutput(self, "HubBusArn", value=self.hub_bus.bus.event_bus_arn)
        if self.spoke_stack_set is not None:
            # For list-stack-instances and the console: the only stack of the deployment that holds it.
            CfnOutput(self, "StackSetName", value=STACK_SET_NAME)
