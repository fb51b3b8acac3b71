"""The auto-rollback function, its logs, its asynchronous-invocation policy and its rights."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from auto_rollback.vocabulary import (
    ENV_ALARM_ACCOUNTS,
    ENV_CHAT_TOPIC_ARN,
    ENV_DRY_RUN,
    ENV_IDEMPOTENCY_TABLE_NAME,
    ENV_INSUFFICIENT_DATA_ACTION,
    ENV_IRREVERSIBLE_FALLBACK,
    ENV_MEMBER_ACCOUNTS,
    ENV_MEMBER_ROLE_NAME,
    ENV_MUTED_ALARM_ACTION,
    ENV_NOTIFICATION_TOPIC_ARN,
    ENV_POWERTOOLS_METRICS_NAMESPACE,
    ENV_POWERTOOLS_SERVICE_NAME,
    HANDLER,
    MEMORY_MB,
    MODE_TAG,
    NAMESPACE,
    SERVICE,
    GroupMode,
    hub_role_name,
    member_role_name,
)
from infra import LAMBDA_DIR
from infra.config import ConfigError, Settings

# LAMBDA_DIR (infra/__init__.py) is the directory shipped as the function's code:
# it holds the package ``auto_rollback`` and nothing else is bundled (boto3 is in
# the runtime, Powertools in the AWS-managed layer), so no Docker is needed.

#: The Python the whole test suite runs on (the Makefile builds .venv with it), so
#: what is tested is what runs. Lambda offers python3.13 on arm64 (Amazon Linux
#: 2023), and AWS publishes a Powertools v3 layer built for it.
RUNTIME = lambda_.Runtime.PYTHON_3_13
#: Graviton: about 20% cheaper per GB-second than x86_64 for the same work, and
#: nothing here is compiled for a particular architecture.
ARCHITECTURE = lambda_.Architecture.ARM_64
#: The one pin of the Powertools release: requirements.txt is what .venv installs, so
#: what the tests run on; constraints.txt repeats it and a test keeps the two equal.
REQUIREMENTS = LAMBDA_DIR.parent / "requirements.txt"
_POWERTOOLS_PIN = re.compile(r"^aws[-_.]lambda[-_.]powertools(\[[^\]]*\])?==([^\s;#]+)", re.MULTILINE | re.IGNORECASE)


def powertools_version(requirements: Path = REQUIREMENTS) -> str:
    """The aws-lambda-powertools release pinned (``==``) in requirements.txt."""
    pinned = _POWERTOOLS_PIN.search(requirements.read_text())
    if pinned is None:
        raise ConfigError(f"{requirements.name} must pin aws-lambda-powertools==<version>: the layer is chosen by it")
    return pinned.group(2)


#: AWS publishes one public SSM parameter per Powertools release, whose value is the
#: ARN of the layer carrying exactly that release (layer numbers are not releases).
#: The path follows RUNTIME and ARCHITECTURE, so changing either cannot leave a layer
#: built for another Python or CPU attached (the layers hold compiled dependencies).
POWERTOOLS_SSM_PREFIX = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}"
POWERTOOLS_SSM_PARAMETER = f"{POWERTOOLS_SSM_PREFIX}/{powertools_version()}"

# MEMORY_MB (auto_rollback.vocabulary): the work is a few AWS API calls, and 256 MB doubles the
# CPU share of the 128 MB minimum, which shortens the cold start; the bench measures against it.
#: A handful of AWS calls (describe, decide, roll back, publish), each retried by
#: botocore with backoff on throttling or ResourceContention. 60 s leaves room for
#: those retries while keeping a hung call from holding one of the few reserved
#: execution slots for long; a timed-out attempt is retried by Lambda.
TIMEOUT = Duration.seconds(60)
#: Lambda's own retries of a failed asynchronous event (max 2). Both are used:
#: the usual failures (throttling by the Auto Scaling API, a contention error)
#: are transient, and idempotency makes a retry after a successful call harmless.
ASYNC_RETRY_ATTEMPTS = 2
#: An event still undelivered after an hour goes to the failed-events queue
#: instead of acting late on a refresh that has likely moved on; it is kept
#: there 14 days for a human to look at or replay.
ASYNC_MAX_EVENT_AGE = Duration.hours(1)
#: A year of logs: each line may be the evidence of why production was rolled back.
LOG_RETENTION = logs.RetentionDays.ONE_YEAR

#: The Auto Scaling calls the function reads with (auto_rollback.gateway): group tags
#: and the latest refresh. Only the manual ``inventory`` invoke lists groups
#: (DescribeAutoScalingGroups, filtered on the opt-in tag's key, a page at a time);
#: deciding on an alarm or a refresh event never does.
AUTO_SCALING_READ_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeInstanceRefreshes",
    "autoscaling:DescribeTags",
)
ROLLBACK_ACTIONS = ("autoscaling:CancelInstanceRefresh", "autoscaling:RollbackInstanceRefresh")
#: The opt-in tag, in the function's own words: the value IAM lets through is
#: exactly the one the function treats as "enabled" (StringEquals is exact and
#: case-sensitive, and so is the function).
OPT_IN_TAG: str = MODE_TAG
OPT_IN_VALUE: str = GroupMode.ENABLED.value
OPT_IN_CONDITION = {"StringEquals": {f"autoscaling:ResourceTag/{OPT_IN_TAG}": OPT_IN_VALUE}}
TABLE_ACTIONS = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
#: A resource written out, or an ARN of the role's own stack (its account and region), made when rendered.
Resource = str | Callable[[Stack], str]


@dataclass(frozen=True)
class Grant:
    """One statement of a role's policy: one line of the function's contract, with the reason it exists."""

    sid: str
    actions: tuple[str, ...]
    resource: Resource
    why: str
    conditions: Mapping[str, Mapping[str, Any]] | None = None
    #: Whether a deployment with these settings makes the calls at all: one that never does is not allowed to.
    needed: Callable[[Settings], bool] = lambda _settings: True


def statements(grants: Iterable[Grant], stack: Stack, settings: Settings) -> list[iam.PolicyStatement]:
    """The needed grants as policy statements, in the order given, for a role of ``stack``."""
    return [
        iam.PolicyStatement(
            sid=grant.sid,
            actions=list(grant.actions),
            resources=[grant.resource(stack) if callable(grant.resource) else grant.resource],
            conditions=grant.conditions,
        )
        for grant in grants
        if grant.needed(settings)
    ]


def _group_arns(stack: Stack) -> str:
    """Every Auto Scaling group of the stack's account and region."""
    return stack.format_arn(
        service="autoscaling",
        resource="autoScalingGroup",
        resource_name="*:autoScalingGroupName/*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def _alarm_arns(stack: Stack) -> str:
    """Every CloudWatch alarm of the stack's account and region."""
    return stack.format_arn(
        service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
    )


#: What the function may do in the account whose groups it protects, on that account's resources.
#: The one definition of those rights: the account-mode function's role carries them, and in hub
#: mode so does each member account's role (infra/spoke.py), which the hub function assumes; the
#: hub's own role carries none of them.
DATA_PLANE_GRANTS = (
    Grant(
        "ReadAutoScaling",
        AUTO_SCALING_READ_ACTIONS,
        "*",
        why="Describe* calls in Auto Scaling accept no resource-level scoping.",
    ),
    Grant(
        "ReadAlarms",
        ("cloudwatch:DescribeAlarms",),
        "*",
        why="Composite alarms are only returned to a DescribeAlarms permission scoped to '*' (CloudWatch API "
        "reference), and the function follows composite alarms as well as metric alarms.",
    ),
    Grant(
        "FindTaggedAlarms",
        ("tag:GetResources",),
        "*",
        why="A checkpoint or bake check finds the alarms tagged for its group with one GetResources call, "
        "instead of reading the tags of every alarm in ALARM. A read of tags only, which IAM cannot scope.",
    ),
    Grant(
        "ReadAlarmMuteRules",
        ("cloudwatch:ListAlarmMuteRules",),
        "*",
        why="Only when mutes are honoured: a deployment that acts on muted alarms anyway never asks. "
        "ListAlarmMuteRules is a list call, which IAM cannot scope to a resource.",
        needed=lambda settings: settings.muted_alarm_action == "ignore",
    ),
    Grant(
        "ReadAlarmTags",
        ("cloudwatch:ListTagsForResource",),
        _alarm_arns,
        why="The tags of whichever alarm fired name its group; the teams create the alarms, not this stack, "
        "so the ARN is limited to the account and region but not by name.",
    ),
    Grant(
        "RollBackOptedInGroupsOnly",
        ROLLBACK_ACTIONS,
        _group_arns,
        conditions=OPT_IN_CONDITION,
        why="The only actions that change anything in Auto Scaling, allowed only on groups whose owner tagged "
        "them auto-rollback=enabled: a group that is not opted in cannot be rolled back, whatever the code. "
        "A dry-run deployment never acts, so it is not even allowed to: the promise holds in IAM, not only "
        "in the code that reads DRY_RUN.",
        needed=lambda settings: not settings.dry_run,
    ),
)
#: The Sids of DATA_PLANE_GRANTS, in the order they are written.
DATA_PLANE_SIDS = tuple(grant.sid for grant in DATA_PLANE_GRANTS)


def data_plane_statements(stack: Stack, settings: Settings) -> list[iam.PolicyStatement]:
    """DATA_PLANE_GRANTS as statements of a role of ``stack``, whose account and region scope the ARNs."""
    return statements(DATA_PLANE_GRANTS, stack, settings)


def member_role_arns(stack: Stack) -> str:
    """The member role of the stack's region, in every account (the organization condition narrows it)."""
    return stack.format_arn(
        service="iam", region="", account="*", resource="role", resource_name=member_role_name(stack.region)
    )


class AutoRollbackFunction(Construct):
    """The Lambda function with exactly the permissions its contract lists.

    The execution role is built here rather than by the Function construct so
    that it carries no AWS managed policy: logging rights are scoped to this
    function's own log group, and every other statement is written out below
    with the reason it exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        topic: sns.ITopic,
        topic_key: kms.IKey,
        table: dynamodb.ITable,
        failed_events: sqs.IQueue,
        chat_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=LOG_RETENTION,
            # Keep the audit trail of past rollbacks even if the stack is removed.
            removal_policy=RemovalPolicy.RETAIN,
        )
        if settings.hub:
            self.role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                # Named, so that every member role can trust it before it exists (infra/spoke.py).
                role_name=hub_role_name(stack.region),
                description="auto-rollback hub function: act in member accounts through their auto-rollback role",
            )
        else:
            self.role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description="auto-rollback function: read groups and alarms, roll back opted-in groups only",
            )

        self.function = lambda_.Function(
            self,
            "Function",
            description="Rolls back EC2 Auto Scaling instance refreshes when their alarms fire",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(LAMBDA_DIR), exclude=["__pycache__", "**/__pycache__", "*.pyc", "**/*.pyc"]
            ),
            layers=[self._powertools_layer()],
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            reserved_concurrent_executions=settings.reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            environment={
                ENV_NOTIFICATION_TOPIC_ARN: topic.topic_arn,
                ENV_IDEMPOTENCY_TABLE_NAME: table.table_name,
                ENV_DRY_RUN: "true" if settings.dry_run else "false",
                ENV_IRREVERSIBLE_FALLBACK: settings.irreversible_fallback,
                ENV_INSUFFICIENT_DATA_ACTION: settings.insufficient_data_action,
                ENV_MUTED_ALARM_ACTION: settings.muted_alarm_action,
                **({ENV_CHAT_TOPIC_ARN: chat_topic.topic_arn} if chat_topic else {}),
                **(_hub_environment(stack, settings) if settings.hub else {}),
                ENV_POWERTOOLS_SERVICE_NAME: SERVICE,
                ENV_POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason=f"{RUNTIME.name} is chosen over the newest Python runtime on purpose: it is the Python "
                "the whole test suite runs on, so the code that rolls production back is the code that was "
                "tested. Lambda supports it on arm64, with an AWS-managed Powertools layer built for it.",
            )
        )
        self.function.configure_async_invoke(
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=ASYNC_MAX_EVENT_AGE,
            on_failure=_SendOnlyQueueDestination(failed_events),
        )

        self._grant(
            stack, settings=settings, topic=topic, topic_key=topic_key, table=table, failed_events=failed_events
        )
        if chat_topic:
            # The chat copy of each outcome (infra/notifications.py); same key as the outcomes
            # topic, so the EncryptOutcomes statement already covers its encryption.
            chat = Grant("PublishChat", ("sns:Publish",), chat_topic.topic_arn, why="The chat copy of each outcome.")
            for statement in statements((chat,), stack, settings):
                self.role.add_to_policy(statement)

    def _powertools_layer(self) -> lambda_.ILayerVersion:
        """The AWS-managed layer carrying exactly the Powertools release the tests ran on."""
        # CloudFormation reads AWS's public per-release parameter when the stack deploys
        # (in the stack's region, where the layer lives), so no credentials are needed at synth.
        arn = ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_SSM_PARAMETER)
        return lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", arn)

    def _grant(
        self,
        stack: Stack,
        *,
        settings: Settings,
        topic: sns.ITopic,
        topic_key: kms.IKey,
        table: dynamodb.ITable,
        failed_events: sqs.IQueue,
    ) -> None:
        """Least privilege: each grant below is one line of the function's contract."""
        if settings.hub:
            own_account: tuple[Grant, ...] = (
                Grant(
                    "AssumeMemberRoles",
                    ("sts:AssumeRole",),
                    member_role_arns,
                    conditions={"StringEquals": {"aws:ResourceOrgID": settings.organization_id}},
                    why="The hub acts only as a member account's role: none of the data-plane rights are its "
                    "own, so a bug or a forged event cannot touch the hub's account.",
                ),
            )
        else:
            own_account = DATA_PLANE_GRANTS
        grants = (
            Grant(
                "WriteOwnLogs",
                ("logs:CreateLogStream", "logs:PutLogEvents"),
                self.log_group.log_group_arn,
                why="Its own log group only: the role carries no AWS managed policy.",
            ),
            *own_account,
            Grant("PublishOutcomes", ("sns:Publish",), topic.topic_arn, why="Each outcome is published there."),
            Grant(
                "EncryptOutcomes",
                ("kms:Decrypt", "kms:GenerateDataKey"),
                topic_key.key_arn,
                why="SNS encrypts each message with a data key from the topic's key, on behalf of the publisher.",
            ),
            Grant(
                "IdempotencyRecords",
                TABLE_ACTIONS,
                table.table_arn,
                why="Powertools' idempotency records: one event is acted on once, however often it is delivered.",
            ),
            Grant(
                "SendFailedEvents",
                ("sqs:SendMessage",),
                failed_events.queue_arn,
                why="Lambda's on-failure destination sends with the function's role and needs SendMessage only. "
                "The queue uses SQS-managed encryption, so no KMS permission comes with it.",
            ),
        )
        for statement in statements(grants, stack, settings):
            self.role.add_to_policy(statement)

        default_policy = self.role.node.try_find_child("DefaultPolicy")
        assert default_policy is not None  # created by the add_to_policy calls above
        for resource, reason in _wildcard_reasons(stack, settings).items():
            Validations.of(default_policy).acknowledge(
                Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason)
            )


