"""The StackSet that puts the spoke in every account of the chosen OUs and regions, now and later."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_cloudformation as cloudformation
from constructs import Construct

from infra.config import Settings
from infra.spoke import HUB_ACCOUNT_PARAMETER, spoke_template, template_body

STACK_SET_NAME = "AutoRollback-Spoke"
#: Failures of a spoke are rarely about one account: a service control policy that denies
#: iam:CreateRole, or a role of the same name made by hand, fails the same way in many. So
#: CloudFormation stops a region's operation once 10% of its accounts have failed (rounded
#: down: in a region of fewer than 10 accounts, at the first failure), before the same
#: mistake is made everywhere; a failed instance leaves its account as it was.
FAILURE_TOLERANCE_PERCENTAGE = 10
#: Up to a quarter of a region's accounts at once (regions in parallel), so an organization of
#: hundreds of accounts is covered in a few waves; CloudFormation's default strict failure
#: tolerance lowers it to the tolerance plus one account, so a bad template fails few accounts.
MAX_CONCURRENT_PERCENTAGE = 25


class SpokeStackSet(Construct):
    """One service-managed StackSet: CloudFormation creates the spoke in each account of the OUs.

    Auto-deployment adds the spoke to every account that joins one of the OUs and deletes
    it (RetainStacksOnAccountRemoval false) from every account that leaves them, so the
    hub's coverage follows the organization without a deploy. With ``memberAccounts``
    set, only those accounts of the OUs get a spoke (:func:`deployment_targets`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, regions: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "StackSet",
            stack_set_name=STACK_SET_NAME,
            description="auto-rollback spokes: forward events to the hub and let it act on opted-in groups",
            permission_model="SERVICE_MANAGED",
            call_as=settings.stack_set_call_as,
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            # The member role has a fixed name (the hub asks for it by name).
            capabilities=["CAPABILITY_NAMED_IAM"],
            # Operations on the StackSet queue up instead of failing while one runs.
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                region_concurrency_type="PARALLEL",
                failure_tolerance_percentage=FAILURE_TOLERANCE_PERCENTAGE,
                max_concurrent_percentage=MAX_CONCURRENT_PERCENTAGE,
            ),
            parameters=[
                cloudformation.CfnStackSet.ParameterProperty(
                    parameter_key=HUB_ACCOUNT_PARAMETER, parameter_value=Stack.of(self).account
                )
            ],
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=deployment_targets(settings), regions=list(regions)
                )
            ],
            template_body=template_body(spoke_template(settings)),
        )


def deployment_targets(settings: Settings) -> cloudformation.CfnStackSet.DeploymentTargetsProperty:
    """The OUs' accounts; with ``memberAccounts``, only those of them (the allow-list limits spokes too).

    Service-managed StackSets must name OUs; with ``Accounts`` as well, CloudFormation needs
    ``AccountFilterType``, and a StackSet created as a resource refuses ``UNION`` (the
    default). ``INTERSECTION`` deploys to the listed accounts that are in the OUs: a listed
    account outside them, or the management account, gets no spoke.
    """
    units = list(settings.organizational_unit_ids)
    if not settings.member_accounts:
        return cloudformation.CfnStackSet.DeploymentTargetsProperty(organizational_unit_ids=units)
    return cloudformation.CfnStackSet.DeploymentTargetsProperty(
        organizational_unit_ids=units,
        accounts=list(settings.member_accounts),
        account_filter_type="INTERSECTION",
    )
