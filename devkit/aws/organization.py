"""The emulated AWS Organization, and the resource policies that let its accounts in.

moto serves each account separately but has no notion of an organization behind
``aws:PrincipalOrgID``, and it grants every cross-account request. Hub mode rests on
two resource policies that name the organization: the member role's trust policy
(checked by :mod:`devkit.aws.sts_api`) and the hub bus's policy (checked by
:mod:`devkit.aws.events_rules`). This module holds:

* the registry (:func:`define`, :func:`organization_of`, :func:`reset`), in this
  process like the other emulation state: the moto server runs in a thread of the
  test process. :func:`install` makes moto's reset forget it too;
* :func:`identity_allows`, whether a role's own policies (inline, managed and
  boundary, read from moto's IAM) allow an action, with devkit.template.policy's
  evaluator;
* :func:`resource_policy_allows`, a small evaluator of resource-based policies
  (``Principal``, ``Effect``, ``Action``, ``Resource`` and the condition operators
  the project's templates use). Anything else it does not understand (``NotPrincipal``,
  ``NotAction``, another operator, a condition key it does not know) refuses: the
  emulator may be stricter than AWS, never kinder.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.core.base_backend import BackendDict
from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend, Role, iam_backends
from moto.utilities.utils import get_partition

from devkit.template import policy

ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")
ACCOUNT_ID = re.compile(r"\d{12}")
_ROOT = re.compile(r"arn:[\w-]+:iam::(\d{12}):root")

_LOCK = threading.Lock()
_ACCOUNTS: dict[str, str] = {}  # account id -> organization id
_MARKER = "_auto_rollback_organization_reset"


class OrganizationError(ValueError):
    """A definition of the emulated organization that AWS could not hold."""


def define(organization_id: str, accounts: Iterable[str]) -> None:
    """Make ``accounts`` the members of ``organization_id`` (an account belongs to one organization)."""
    if not ORGANIZATION_ID.fullmatch(organization_id):
        raise OrganizationError(f"organization id must match o-[a-z0-9]{{10,32}}, got {organization_id!r}")
    members = list(accounts)
    malformed = [account for account in members if not ACCOUNT_ID.fullmatch(account)]
    if malformed:
        raise OrganizationError(f"accounts must be 12-digit ids, got {malformed[0]!r}")
    with _LOCK:
        taken = [account for account in members if _ACCOUNTS.get(account, organization_id) != organization_id]
        if taken:
            raise OrganizationError(f"account {taken[0]} already belongs to organization {_ACCOUNTS[taken[0]]}")
        _ACCOUNTS.update(dict.fromkeys(members, organization_id))


def organization_of(account: str) -> str | None:
    """The organization ``account`` belongs to, or None (an account outside any organization)."""
    with _LOCK:
        return _ACCOUNTS.get(account)


def reset() -> None:
    with _LOCK:
        _ACCOUNTS.clear()


def install() -> bool:
    """Make moto's reset (``/moto-api/reset``, ``mock_aws``) forget the organization; True when installed now."""
    with _LOCK:
        if getattr(BackendDict, _MARKER, False):
            return False
        previous_reset = BackendDict.reset

        def reset_with_organization(cls: type[BackendDict[Any]]) -> None:
            previous_reset()
            reset()

        BackendDict.reset = classmethod(reset_with_organization)  # type: ignore[method-assign, assignment]
        setattr(BackendDict, _MARKER, True)
        return True


# --------------------------------------------------------------------------- resource policies


@dataclass(frozen=True)
class Caller:
    """Who makes a request, as a resource policy sees it.

    ``principal_arn`` is ``aws:PrincipalArn``: for a role session, the ROLE's ARN
    (``arn:aws:iam::<account>:role/<name>``), not the session's. ``service`` is set
    instead for an AWS service principal (``events.amazonaws.com``).
    """

    account: str
    principal_arn: str
    service: str | None = None
    #: False when AWS does not put aws:PrincipalOrgID in the request (a service, or a rule without a role).
    carries_org: bool = True

    def context(self) -> dict[str, str]:
        """The global condition keys of the request, lower-cased (IAM compares key names case-insensitively)."""
        context = {"aws:principalarn": self.principal_arn, "aws:principalaccount": self.account}
        organization = organization_of(self.account)
        if organization is not None and self.carries_org:
            context["aws:principalorgid"] = organization
        return context


class _NotUnderstood(Exception):
    """A policy construct this evaluator does not evaluate (the decision is then a refusal)."""


_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
_KNOWN_KEYS = {"aws:principalarn", "aws:principalaccount", "aws:principalorgid"}
_OPERATORS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return caller.service is None
    if not isinstance(principal, Mapping) or set(principal) - {"AWS", "Service", "Federated", "CanonicalUser"}:
        raise _NotUnderstood(f"Principal {principal!r}")
    if caller.service is not None:
        return caller.service in _as_list(principal.get("Service", []))
    for entry in _as_list(principal.get("AWS", [])):
        root = _ROOT.fullmatch(entry)
        # An account (id or root ARN) trusts every principal of that account; an ARN trusts that principal only.
        if entry in ("*", caller.account, caller.principal_arn) or (root and root.group(1) == caller.account):
            return True
    return False