@jsii.implements(lambda_.IDestination)
class _SendOnlyQueueDestination:
    """The failed-events queue as on-failure destination, without granting anything.

    CDK's SqsDestination also grants sqs:GetQueueAttributes and sqs:GetQueueUrl,
    which Lambda does not call; the one right it needs is the SendFailedEvents
    statement of the role.
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self,
        _scope: Construct,
        _fn: lambda_.IFunction,
        *,
        type: lambda_.DestinationType | None = None,  # the keyword jsii passes
    ) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


def _as_nag_shows(value: str, placeholder: str) -> str:
    """A stack attribute as cdk-nag prints it: the literal, or ``<AWS::...>`` if unknown."""
    return placeholder if Token.is_unresolved(value) else value


def _as_nag_shows_arn(arn: str, stack: Stack) -> str:
    """An ARN built from the stack's partition and region as cdk-nag prints it."""
    resolved = stack.resolve(arn)
    if isinstance(resolved, str):
        return resolved
    separator, parts = resolved["Fn::Join"]
    return str(separator).join(part if isinstance(part, str) else f"<{part['Ref']}>" for part in parts)


def _hub_environment(stack: Stack, settings: Settings) -> dict[str, str]:
    """What tells the function it is a hub (auto_rollback.settings reads the same names)."""
    return {
        ENV_MEMBER_ROLE_NAME: member_role_name(stack.region),
        ENV_MEMBER_ACCOUNTS: ",".join(settings.member_accounts),
        ENV_ALARM_ACCOUNTS: ",".join(settings.alarm_accounts),
    }


