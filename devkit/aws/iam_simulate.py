"""IAM SimulatePrincipalPolicy for roles, which moto 5.2.5 does not have.

The runbook's IAM preflight (scripts/ops/preflight.py) asks IAM whether the
function's role may do what a rollback of a launch-template group might need.
:func:`install` adds the action to moto's IAM, answering in IAM's query protocol
with the shapes of botocore's model:

* The role named by ``PolicySourceArn`` (``arn:<partition>:iam::<account>:role/<path/>name``)
  is read from moto's IAM: its inline policies and attached managed policies (default
  version), and its permissions boundary when it has one. An ARN that is not an IAM ARN
  is ``InvalidInput``; a role that does not exist is ``NoSuchEntity`` (404).
* Every action is evaluated on every resource (``ResourceArns``, default ``*``, taken
  literally: only a statement whose ``Resource`` pattern matches the string ``*`` applies)
  with devkit.template.policy's evaluator: an explicit Deny wins, then an Allow, else
  ``implicitDeny``; a boundary that does not allow turns an allow into ``implicitDeny``.
  Condition key names are case-insensitive, as in IAM.
* One ``EvaluationResults`` entry per (action, resource), in that order, carrying
  ``ResourceSpecificResults`` for its resource and the condition keys the matching
  statements needed but the request did not give (``MissingContextValues``).
* Paged by ``MaxItems`` (default 100, 1 to 1000) with ``IsTruncated``/``Marker``; a
  marker this emulation did not issue is ``InvalidInput``.
* ``ContextEntries`` need a name, values and a type. Only ``string`` (one value) is
  evaluated; any other type, users and groups as sources, and the optional policy
  inputs (``PolicyInputList``, ``ResourcePolicy``...) are refused with
  ``PolicyEvaluation`` (500) and a message saying the emulation does not evaluate
  them, rather than answered wrongly. So is a policy construct the evaluator does not
  understand (``NotAction``, ``ForAnyValue:``, ``...IfExists``, numeric operators).

The module's name must not start with ``moto`` (see refresh_errors' docstring).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.exceptions import IAMException, NotFoundException, ValidationError
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse

from devkit.aws.model_limits import limit_problem
from devkit.aws.patch import install_handlers
from devkit.template import policy

DEFAULT_MAX_ITEMS = 100
MAX_MAX_ITEMS = 1000
#: Parameters of the operation this emulation does not evaluate (it refuses them).
UNEVALUATED_PARAMETERS = (
    "PolicyInputList",
    "PermissionsBoundaryPolicyInputList",
    "PolicyExclusionList",
    "ResourcePolicy",
    "ResourceOwner",
    "CallerArn",
    "ResourceHandlingOption",
)


class InvalidInput(IAMException):
    code = "InvalidInput"


class NotEvaluated(IAMException):
    """AWS's PolicyEvaluation fault, for what this emulation cannot evaluate (never a guessed answer)."""

    code = "PolicyEvaluation"

    def __init__(self, what: str) -> None:
        super().__init__(f"devkit's IAM emulation does not evaluate {what}")