def _conditions_hold(conditions: Any, context: Mapping[str, str]) -> bool:
    if not isinstance(conditions, Mapping):
        raise _NotUnderstood(f"Condition {conditions!r}")
    for operator, tests in conditions.items():
        if operator not in _OPERATORS or not isinstance(tests, Mapping):
            raise _NotUnderstood(f"condition operator {operator}")
        for key, expected in tests.items():
            if key.lower() not in _KNOWN_KEYS:
                raise _NotUnderstood(f"condition key {key}")
            actual = context.get(key.lower())
            if actual is None:
                return False  # IAM: a key the request does not carry fails a positive operator
            allowed = [str(value) for value in _as_list(expected)]
            if operator == "StringEquals":
                if actual not in allowed:
                    return False
            elif not any(fnmatch.fnmatchcase(actual, pattern) for pattern in allowed):
                return False  # StringLike, ArnEquals and ArnLike all take * and ? in IAM
    return True


def _applies(statement: Any, action: str, resource: str, caller: Caller) -> bool:
    if not isinstance(statement, Mapping) or set(statement) - _STATEMENT_KEYS or "Principal" not in statement:
        raise _NotUnderstood(f"statement {statement!r}")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise _NotUnderstood(f"Effect {statement.get('Effect')!r}")
    actions = _as_list(statement.get("Action", []))
    if not any(fnmatch.fnmatchcase(action.lower(), str(pattern).lower()) for pattern in actions):
        return False
    # A trust policy has no Resource: the role it is attached to is the resource.
    resources = _as_list(statement.get("Resource", "*"))
    if not any(fnmatch.fnmatchcase(resource, str(pattern)) for pattern in resources):
        return False
    if not _principal_matches(statement["Principal"], caller):
        return False
    return _conditions_hold(statement.get("Condition", {}), caller.context())


def resource_policy_allows(
    document: str | Mapping[str, Any] | None, *, action: str, resource: str, caller: Caller
) -> bool:
    """Whether the resource policy lets ``caller`` do ``action`` on ``resource``: an Allow applies and no Deny does.

    A missing, malformed or not-understood policy refuses (fail closed).
    """
    if document is None:
        return False
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
        statements = _as_list(parsed["Statement"])
        applying = [item for item in statements if _applies(item, action, resource, caller)]
    except (_NotUnderstood, ValueError, KeyError, TypeError):
        return False
    if any(item.get("Effect") == "Deny" for item in applying):
        return False
    return any(item.get("Effect") == "Allow" for item in applying)


class _KeysIgnoreCase(dict[str, str]):
    """A request context whose key names match whatever their case, as IAM's condition keys do."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


def _statements(document: str) -> list[policy.Statement]:
    raw = json.loads(document)["Statement"]
    return [policy.Statement.from_json(item) for item in _as_list(raw)]


def _managed(backend: IAMBackend, arn: str) -> list[policy.Statement]:
    (version,) = [item for item in backend.get_policy(arn).versions if item.is_default]
    return _statements(version.document)


def _role(role_arn: str) -> tuple[IAMBackend, Role] | None:
    """moto's IAM of the role's account and the role ``role_arn`` names, or None when there is no such role."""
    parts = role_arn.split(":")
    if len(parts) < 6 or not ACCOUNT_ID.fullmatch(parts[4]):
        return None
    backend: IAMBackend = iam_backends[parts[4]][get_partition(parts[1])]
    try:
        return backend, backend.get_role_by_arn(role_arn)
    except NotFoundException:
        return None


def trust_policy(role_arn: str) -> str | None:
    """The trust policy of the role ``role_arn`` names, or None when there is no such role."""
    found = _role(role_arn)
    return None if found is None else str(found[1].assume_role_policy_document)


def identity_allows(role_arn: str, *, action: str, resource: str, context: Mapping[str, str]) -> bool:
    """Whether the role's own policies allow ``action`` on ``resource`` in ``context`` (condition key -> value).

    A role that does not exist, or a policy the evaluator does not understand, refuses.
    """
    keys = _KeysIgnoreCase({key.lower(): value for key, value in context.items()})
    try:
        found = role_policies(role_arn)
        if found is None:
            return False
        identity, boundary = found
        if policy.decision(identity, action, resource, keys) != policy.ALLOWED:
            return False
        return boundary is None or policy.decision(boundary, action, resource, keys) == policy.ALLOWED
    except (NotFoundException, NotImplementedError, ValueError, KeyError, TypeError):
        return False  # a managed policy gone, or a policy this emulation does not understand


def role_policies(role_arn: str) -> tuple[list[policy.Statement], list[policy.Statement] | None] | None:
    """(identity statements, permissions boundary statements or None) of a role; None when there is no such role.

    Raises NotImplementedError, ValueError, KeyError or TypeError for a policy the
    evaluator does not read, and NotFoundException for a managed policy gone: callers refuse then.
    """
    found = _role(role_arn)
    if found is None:
        return None
    backend, role = found
    identity = [item for document in role.policies.values() for item in _statements(document)]
    for arn in role.managed_policies:
        identity.extend(_managed(backend, arn))
    boundary = role.permissions_boundary_arn
    return identity, (_managed(backend, boundary) if boundary else None)
