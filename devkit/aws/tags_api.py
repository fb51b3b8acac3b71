"""Auto Scaling DescribeTags for moto, as strict as AWS documents it.

moto 5.2.5 answers DescribeTags with every matching tag in one page, ignores
``MaxRecords`` and ``NextToken``, silently ignores unknown filter names, and
compares ``propagate-at-launch`` values with Python's ``str(bool)`` ("True"),
so the documented ``"true"`` matches nothing. Code that forgets to follow
``NextToken`` therefore passes every test on moto and misses groups on AWS.

:func:`install` replaces moto's handler with one that follows the API reference:

* ``MaxRecords`` defaults to 50 and may not exceed 100 (``ValidationError``).
* ``NextToken`` resumes after the last tag returned; a token this emulation did
  not issue is refused with the model's ``InvalidNextToken``.
* Filters ``auto-scaling-group``, ``key``, ``value`` and ``propagate-at-launch``:
  a tag matches a filter when it matches any of its values, and is returned only
  when it matches every filter. Any other filter name is a ``ValidationError``.
* Tags come back ordered by group name, then key. AWS does not document an order;
  a fixed one makes pages reproducible.

The module's name must not start with ``moto`` (see refresh_errors' docstring).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from moto.autoscaling.responses import AutoScalingResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult

from devkit.aws.model_limits import limit_problem
from devkit.aws.patch import install_handlers

DEFAULT_MAX_RECORDS = 50
MAX_MAX_RECORDS = 100
#: "The maximum number of filters per filter type (for example, auto-scaling-group) is 1000."
MAX_VALUES_PER_FILTER_TYPE = 1000
FILTER_NAMES = ("auto-scaling-group", "key", "value", "propagate-at-launch")


class TagsError(ServiceException):
    """An error served with the autoscaling model's status (InvalidNextToken → 400)."""


def validation_error(message: str) -> TagsError:
    return TagsError("ValidationError", message)


def _max_records(value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_RECORDS
    records = int(value)
    if records > MAX_MAX_RECORDS:
        raise validation_error(
            f"1 validation error detected: Value '{records}' at 'maxRecords' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_MAX_RECORDS}"
        )
    if records < 1:
        raise validation_error(
            f"1 validation error detected: Value '{records}' at 'maxRecords' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    return records


def _checked_filters(filters: Iterable[dict[str, Any]]) -> list[tuple[str, frozenset[str]]]:
    checked: list[tuple[str, frozenset[str]]] = []
    per_type: dict[str, int] = {}
    for item in filters:
        name = item.get("Name") or ""
        if name not in FILTER_NAMES:
            raise validation_error(
                f"Filter type {name} is not correct. Allowed Filter types are: {' '.join(FILTER_NAMES)}"
            )
        values = list(item.get("Values") or [])
        per_type[name] = per_type.get(name, 0) + len(values)
        if per_type[name] > MAX_VALUES_PER_FILTER_TYPE:
            raise validation_error(f"The maximum number of filters per filter type {name} is exceeded.")
        if name == "propagate-at-launch":
            values = [value.lower() for value in values]
        checked.append((name, frozenset(values)))
    return checked


def _field(tag: dict[str, Any], name: str) -> str:
    if name == "auto-scaling-group":
        return str(tag["ResourceId"])
    if name == "key":
        return str(tag["Key"])
    if name == "value":
        return str(tag.get("Value", ""))
    return str(_as_bool(tag.get("PropagateAtLaunch", False))).lower()


def _as_bool(value: Any) -> bool:
    # moto keeps PropagateAtLaunch as a bool or as the string it was sent as.
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _encode_token(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": list(position)}).encode()).decode()


def _decode_token(token: str) -> tuple[str, str]:
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
        group, key = after
        return str(group), str(key)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError):
        raise TagsError("InvalidNextToken", "The token is invalid.") from None


def _wire(tag: dict[str, Any]) -> dict[str, Any]:
    return {
        "ResourceId": tag["ResourceId"],
        "ResourceType": tag.get("ResourceType") or "auto-scaling-group",
        "Key": tag["Key"],
        "Value": tag.get("Value", ""),
        "PropagateAtLaunch": _as_bool(tag.get("PropagateAtLaunch", False)),
    }


def describe_tags(self: AutoScalingResponse) -> ActionResult:
    params: dict[str, Any] = dict(self.params)
    problem = limit_problem("autoscaling", "DescribeTags", params)
    if problem:
        raise validation_error(problem)
    max_records = _max_records(params.get("MaxRecords"))
    filters = _checked_filters(params.get("Filters") or [])
    groups = list(self.autoscaling_backend.autoscaling_groups.values())
    tags = [_wire(tag) for group in groups for tag in group.tags]
    matching = sorted(
        (tag for tag in tags if all(_field(tag, name) in values for name, values in filters)),
        key=lambda tag: (tag["ResourceId"], tag["Key"]),
    )
    token = params.get("NextToken")
    if token:
        after = _decode_token(token)
        matching = [tag for tag in matching if (tag["ResourceId"], tag["Key"]) > after]
    page = matching[:max_records]
    result: dict[str, Any] = {"Tags": page}
    if len(matching) > max_records:
        result["NextToken"] = _encode_token((page[-1]["ResourceId"], page[-1]["Key"]))
    return ActionResult(result)


def install() -> None:
    """Serve DescribeTags with AWS's paging and filters (idempotent)."""
    install_handlers(AutoScalingResponse, "_strict_describe_tags", {"describe_tags": describe_tags})