class _KeysIgnoreCase(dict[str, str]):
    """A request context whose key names match whatever their case, as IAM's condition keys do."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class _Sourced:
    statement: policy.Statement
    source_id: str
    source_type: str  # PolicySourceType: role (inline), aws-managed, user-managed


def _statements(document: str, source_id: str, source_type: str) -> list[_Sourced]:
    parsed = json.loads(document)
    raw = parsed["Statement"]
    try:
        return [
            _Sourced(policy.Statement.from_json(item), source_id, source_type)
            for item in (raw if isinstance(raw, list) else [raw])
        ]
    except NotImplementedError as error:
        raise NotEvaluated(f"policy {source_id}: {error}") from None


def _managed(backend: IAMBackend, arn: str) -> list[_Sourced]:
    managed = backend.get_policy(arn)
    (version,) = [item for item in managed.versions if item.is_default]
    kind = "aws-managed" if arn.split(":")[4] == "aws" else "user-managed"
    return _statements(version.document, managed.name, kind)


def _role(backend: IAMBackend, source_arn: str) -> tuple[list[_Sourced], list[_Sourced] | None]:
    """(identity statements, boundary statements or None) of the role ``source_arn`` names."""
    parts = source_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or "/" not in parts[5]:
        raise InvalidInput(f"ARN {source_arn} is not valid.")
    kind, _, path_and_name = parts[5].partition("/")
    if kind != "role":
        raise NotEvaluated(f"policy sources other than roles ({kind})")
    name = path_and_name.rsplit("/", 1)[-1]
    matches = [role for role in backend.roles.values() if role.name == name and role.arn == source_arn]
    if not matches:
        raise NotFoundException(f"The role with name {name} cannot be found.")
    role = matches[0]
    identity = [item for name, document in role.policies.items() for item in _statements(document, name, "role")]
    for arn in role.managed_policies:
        identity.extend(_managed(backend, arn))
    boundary = _managed(backend, role.permissions_boundary_arn) if role.permissions_boundary_arn else None
    return identity, boundary


def _context(entries: list[Mapping[str, Any]]) -> _KeysIgnoreCase:
    context = _KeysIgnoreCase()
    for entry in entries:
        name, values, kind = entry.get("ContextKeyName"), entry.get("ContextKeyValues"), entry.get("ContextKeyType")
        if not name or not values or not kind:
            raise InvalidInput("Each context entry needs a ContextKeyName, ContextKeyValues and a ContextKeyType.")
        if kind != "string" or len(values) != 1:
            raise NotEvaluated(f"context entry {name} of type {kind} with {len(values)} value(s) (only string, one)")
        context[str(name).lower()] = str(values[0])
    return context


def _decide(
    statements: list[_Sourced], action: str, resource: str, context: _KeysIgnoreCase
) -> tuple[str, list[_Sourced], list[str]]:
    """(decision, statements that matched, condition keys they needed and the context lacked)."""
    try:
        applicable = [item for item in statements if item.statement.matches_action(action)]
        applicable = [item for item in applicable if item.statement.matches_resource(resource)]
        matched = [item for item in applicable if item.statement.conditions_hold(context)]
        verdict = policy.decision([item.statement for item in applicable], action, resource, context)
    except NotImplementedError as error:
        raise NotEvaluated(str(error)) from None
    missing = sorted(
        {
            key
            for item in applicable
            for tests in item.statement.conditions.values()
            for key in tests
            if context.get(key) is None
        }
    )
    return verdict, matched, missing


def _evaluate(
    identity: list[_Sourced],
    boundary: list[_Sourced] | None,
    action: str,
    resource: str,
    context: _KeysIgnoreCase,
) -> dict[str, Any]:
    verdict, matched, missing = _decide(identity, action, resource, context)
    detail: dict[str, Any] = {}
    if boundary is not None:
        bounded, _, boundary_missing = _decide(boundary, action, resource, context)
        detail = {"PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": bounded == policy.ALLOWED}}
        missing = sorted({*missing, *boundary_missing})
        if verdict == policy.ALLOWED and bounded != policy.ALLOWED:
            verdict = bounded if bounded == policy.EXPLICIT_DENY else policy.IMPLICIT_DENY
    statements = [{"SourcePolicyId": item.source_id, "SourcePolicyType": item.source_type} for item in matched]
    specific = {
        "EvalResourceName": resource,
        "EvalResourceDecision": verdict,
        "MatchedStatements": statements,
        "MissingContextValues": missing,
        **detail,
    }
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": verdict,
        "MatchedStatements": statements,
        "MissingContextValues": missing,
        **detail,
        "ResourceSpecificResults": [specific],
    }


def _encode_marker(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"simulateFrom": offset}).encode()).decode()


def _decode_marker(marker: str, total: int) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(marker.encode()))["simulateFrom"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError):
        raise InvalidInput("Invalid Marker.") from None
    if not isinstance(offset, int) or not 0 < offset < total:
        raise InvalidInput("Invalid Marker.")
    return offset


def _max_items(value: Any) -> int:
    items = DEFAULT_MAX_ITEMS if value is None else int(value)
    if not 1 <= items <= MAX_MAX_ITEMS:
        bound = f"less than or equal to {MAX_MAX_ITEMS}" if items > 1 else "greater than or equal to 1"
        raise ValidationError(
            f"1 validation error detected: Value '{items}' at 'maxItems' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )
    return items


def simulate_principal_policy(self: IamResponse) -> ActionResult:
    params: dict[str, Any] = dict(self._get_params())
    problem = limit_problem("iam", "SimulatePrincipalPolicy", params)
    if problem:
        raise ValidationError(problem)
    source, actions = params.get("PolicySourceArn"), params.get("ActionNames") or []
    if not source or not actions:
        raise InvalidInput("PolicySourceArn and ActionNames are required.")
    given = [name for name in UNEVALUATED_PARAMETERS if params.get(name)]
    if given:
        raise NotEvaluated(f"parameter(s) {', '.join(given)}")
    malformed = [action for action in actions if ":" not in action or not all(action.split(":", 1))]
    if malformed:
        raise InvalidInput(f"Action name {malformed[0]} is not valid: it needs a service prefix (service:Action).")
    max_items = _max_items(params.get("MaxItems"))
    identity, boundary = _role(self.backend, source)
    context = _context(params.get("ContextEntries") or [])
    pairs = [(action, resource) for action in actions for resource in params.get("ResourceArns") or ["*"]]
    start = _decode_marker(params["Marker"], len(pairs)) if params.get("Marker") else 0
    page = pairs[start : start + max_items]
    result: dict[str, Any] = {
        "EvaluationResults": [_evaluate(identity, boundary, action, resource, context) for action, resource in page],
        "IsTruncated": start + max_items < len(pairs),
    }
    if result["IsTruncated"]:
        result["Marker"] = _encode_marker(start + max_items)
    return ActionResult(result)


def install() -> None:
    """Serve IAM SimulatePrincipalPolicy for roles (idempotent)."""
    install_handlers(
        IamResponse, "_devkit_simulate_principal_policy", {"simulate_principal_policy": simulate_principal_policy}
    )
