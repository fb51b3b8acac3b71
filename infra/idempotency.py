"""The idempotency table: how the function calls RollbackInstanceRefresh exactly once."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

#: Attribute names fixed by Powertools' DynamoDBPersistenceLayer defaults.
PARTITION_KEY = "id"
TTL_ATTRIBUTE = "expiration"


class IdempotencyStore(Construct):
    """An on-demand DynamoDB table with TTL and point-in-time recovery.

    On demand because traffic is a handful of writes per alarm: provisioned
    capacity would cost more idle than this table costs busy. Records expire by
    TTL, so the table never grows; point-in-time recovery keeps the last 35 days
    restorable should someone delete records by hand during an incident.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Only short-lived idempotency records live here: nothing to keep
            # once the stack is destroyed.
            removal_policy=RemovalPolicy.DESTROY,
        )
