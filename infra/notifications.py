"""The outcomes topic: where every rollback, refusal and failure is announced."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Notifications(Construct):
    """A KMS-encrypted SNS topic (SSL only) and its optional email subscriptions.

    The key is customer managed because the AWS managed SNS key (alias/aws/sns)
    cannot be used by CloudWatch alarms: the stack's own alarms publish to this
    same topic, so the key policy must let CloudWatch encrypt messages for it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, emails: Sequence[str]) -> None:
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
            display_name="auto-rollback outcomes",
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
