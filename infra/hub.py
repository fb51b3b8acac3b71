"""Hub mode's own resources in the hub account: the bus every spoke of the region forwards to."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from auto_rollback.vocabulary import HUB_BUS_NAME


class HubBus(Construct):
    """The custom event bus ``auto-rollback-hub``, open to the accounts of one organization only.

    Spokes forward with a role of their own account: EventBridge requires a role on a
    rule whose target is another account's bus when that account grants access to an
    organization rather than to named accounts (PutTargets, ``RoleArn``). The policy
    names no account, so an account joining the organization needs no change here;
    ``aws:PrincipalOrgID`` keeps every other account out.
    """

    def __init__(self, scope: Construct, construct_id: str, *, organization_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=HUB_BUS_NAME)
        # CDK prints a deprecation warning for CfnEventBusPolicy's Principal property at every
        # synth, whether this L2 helper or the L1 resource writes the policy; nothing sets it.
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationSpokesPutEvents",
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            )
        )
