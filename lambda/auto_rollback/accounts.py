"""Hub mode's vocabulary: the names the function, the hub stack and the spoke template share.

In hub mode one function, in a hub account, serves every account of an AWS
Organization: each member account's spoke forwards its events to the hub's bus
and holds a role the function assumes to read and act there. The stack and the
spoke template import these names, so that the role the function asks for is
the role the template creates.
"""

from __future__ import annotations

import re

#: The custom event bus in the hub account that every spoke of the same region forwards to.
HUB_BUS_NAME = "auto-rollback-hub"
#: The role session name member accounts see in CloudTrail for every call the function makes there.
ROLE_SESSION_NAME = "auto-rollback"
MEMBER_ROLE_PREFIX = "auto-rollback-member"
HUB_ROLE_PREFIX = "auto-rollback-hub"

#: An AWS account id: twelve digits, leading zeros included.
ACCOUNT_ID = re.compile(r"\d{12}")
_QUALIFIED_LINK = re.compile(r"(\d{12})/(.+)", re.DOTALL)


def member_role_name(region: str) -> str:
    """The role of a member account the hub of ``region`` assumes: one per region, as IAM names are global."""
    return f"{MEMBER_ROLE_PREFIX}-{region}"


def hub_role_name(region: str) -> str:
    """The hub function's execution role, named so that spokes can trust it before it is deployed anywhere else."""
    return f"{HUB_ROLE_PREFIX}-{region}"


def member_role_arn(account: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def split_group_link(value: str) -> tuple[str | None, str]:
    """``"111122223333/web"`` names group ``web`` of account 111122223333; any other value names a group only.

    Group names may themselves contain ``/``: in hub mode a group whose name starts
    with twelve digits and a slash must be written with its account in front.
    """
    qualified = _QUALIFIED_LINK.fullmatch(value)
    if qualified is None:
        return None, value
    return qualified.group(1), qualified.group(2)


def parse_account_list(raw: str, name: str) -> frozenset[str]:
    """A comma-separated list of account ids (blank: none); raises ValueError naming ``name`` and the bad entry."""
    accounts = [entry.strip() for entry in raw.split(",") if entry.strip()]
    for account in accounts:
        if not ACCOUNT_ID.fullmatch(account):
            raise ValueError(f"{name} must list 12-digit AWS account ids separated by commas, got {account!r}")
    return frozenset(accounts)
