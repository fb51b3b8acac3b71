"""Hub mode: sessions in member accounts, on each account's role, and telling their refusals apart.

One of the modules that call AWS (STS's AssumeRole; see :mod:`auto_rollback.aws`).
A member session's clients are made by :class:`auto_rollback.gateway.AwsGateway`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import boto3
from botocore.credentials import CredentialProvider, RefreshableCredentials
from botocore.exceptions import ClientError

from auto_rollback.aws import CLIENT_CONFIG, aws_message, aws_session, core_session, error_code
from auto_rollback.vocabulary import ROLE_SESSION_NAME, member_role_arn

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient


class MemberAccessError(Exception):
    """A member account's role could not be assumed: nothing can be read or done in that account."""

    def __init__(self, account: str, role_arn: str, code: str, message: str) -> None:
        self.account = account
        self.role_arn = role_arn
        self.code = code
        super().__init__(f"could not assume {role_arn} ({code}: {message})")


class _AssumedRoleProvider(CredentialProvider):
    """Hands botocore the member role's refreshable credentials (botocore's public extension point)."""

    METHOD = "auto-rollback-member-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


class MemberSessions:
    """Hub mode: opens a boto3 session in a member account, on the credentials of the account's role.

    The role is assumed when the session is opened, so that a refusal is a clear
    MemberAccessError there; botocore then refreshes the credentials (AssumeRole
    again) before they expire, so a session kept by the caller (the hub keeps one
    per account for the container's life) costs one AssumeRole an hour, not one per
    event. A refresh that is refused raises MemberAccessError too.
    """

    def __init__(self, role_name: str, *, sts: STSClient | None = None, partition: str = "aws") -> None:
        self.role_name = role_name
        self._partition = partition
        self._sts: STSClient = sts or aws_session().client("sts", config=CLIENT_CONFIG)

    def open(self, account: str) -> boto3.Session:
        """A session in ``account``; raises MemberAccessError when its role cannot be assumed."""
        role_arn = member_role_arn(account, self.role_name, self._partition)
        assume = partial(self._assume, account, role_arn)
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=assume(), refresh_using=assume, method=_AssumedRoleProvider.METHOD
        )
        core = core_session()
        # The container's loader, whose parsed models and endpoints are cached: not read again per account.
        # (boto3 offers no public accessor to a session's botocore session.)
        core.register_component("data_loader", aws_session()._session.get_component("data_loader"))
        core.get_component("credential_provider").insert_before("env", _AssumedRoleProvider(credentials))
        return boto3.Session(botocore_session=core)

    def _assume(self, account: str, role_arn: str) -> dict[str, str]:
        try:
            answer = self._sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        except ClientError as error:
            raise MemberAccessError(account, role_arn, error_code(error), aws_message(error)) from error
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }


#: Refusals that say a member session itself is no longer good (its role deleted, changed or re-created
#: since the credentials were issued, or missing a permission the function needs), not the request.
CREDENTIAL_ERRORS = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)
#: A member session that outlived its credentials (botocore refreshes them 15 minutes early, so this is rare):
#: nothing is wrong with the role, and assuming it again is all it takes.
EXPIRED_ERRORS = frozenset({"ExpiredToken", "ExpiredTokenException"})
#: The hub's own calls (its records, its topics): their refusals are the hub's, never a member's.
_HUB_OPERATIONS = frozenset({"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Publish"})


def member_refusal(error: BaseException | None) -> MemberAccessError | ClientError | None:
    """The member session's refusal that ``error`` is or wraps (a group's failure, an action's cause), if any."""
    for _ in range(8):  # chains are short; bounded all the same
        if error is None:
            return None
        if isinstance(error, MemberAccessError):
            return error
        if (
            isinstance(error, ClientError)
            and error_code(error) in CREDENTIAL_ERRORS
            and error.operation_name not in _HUB_OPERATIONS
        ):
            return error
        first = getattr(error, "first", None)  # service.GroupsFailedError: the failure it re-raises
        error = first if isinstance(first, BaseException) else error.__cause__
    return None
