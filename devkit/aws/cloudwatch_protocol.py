"""What the embedded CloudWatch checks in every request, and its page tokens.

botocore checks required members, minimums and enums before sending, but a client can
turn that off; AWS checks them all again, and the maximums botocore never checks, so
the emulator answers ``ValidationError`` as CloudWatch does. A ``NextToken`` is tied to
the listing that issued it (``InvalidNextToken`` anywhere else).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from botocore.model import ListShape, Shape, StructureShape
from botocore.session import get_session
from moto.cloudwatch.exceptions import ValidationError
from moto.core.exceptions import ServiceException

from devkit.aws.model_limits import limit_problem


class CloudWatchError(ServiceException):
    """An error the cloudwatch model declares (e.g. InvalidNextToken → 400)."""


# --------------------------------------------------------------------------- the model's constraints


@cache
def _input_shape(operation: str) -> StructureShape:
    shape = get_session().get_service_model("cloudwatch").operation_model(operation).input_shape
    assert isinstance(shape, StructureShape)
    return shape


def input_problem(operation: str, params: Mapping[str, Any]) -> str | None:
    """AWS's ``ValidationError`` message for the first model constraint ``params`` break, or None.

    botocore checks required members, minimums and enums before sending, but a client
    can turn that off; AWS checks them all again, and the maximums botocore never checks.
    """
    return limit_problem("cloudwatch", operation, params) or _structure_problem(_input_shape(operation), params, "")


def check_input(operation: str, params: Mapping[str, Any]) -> None:
    """Raise AWS's ``ValidationError`` if ``params`` break a constraint of the operation's model."""
    problem = input_problem(operation, params)
    if problem:
        raise ValidationError(problem)


def _structure_problem(shape: StructureShape, params: Mapping[str, Any], path: str) -> str | None:
    for name, member in shape.members.items():
        where = f"{path}{name[:1].lower()}{name[1:]}"
        value = params.get(name)
        if value is None:
            if name in shape.required_members:
                return _violation(None, where, "Member must not be null")
            continue
        problem = _value_problem(member, value, where)
        if problem:
            return problem
    return None


def _value_problem(shape: Shape, value: Any, path: str) -> str | None:  # noqa: PLR0911 - one return per check
    low = shape.metadata.get("min")
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return _structure_problem(shape, value, f"{path}.")
    if isinstance(shape, ListShape) and isinstance(value, list):
        if low is not None and len(value) < low:
            return _violation(value, path, f"Member must have length greater than or equal to {low}")
        for item in value:
            problem = _value_problem(shape.member, item, f"{path}.member")
            if problem:
                return problem
        return None
    if isinstance(value, str):
        if low is not None and len(value) < low:
            return _violation(value, path, f"Member must have length greater than or equal to {low}")
        enum: list[str] = getattr(shape, "enum", [])
        if enum and value not in enum:
            return _violation(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        high = shape.metadata.get("max")
        if low is not None and value < low:
            return _violation(value, path, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            return _violation(value, path, f"Member must have value less than or equal to {high}")
    return None


def _violation(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"1 validation error detected: Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def check_limits(operation: str, params: dict[str, Any]) -> None:
    """The model's maximums (botocore sends a request that breaks them; AWS refuses it)."""
    problem = limit_problem("cloudwatch", operation, params)
    if problem:
        raise ValidationError(problem)


# --------------------------------------------------------------------------- page tokens


def encode_token(after: str, scope: str) -> str:
    """A NextToken for the page after the item named ``after`` of the listing ``scope`` (an operation name)."""
    return base64.urlsafe_b64encode(json.dumps({"after": after, "scope": scope}).encode()).decode()


def decode_token(token: str, scope: str) -> str:
    """The name after which the page ``token`` stands for starts; ``InvalidNextToken`` if not issued by ``scope``."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        if decoded["scope"] == scope:
            return str(decoded["after"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError):
        pass
    raise CloudWatchError("InvalidNextToken", "The service returned an invalid token.")
