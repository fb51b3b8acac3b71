"""The spoke: what a StackSet puts in every member account and region in hub mode.

Three things, and no code: the role the hub function assumes to read and act in the
account (with exactly the account-mode function's data-plane rights), the rules
that forward the account's alarm and instance-refresh events to the hub's bus in the
same region, and the queue where the events they could not deliver wait. The
template is synthesized from its own CDK app, with a synthesizer that refuses assets
and adds no bootstrap parameter or rule, since member accounts are not
CDK-bootstrapped; cdk-nag checks it like the hub.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

import aws_cdk as cdk
from aws_cdk import Acknowledgment, Aws, CfnParameter, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from auto_rollback.vocabulary import HUB_BUS_NAME, hub_role_name, member_role_name
from infra.config import ConfigError, Settings
from infra.failed_events import FailedEvents
from infra.function import data_plane_statements, data_plane_wildcard_reasons
from infra.triggers import (
    REFRESH_RULE_DESCRIPTION,
    TARGET_MAX_EVENT_AGE,
    TARGET_RETRY_ATTEMPTS,
    alarm_pattern,
    alarm_rule_description,
    refresh_pattern,
)

SPOKE_STACK_ID = "AutoRollbackSpoke"
HUB_ACCOUNT_PARAMETER = "HubAccountId"
DESCRIPTION = (
    "auto-rollback spoke: forwards alarm and instance-refresh events to the hub's bus, "
    "and lets the hub function read groups and alarms and roll back opted-in groups"
)
#: The queue of each member account and region where events its rules could not deliver wait. A fixed
#: name (one spoke per account and region) so that an operator finds it without the stack's name.
DEAD_LETTER_QUEUE_NAME = "auto-rollback-spoke-dead-letters"
#: CloudFormation's limit on a StackSet's TemplateBody (CreateStackSet, TemplateBody: 51,200 bytes);
#: a larger template would have to be uploaded to S3, which member accounts' StackSets cannot rely on.
TEMPLATE_BODY_MAX_BYTES = 51_200


class SpokeStack(Stack):
    """The member role and the forwarding rules of one member account and region."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        if not settings.hub or settings.organization_id is None:
            raise ConfigError('the spoke template is made for mode "hub", with its organizationId')
        super().__init__(
            scope,
            construct_id,
            description=DESCRIPTION,
            # Member accounts are not bootstrapped: no BootstrapVersion parameter or rule,
            # and any asset is refused at synth instead of failing in every account.
            synthesizer=cdk.BootstraplessSynthesizer(),
        )
        hub_account = CfnParameter(
            self,
            HUB_ACCOUNT_PARAMETER,
            type="String",
            allowed_pattern=r"^\d{12}$",
            constraint_description="the 12-digit id of the account that runs the auto-rollback hub",
            description="The account of the auto-rollback hub (its function and its bus)",
        ).value_as_string
        self.member_role = self._member_role(settings, hub_account, settings.organization_id)
        self.dead_letters = self._dead_letters()
        self.forwarder_role, self.rules = self._forwarding(settings, hub_account, self.dead_letters)

    def _dead_letters(self) -> sqs.Queue:
        # Like the hub's failed-events queue: SQS-managed keys (EventBridge writes with no key
        # policy to keep in step), HTTPS only, SQS's longest retention to notice and replay.
        queue = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=DEAD_LETTER_QUEUE_NAME,
            retention_period=FailedEvents.RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        Validations.of(queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter queue of the spoke's rule targets; a dead-letter "
                "queue for it would only move the same undelivered events one step further away.",
            )
        )
        return queue

    def _member_role(self, settings: Settings, hub_account: str, organization_id: str) -> iam.Role:
        # The hub account's root as principal, narrowed to the hub role's ARN by condition:
        # a role-ARN principal is turned into the role's unique id, and would stop matching
        # (for good) when the hub's role is deleted and created again.
        hub_role = f"arn:{Aws.PARTITION}:iam::{hub_account}:role/{hub_role_name(Aws.REGION)}"
        role = iam.Role(
            self,
            "MemberRole",
            # IAM names are global: one role per region, for the hub of that region.
            role_name=member_role_name(Aws.REGION),
            assumed_by=iam.AccountPrincipal(hub_account).with_conditions(
                {
                    "ArnEquals": {"aws:PrincipalArn": hub_role},
                    "StringEquals": {"aws:PrincipalOrgID": organization_id},
                }
            ),
            description="auto-rollback hub: read groups and alarms, roll back opted-in groups only",
        )
        for statement in data_plane_statements(self, settings):
            role.add_to_policy(statement)
        default_policy = role.node.try_find_child("DefaultPolicy")
        assert default_policy is not None  # created by the add_to_policy calls above
        reasons = data_plane_wildcard_reasons(
            self,
            settings,
            star=(
                "Only read-only calls use Resource '*': Auto Scaling Describe* actions, Resource Groups "
                "Tagging GetResources and CloudWatch ListAlarmMuteRules support no resource-level "
                "permissions, and CloudWatch DescribeAlarms must be scoped to '*' to return composite alarms."
            ),
        )
        for resource, reason in reasons.items():
            Validations.of(default_policy).acknowledge(
                Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason)
            )
        return role

    def _forwarding(
        self, settings: Settings, hub_account: str, dead_letters: sqs.IQueue
    ) -> tuple[iam.Role, list[events.Rule]]:
        hub_bus = events.EventBus.from_event_bus_arn(
            self, "HubBus", f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{hub_account}:event-bus/{HUB_BUS_NAME}"
        )
        # EventBridge needs a role to put events on another account's bus that trusts the
        # organization; this one may do that and nothing else (the target grants it).
        forwarder = iam.Role(
            self,
            "ForwarderRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="auto-rollback spoke: forward this account's events to the hub's bus, nothing else",
        )
        rules = []
        for construct_id, description, pattern in (
            ("AlarmStateChange", alarm_rule_description(settings.alarm_states), alarm_pattern(settings.alarm_states)),
            ("InstanceRefresh", REFRESH_RULE_DESCRIPTION, refresh_pattern()),
        ):
            rule = events.Rule(self, construct_id, description=f"{description} hub", event_pattern=pattern)
            # An event the hub's bus refuses, or that outlives the retries, goes to the queue instead
            # of being dropped; CDK's target adds the queue policy statement: events.amazonaws.com
            # may SendMessage only for this rule (aws:SourceArn).
            rule.add_target(targets.EventBus(hub_bus, role=forwarder, dead_letter_queue=dead_letters))
            # The hub's own rules give up on an event after the same hour (infra/triggers.py):
            # EventBridge's default, a day of retries, would deliver an alarm long after it mattered.
            cfn_rule = rule.node.default_child
            assert isinstance(cfn_rule, events.CfnRule)
            cfn_rule.add_property_override(
                "Targets.0.RetryPolicy",
                {
                    "MaximumEventAgeInSeconds": TARGET_MAX_EVENT_AGE.to_seconds(),
                    "MaximumRetryAttempts": TARGET_RETRY_ATTEMPTS,
                },
            )
            rules.append(rule)
        return forwarder, rules


