"""Build the CDK app: one AutoRollbackStack per region listed in the context."""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Tags

from infra.config import Settings
from infra.stack import AutoRollbackStack

STACK_NAME = "AutoRollback"
DESCRIPTION = "auto-rollback: rolls back EC2 Auto Scaling instance refreshes when their alarms fire"


def stack_name(region: str | None) -> str:
    """``AutoRollback-eu-west-1`` for a listed region, ``AutoRollback`` otherwise."""
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
    targets: list[str | None] = list(settings.regions) or [None]
    stacks = []
    for region in targets:
        stacks.append(
            AutoRollbackStack(
                app,
                stack_name(region),
                settings=settings,
                env=Environment(account=account, region=region or os.environ.get("CDK_DEFAULT_REGION")),
                description=DESCRIPTION,
            )
        )
    Tags.of(app).add("project", "auto-rollback")
    return stacks
