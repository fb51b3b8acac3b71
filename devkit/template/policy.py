"""Read the IAM policies out of a synthesized template and ask what they allow.

A deliberately small evaluator: Allow statements only (the stack writes no Deny),
``Action``/``Resource`` with ``*`` and ``?`` wildcards, and the condition
operators the stack uses (``StringEquals``, ``StringLike``; ``ArnEquals``/``ArnLike``
for the IAM emulation, whose :func:`decision` also weighs Deny). Anything else makes
it raise instead of guessing, so a later change to the policies cannot turn a
test green by accident.

Template intrinsics are resolved with :func:`resolve`: pseudo parameters to the
values given, ``Ref``/``Fn::GetAtt`` of a resource to a placeholder ARN naming
its logical id, so that "can the function publish to *this* topic" stays
answerable.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Verbs that only read. Anything else is treated as changing something.
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "BatchGet", "Query", "Scan")


def placeholder_arn(logical_id: str, attribute: str = "Ref") -> str:
    """What a reference to a resource of the template resolves to here."""
    return f"arn:test:{logical_id}:{attribute}"


def resolve(value: Any, *, account: str, region: str, partition: str = "aws") -> Any:
    """Resolve the intrinsics the stack's policies use into plain strings."""
    pseudo = {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com",
    }
    if isinstance(value, list):
        return [resolve(item, account=account, region=region, partition=partition) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        ref = value["Ref"]
        return pseudo.get(ref, placeholder_arn(ref))
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return placeholder_arn(logical_id, attribute)
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, account=account, region=region, partition=partition)) for part in parts)
    return {key: resolve(item, account=account, region=region, partition=partition) for key, item in value.items()}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    """One resolved IAM statement."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sid: str | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Statement:
        unsupported = set(raw) - {"Effect", "Action", "Resource", "Condition", "Sid"}
        if unsupported:
            raise NotImplementedError(f"statement keys not understood here: {sorted(unsupported)}")
        return cls(
            effect=raw["Effect"],
            actions=tuple(_as_list(raw["Action"])),
            resources=tuple(_as_list(raw["Resource"])),
            conditions=raw.get("Condition", {}),
            sid=raw.get("Sid"),
        )

    def matches_action(self, action: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)

    def matches_resource(self, arn: str) -> bool:
        return any(fnmatch.fnmatchcase(arn, pattern) for pattern in self.resources)

    def conditions_hold(self, context: Mapping[str, str]) -> bool:
        """Whether every condition is met by the request context (key -> value)."""
        for operator, tests in self.conditions.items():
            for key, expected in tests.items():
                actual = context.get(key)
                if actual is None:
                    return False
                allowed = _as_list(expected)
                if operator == "StringEquals":
                    if actual not in allowed:
                        return False
                elif operator in ("StringLike", "ArnLike", "ArnEquals"):
                    # IAM's ArnEquals and ArnLike both take wildcards; both compare case-sensitively.
                    if not any(fnmatch.fnmatchcase(actual, pattern) for pattern in allowed):
                        return False
                else:
                    raise NotImplementedError(f"condition operator not understood here: {operator}")
        return True


def is_mutating(action: str) -> bool:
    """True unless the action's verb only reads (Describe*, Get*, List*...)."""
    verb = action.split(":", 1)[1]
    return not verb.startswith(READ_ONLY_PREFIXES)


def role_statements(template: Mapping[str, Any], role_logical_id: str, *, account: str, region: str) -> list[Statement]:
    """Every statement of every AWS::IAM::Policy attached to the role, resolved."""
    statements: list[Statement] = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        roles = resource["Properties"].get("Roles", [])
        if {"Ref": role_logical_id} not in roles:
            continue
        document = resolve(resource["Properties"]["PolicyDocument"], account=account, region=region)
        statements.extend(Statement.from_json(raw) for raw in document["Statement"])
    for resource_id, resource in template["Resources"].items():
        if resource_id == role_logical_id:
            inline = resource["Properties"].get("Policies", [])
            managed = resource["Properties"].get("ManagedPolicyArns", [])
            if inline or managed:
                raise NotImplementedError("the role has inline or managed policies this helper does not read")
    return statements


def function_role_id(template: Mapping[str, Any], function_logical_id: str) -> str:
    """The logical id of the execution role of a function of the template."""
    role = template["Resources"][function_logical_id]["Properties"]["Role"]
    logical_id: str = role["Fn::GetAtt"][0]
    return logical_id


def is_allowed(
    statements: Iterable[Statement],
    action: str,
    resource_arn: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Whether any Allow statement grants ``action`` on ``resource_arn`` in ``context``.

    ``context`` holds the condition keys of the request, e.g.
    ``{"autoscaling:ResourceTag/auto-rollback": "enabled"}``; a key that is absent
    (a tag the group does not have) fails every condition on it, as in IAM.
    """
    if any(statement.effect != "Allow" for statement in statements):
        raise NotImplementedError("Deny statements are not evaluated by this helper")
    return any(
        statement.matches_action(action)
        and statement.matches_resource(resource_arn)
        and statement.conditions_hold(context or {})
        for statement in statements
    )


#: SimulatePrincipalPolicy's EvalDecision values.
ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"


def decision(
    statements: Iterable[Statement],
    action: str,
    resource_arn: str,
    context: Mapping[str, str] | None = None,
) -> str:
    """IAM's decision for one request: a matching Deny wins, then a matching Allow, else implicitDeny.

    Unlike :func:`is_allowed`, Deny statements are evaluated (for policies read
    from IAM, which may carry them); the same operators are understood.
    """
    matching = [
        statement
        for statement in statements
        if statement.matches_action(action)
        and statement.matches_resource(resource_arn)
        and statement.conditions_hold(context or {})
    ]
    if any(statement.effect == "Deny" for statement in matching):
        return EXPLICIT_DENY
    return ALLOWED if any(statement.effect == "Allow" for statement in matching) else IMPLICIT_DENY