def build_spoke(app: cdk.App, settings: Settings) -> SpokeStack:
    """Add the spoke stack to ``app`` (its own App: nothing of the hub's stacks leaks into it)."""
    stack = SpokeStack(app, SPOKE_STACK_ID, settings=settings)
    cdk.Tags.of(app).add("project", "auto-rollback")
    return stack


def spoke_template(settings: Settings) -> dict[str, Any]:
    """The spoke's CloudFormation template, checked by cdk-nag, for a hub-mode ``settings``.

    Raises ConfigError if it is too large for a StackSet's TemplateBody, and cdk's
    validation error if cdk-nag finds anything unacknowledged.
    """
    with tempfile.TemporaryDirectory(prefix="auto-rollback-spoke-") as outdir:
        app = cdk.App(outdir=outdir, analytics_reporting=False)
        stack = build_spoke(app, settings)
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        template: dict[str, Any] = app.synth().get_stack_artifact(stack.artifact_id).template
    check_template_body(template_body(template))
    return template


def check_template_body(body: str) -> str:
    """``body`` if CloudFormation accepts it as a StackSet's TemplateBody; ConfigError otherwise."""
    size = len(body.encode())
    if size > TEMPLATE_BODY_MAX_BYTES:
        raise ConfigError(
            f"the spoke template is {size} bytes, over the {TEMPLATE_BODY_MAX_BYTES} bytes CloudFormation "
            "accepts as a StackSet's TemplateBody"
        )
    return body


def template_body(template: dict[str, Any]) -> str:
    """The template as the StackSet carries it: compact JSON, which counts against the size limit."""
    return json.dumps(template, separators=(",", ":"), sort_keys=True)
