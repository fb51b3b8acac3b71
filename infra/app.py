"""Build the CDK app: one AutoRollbackStack per region listed in the context."""

from __future__ import annotations

import os

from aws_cdk import App, Aws, CfnRule, CfnRuleAssertion, Environment, Fn, Stack, Tags

from infra.config import REGIONS, STACK_SET_REGION, SUPPORTED_REGIONS, ConfigError, Settings, check_region
from infra.stack import AutoRollbackStack

#: The CloudFormation stack name, the same in every region. Stack names are unique
#: per account AND region, so one name is enough, and going from ``regions: []`` to a
#: list keeps updating the stack already in the profile's region instead of creating
#: a second one next to it (which would notify, and roll back, twice).
STACK_NAME = "AutoRollback"
DESCRIPTION = "auto-rollback: rolls back EC2 Auto Scaling instance refreshes when their alarms fire"
HUB_DESCRIPTION = (
    "auto-rollback hub: rolls back EC2 Auto Scaling instance refreshes of the organization's accounts "
    "when their alarms fire"
)
#: What CloudFormation shows when the template is deployed in a region outside the allow-list.
REGION_RULE_DESCRIPTION = (
    "auto-rollback needs the AWS-managed Powertools layer for python3.13 on arm64 and its per-release SSM "
    "parameter, which AWS publishes only in these regions: " + ", ".join(SUPPORTED_REGIONS) + "."
)


def construct_id(region: str | None) -> str:
    """``AutoRollback-eu-west-1`` for a listed region (the id ``cdk deploy`` selects), ``AutoRollback`` otherwise."""
    return f"{STACK_NAME}-{region}" if region else STACK_NAME


def build_app(app: App) -> list[AutoRollbackStack]:
    """Add the stacks to ``app``, reading the options from its context.

    With ``regions`` listed, the account's deployment covers each of them (one
    stack per region, since EventBridge rules, alarms and Auto Scaling groups
    are regional). With none, the stack goes to the region of the current AWS
    CLI profile (CDK_DEFAULT_REGION), as ``cdk init`` apps do.
    """
    settings = Settings.from_context(app.node)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    profile_region = os.environ.get("CDK_DEFAULT_REGION")
    if not settings.regions and profile_region:
        check_region(profile_region, f"{REGIONS} is empty, so the stack goes to the AWS profile's region")
    if settings.hub and not settings.regions and settings.stack_set_region not in (None, profile_region):
        raise ConfigError(
            f"{STACK_SET_REGION} is {settings.stack_set_region!r}, but {REGIONS} is empty, so the only hub stack goes "
            f"to the AWS profile's region ({profile_region or 'none set'}), which must then hold the StackSet: "
            f"list the regions, or set {STACK_SET_REGION} to the profile's region or null"
        )
    targets: list[str | None] = list(settings.regions) or [None]
    # One StackSet covers every listed region: it lives in the stack of stackSetRegion (of the only
    # stack when there is one), never in "the first listed", which reordering would move.
    home = settings.stack_set_home
    stacks = []
    for region in targets:
        stack = AutoRollbackStack(
            app,
            construct_id(region),
            stack_name=STACK_NAME,
            settings=settings,
            # region None: the only stack, in the profile's region (stackSetRegion, if set, checked above).
            hosts_stack_set=settings.hub and (region is None or region == home),
            env=Environment(account=account, region=region or profile_region),
            description=HUB_DESCRIPTION if settings.hub else DESCRIPTION,
        )
        _refuse_unsupported_regions(stack)
        stacks.append(stack)
    _deploy_buses_before_spokes(stacks)
    Tags.of(app).add("project", "auto-rollback")
    return stacks


def _deploy_buses_before_spokes(stacks: list[AutoRollbackStack]) -> None:
    """The StackSet's stack is deployed last, so every region's hub bus exists before a spoke forwards to it.

    A spoke created first would forward its account's events to a bus that does not exist
    yet: they would fail to be delivered and wait in the spoke's dead-letter queue.
    """
    hosts = [stack for stack in stacks if stack.spoke_stack_set is not None]
    for host in hosts:
        # Deleting this stack deletes the StackSet and every spoke of the organization, and `cdk destroy`
        # of any other region selects it too (it depends on them) unless given --exclusively: CloudFormation
        # refuses to delete it until someone turns the protection off on purpose (docs/DEPLOY.md, section 11).
        host.termination_protection = True
        for other in stacks:
            if other is not host:
                host.add_dependency(other, "every region's hub bus exists before the StackSet creates spokes")


def _refuse_unsupported_regions(stack: Stack) -> None:
    """A template deployed by hand (or synthesized without a region) refuses other regions.

    CloudFormation evaluates Rules before it creates or changes anything, so the stack
    fails with this description instead of half-creating resources and then failing on
    the missing layer parameter.
    """
    CfnRule(
        stack,
        "SupportedRegion",
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_contains(list(SUPPORTED_REGIONS), Aws.REGION),
                assert_description=REGION_RULE_DESCRIPTION,
            )
        ],
    )
