"""STS AssumeRole for moto, as strict as AWS for how the hub function calls it.

moto 5.2.5's ``AssumeRole`` hands credentials for any ARN, whether the role exists
or trusts anyone ("the role does not need to exist", its docstring), so a member
role that refuses the hub would be assumed anyway. :func:`install` puts this check
in front of moto's handler, which still mints the credentials (they route later
calls to the role's account):

* ``RoleSessionName`` must be 2 to 64 characters of ``[\\w+=,.@-]``, and
  ``DurationSeconds`` 900 to 43200: ``ValidationError`` with AWS's message otherwise.
  An ARN that is not an IAM role ARN is ``ValidationError`` "Request ARN is invalid".
* The caller is read from the request's access key: a key an earlier AssumeRole
  issued is that role's session (``aws:PrincipalArn`` = the role's ARN, its account
  the role's); any other key is moto's user ``moto`` of the request's account
  (moto's default account unless ``x-moto-account-id`` names another).
* The role must exist in its account and its trust policy must allow the caller
  (:func:`devkit.aws.organization.resource_policy_allows`, ``aws:PrincipalOrgID``
  from the emulated organization). A role session must also be allowed
  ``sts:AssumeRole`` on the role by its own role's policies (with
  ``aws:ResourceAccount`` and ``aws:ResourceOrgID`` of the target): AWS asks that of
  every cross-account caller; it is asked of same-account sessions too, stricter
  than AWS only when the trust policy names that session's role. moto's own user
  stands for an administrator and is not asked.
* A refusal is STS's ``AccessDenied`` (HTTP 403) "User: <caller> is not authorized
  to perform: sts:AssumeRole on resource: <role arn>", whatever the reason: AWS does
  not tell a missing role from an untrusting one.
* Then ``DurationSeconds`` must not exceed the role's ``MaxSessionDuration`` (default
  3600), nor 3600 when a role session assumes a role (role chaining).
* The session is tied to the role's unique id (``RoleId``, ``AROA...``), recorded here
  keyed by the access key moto issues: on AWS a role deleted and re-created with the
  same name is a new principal, so :func:`current` is False for the old role's
  sessions, which keep no permission (:mod:`devkit.aws.authorization` refuses their
  calls, and an AssumeRole they make is refused as for a deleted role).
* moto stamps each session's ``Expiration`` and enforces nothing;
  :mod:`devkit.aws.authorization` refuses an expired session's calls (``ExpiredToken``).
  :func:`expire` and :func:`expire_all` move expiries to the past, so a test can make
  a caller's refresh path run without waiting an hour.

The module's name must not start with ``moto`` (see refresh_errors' docstring).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from xml.sax.saxutils import escape

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend, Role, get_account_id_from, iam_backends
from moto.sts.exceptions import STSValidationError
from moto.sts.models import AssumedRole, sts_backends
from moto.sts.responses import TokenResponse
from moto.utilities.utils import get_partition

from devkit.aws import organization
from devkit.aws.model_limits import limit_problem
from devkit.aws.patch import install_handlers

MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 43200, 3600
#: AWS caps a session a role session assumes (role chaining) at one hour.
CHAINED_MAX_DURATION = 3600
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_ROLE_ARN = re.compile(r"arn:[\w-]+:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?[\w+=,.@-]{1,64}", re.ASCII)
_XML_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
_MOTO_ASSUME_ROLE = TokenResponse.assume_role

_LOCK = threading.Lock()
#: Access key of an issued session -> RoleId of its role at issue. Keys are random, so entries
#: left by moto's reset are never read again (their sessions are gone with the STS backend).
_ISSUED_ROLE_IDS: dict[str, str] = {}


class UnknownSessionError(LookupError):
    """An access key no AssumeRole of the emulator issued."""


@dataclass(frozen=True)
class _Caller:
    """Who calls, as trust policies see them, and as AWS prints them in AccessDenied."""

    principal: organization.Caller
    shown_as: str
    #: A role session's role (None for moto's user, or for a session whose role was deleted since).
    role: Role | None
    is_role_session: bool


def _invalid(value: Any, member: str, constraint: str) -> STSValidationError:
    return STSValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


def _validate(params: Mapping[str, Any], session_name: Any, duration: int) -> None:
    problem = limit_problem("sts", "AssumeRole", params)
    if problem:
        raise STSValidationError(problem)
    if not isinstance(session_name, str) or not _SESSION_NAME.fullmatch(session_name):
        if isinstance(session_name, str) and len(session_name) < 2:
            raise _invalid(session_name, "roleSessionName", "Member must have length greater than or equal to 2")
        raise _invalid(session_name, "roleSessionName", r"Member must satisfy regular expression pattern: [\w+=,.@-]*")
    if duration < MIN_DURATION:
        raise _invalid(duration, "durationSeconds", f"Member must have value greater than or equal to {MIN_DURATION}")
    if duration > MAX_DURATION:
        raise _invalid(duration, "durationSeconds", f"Member must have value less than or equal to {MAX_DURATION}")


def _iam(account: str, partition: str) -> IAMBackend:
    backend: IAMBackend = iam_backends[account][partition]
    return backend


def _role(role_arn: str, partition: str) -> Role | None:
    try:
        # An IAM ARN names its account in its fifth field.
        return _iam(role_arn.split(":")[4], partition).get_role_by_arn(role_arn)
    except (NotFoundException, IndexError):
        return None


def current(access_key: str, role_arn: str, partition: str) -> bool:
    """Whether ``role_arn`` still exists with the RoleId it had when ``access_key``'s session was issued.

    False for a key this module did not issue (fail closed: nothing vouches for its role).
    """
    with _LOCK:
        issued = _ISSUED_ROLE_IDS.get(access_key)
    role = _role(role_arn, partition)
    return issued is not None and role is not None and role.id == issued


def _session(access_key: str, partition: str) -> AssumedRole:
    backend = sts_backends[get_account_id_from(access_key)][partition]
    session: AssumedRole | None = backend.get_assumed_role_from_access_key(access_key)
    if session is None:
        raise UnknownSessionError(f"no assumed-role session has the access key {access_key!r}")
    return session


def expire(access_key: str, partition: str = "aws") -> None:
    """End the session of ``access_key`` now, as its Expiration passing would; UnknownSessionError if none."""
    _session(access_key, partition).expiration = utcnow() - timedelta(seconds=1)


def expire_all(role_arn: str | None = None) -> int:
    """End every issued session now (only the sessions of ``role_arn`` when given); returns how many."""
    ended = 0
    past = utcnow() - timedelta(seconds=1)
    for by_partition in list(sts_backends.values()):
        for backend in list(by_partition.values()):
            for session in list(backend.assumed_roles):
                if role_arn is None or session.role_arn == role_arn:
                    session.expiration = past
                    ended += 1
    return ended


def _caller(response: TokenResponse, partition: str) -> _Caller:
    account = response.current_account
    key = _iam(account, partition).access_keys.get(response.access_key)
    role_arn = getattr(key, "role_arn", None) if key is not None else None
    if role_arn:
        session = sts_backends[account][partition].get_assumed_role_from_access_key(response.access_key)
        shown_as = session.arn if session is not None else role_arn
        # A deleted role's session, or one of a role re-created since (a new RoleId), keeps its ARN
        # and loses every permission.
        role = _role(role_arn, partition) if current(response.access_key, role_arn, partition) else None
        return _Caller(organization.Caller(account, role_arn), shown_as, role, is_role_session=True)
    user = f"arn:{partition}:iam::{account}:user/moto"
    return _Caller(organization.Caller(account, user), user, None, is_role_session=False)


def _identity_allows(caller: _Caller, role_arn: str, target_account: str) -> bool:
    """Whether the caller's own role allows sts:AssumeRole on ``role_arn`` (moto's user: always)."""
    if not caller.is_role_session:
        return True
    if caller.role is None:
        return False
    context = {**caller.principal.context(), "aws:ResourceAccount": target_account}
    resource_org = organization.organization_of(target_account)
    if resource_org is not None:
        context["aws:ResourceOrgID"] = resource_org
    return organization.identity_allows(caller.role.arn, action="sts:AssumeRole", resource=role_arn, context=context)


def _access_denied(caller: _Caller, role_arn: str) -> tuple[str, dict[str, Any]]:
    message = escape(f"User: {caller.shown_as} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
    request_id = str(uuid.uuid4())
    body = (
        f'<ErrorResponse xmlns="{_XML_NAMESPACE}"><Error><Type>Sender</Type><Code>AccessDenied</Code>'
        f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return body, {"status": 403, "Content-Type": "text/xml", "x-amzn-RequestId": request_id}


def assume_role(self: TokenResponse) -> Any:
    params: dict[str, Any] = dict(self._get_params())
    role_arn, session_name = self._get_param("RoleArn"), self._get_param("RoleSessionName")
    duration = self._get_int_param("DurationSeconds", DEFAULT_DURATION)
    _validate(params, session_name, duration)
    matched = _ROLE_ARN.fullmatch(role_arn or "")
    if matched is None:
        raise STSValidationError("Request ARN is invalid")
    partition = get_partition(self.region)
    caller = _caller(self, partition)
    target_account = matched.group(1)
    try:
        role = _iam(target_account, partition).get_role_by_arn(role_arn)
    except NotFoundException:
        return _access_denied(caller, role_arn)
    trusted = organization.resource_policy_allows(
        role.assume_role_policy_document, action="sts:AssumeRole", resource=role.arn, caller=caller.principal
    )
    if not trusted or not _identity_allows(caller, role.arn, target_account):
        return _access_denied(caller, role_arn)
    if caller.is_role_session and duration > CHAINED_MAX_DURATION:
        raise STSValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    if duration > int(role.max_session_duration or DEFAULT_DURATION):
        raise STSValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    answer = _MOTO_ASSUME_ROLE(self)
    issued = (
        answer.result.get("Credentials")
        if isinstance(answer, ActionResult) and isinstance(answer.result, dict)
        else None
    )
    if isinstance(issued, AssumedRole):
        with _LOCK:
            _ISSUED_ROLE_IDS[issued.access_key_id] = role.id
    return answer


def install() -> bool:
    """Serve AssumeRole with the checks above (idempotent); also makes moto's reset forget the organization."""
    organization.install()
    return install_handlers(TokenResponse, "_strict_assume_role", {"assume_role": assume_role})
