"""The length and size limits botocore's models document, enforced on the server side as AWS does.

botocore checks a request's types and minimums before sending it, never its
maximums: a 256-character ``AlarmNamePrefix`` leaves the client and AWS answers
``ValidationError``. moto accepts it. The strict emulation modules call
:func:`limit_problem` on the parameters of each operation they serve, so a
request the function builds from untrusted input (a tag value, an event field)
fails in the tests exactly where it would fail in AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from botocore.model import ListShape, OperationModel, Shape, StructureShape
from botocore.session import get_session


@cache
def _operation(service: str, operation: str) -> OperationModel:
    return get_session().get_service_model(service).operation_model(operation)


def limit_problem(service: str, operation: str, params: Mapping[str, Any]) -> str | None:
    """AWS's ``ValidationError`` message for the first documented maximum ``params`` exceed, or None."""
    shape = _operation(service, operation).input_shape
    return None if shape is None else _structure_problem(shape, params, "")


def _structure_problem(shape: StructureShape, params: Mapping[str, Any], path: str) -> str | None:
    for name, member in shape.members.items():
        if params.get(name) is not None:
            problem = _problem(member, params[name], f"{path}{name[:1].lower()}{name[1:]}")
            if problem:
                return problem
    return None


def _problem(shape: Shape, value: Any, path: str) -> str | None:
    maximum = shape.metadata.get("max")
    if isinstance(value, str) and maximum is not None and len(value) > maximum:
        return _message(value, path, f"Member must have length less than or equal to {maximum}")
    if isinstance(shape, ListShape) and isinstance(value, list):
        if maximum is not None and len(value) > maximum:
            return _message(value, path, f"Member must have length less than or equal to {maximum}")
        for item in value:
            problem = _problem(shape.member, item, f"{path}.member")
            if problem:
                return problem
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return _structure_problem(shape, value, f"{path}.")
    return None


def _message(value: Any, path: str, constraint: str) -> str:
    return f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"