def _wildcard_reasons(stack: Stack, settings: Settings) -> dict[str, str]:
    """Every wildcard resource left in the function's policy, and why it cannot be narrower."""
    if settings.hub:
        return {
            "*": (
                "Only X-Ray uses Resource '*': PutTraceSegments and PutTelemetryRecords support no "
                "resource-level permissions. The hub role has no Auto Scaling, CloudWatch or tagging right."
            ),
            _as_nag_shows_arn(member_role_arns(stack), stack): (
                "The hub assumes the auto-rollback member role of its region in whichever account sent the event; "
                "the account is the one part left open, and the statement's aws:ResourceOrgID condition "
                "limits it to the accounts of the organization."
            ),
        }
    return data_plane_wildcard_reasons(
        stack,
        settings,
        star=(
            "Only read-only calls and X-Ray use Resource '*': Auto Scaling Describe* actions, "
            "Resource Groups Tagging GetResources, CloudWatch ListAlarmMuteRules and X-Ray"
            " PutTraceSegments/PutTelemetryRecords support no "
            "resource-level permissions, and CloudWatch DescribeAlarms must be scoped to '*' to return "
            "composite alarms."
        ),
    )


def data_plane_wildcard_reasons(stack: Stack, settings: Settings, *, star: str) -> dict[str, str]:
    """The wildcard resources of data_plane_statements(), and why none can be narrower (cdk-nag IAM5).

    ``star`` explains Resource '*' for the whole policy, which may hold more than these statements.
    """
    partition = _as_nag_shows(stack.partition, "<AWS::Partition>")
    region = _as_nag_shows(stack.region, "<AWS::Region>")
    account = _as_nag_shows(stack.account, "<AWS::AccountId>")
    reasons = {
        "*": star,
        f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*": (
            "ListTagsForResource reads the tags of whichever alarm fired; alarms are created by the "
            "teams, not by this stack, so the ARN is limited to this account and region but not by name."
        ),
    }
    if not settings.dry_run:
        # Only acknowledged where the statement exists, so no acknowledgment is stale.
        reasons[f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/*"] = (
            "Rollback/Cancel apply to whichever group opted in: the statement carries the condition "
            f"autoscaling:ResourceTag/{OPT_IN_TAG} = {OPT_IN_VALUE}, so only opted-in groups match."
        )
    return reasons
