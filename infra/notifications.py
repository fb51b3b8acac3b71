"""The outcomes topic, where every rollback, refusal and failure is announced, and its chat twin.

Amazon Q Developer in chat applications (formerly AWS Chatbot) renders only supported
AWS events and its custom-notification format; the outcomes topic's JSON would be
dropped, and SNS's message structure has no key of its own for it (its subscriptions
use the ``https`` protocol). So the chat copy goes to a second topic that carries
nothing else, and only Amazon Q Developer channels subscribe to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from auto_rollback.vocabulary import CHAT_TOPIC_DISPLAY_NAME, OUTCOMES_TOPIC_DISPLAY_NAME
from infra.config import SlackChannel, TeamsChannel

#: Amazon Q Developer logs delivery failures only (to CloudWatch Logs in us-east-1).
CHAT_LOGGING_LEVEL = chatbot.LoggingLevel.ERROR


class Notifications(Construct):
    """A KMS-encrypted SNS topic (SSL only) and its optional email subscriptions.

    The key is customer managed because the AWS managed SNS key (alias/aws/sns)
    cannot be used by CloudWatch alarms: the stack's own alarms publish to this
    same topic, so the key policy must let CloudWatch encrypt messages for it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        emails: Sequence[str],
        slack: SlackChannel | None = None,
        teams: TeamsChannel | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the auto-rollback outcomes topic",
            enable_key_rotation=True,
            # The key only protects messages in flight; nothing stays encrypted
            # under it after the stack is gone.
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        # CloudWatch alarms (this stack's and any the team points here) publish
        # as the cloudwatch.amazonaws.com service; scoped to this account's alarms.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": self.key.stack.account}},
            )
        )

        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=OUTCOMES_TOPIC_DISPLAY_NAME,
            master_key=self.key,
            enforce_ssl=True,
        )
        # enforce_ssl gives the topic a resource policy, which replaces SNS's
        # default one: CloudWatch alarm actions must then be allowed explicitly.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.topic.stack.account}},
            )
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self.chat_topic = sns.Topic(
            self,
            "ChatTopic",
            display_name=CHAT_TOPIC_DISPLAY_NAME,
            # The same key: the function already encrypts with it. SNS decrypts each message
            # before delivering it, so Amazon Q Developer needs no right on the key.
            master_key=self.key,
            enforce_ssl=True,
        )
        self.chat_configurations: list[Construct] = []
        if slack or teams:
            self._chat_channels(slack, teams)

    def _chat_channels(self, slack: SlackChannel | None, teams: TeamsChannel | None) -> None:
        """Channels that only receive notifications: nobody can run a command from them."""
        # Amazon Q Developer needs a role, but notifications use none of its rights
        # (custom notifications are rendered from the message alone): it gets none.
        role = iam.Role(
            self,
            "ChatRole",
            assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
            description="Amazon Q Developer channels for auto-rollback notifications: no permissions",
        )
        # Without guardrails AWS applies AdministratorAccess as the channel's guardrail;
        # this one denies every action, so even a role edited later grants nothing to the channel.
        guardrail = iam.ManagedPolicy(
            self,
            "ChatGuardrail",
            description="Guardrail of the auto-rollback chat channels: notifications only, no commands",
            statements=[iam.PolicyStatement(effect=iam.Effect.DENY, actions=["*"], resources=["*"])],
        )
        name = Stack.of(self).stack_name
        if slack:
            self.chat_configurations.append(
                chatbot.SlackChannelConfiguration(
                    self,
                    "Slack",
                    slack_channel_configuration_name=f"{name}-slack"[:128],
                    slack_workspace_id=slack.workspace_id,
                    slack_channel_id=slack.channel_id,
                    notification_topics=[self.chat_topic],
                    role=role,
                    guardrail_policies=[guardrail],
                    logging_level=CHAT_LOGGING_LEVEL,
                    user_role_required=False,
                )
            )
        if teams:
            self.chat_configurations.append(
                chatbot.CfnMicrosoftTeamsChannelConfiguration(
                    self,
                    "Teams",
                    configuration_name=f"{name}-teams"[:128],
                    iam_role_arn=role.role_arn,
                    team_id=teams.team_id,
                    teams_channel_id=teams.channel_id,
                    teams_tenant_id=teams.tenant_id,
                    sns_topic_arns=[self.chat_topic.topic_arn],
                    guardrail_policies=[guardrail.managed_policy_arn],
                    logging_level=CHAT_LOGGING_LEVEL.value,
                    user_role_required=False,
                )
            )
