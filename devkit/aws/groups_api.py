"""Auto Scaling DescribeAutoScalingGroups and the Tagging API's GetResources limits, as strict as AWS documents them.

moto 5.2.5 answers DescribeAutoScalingGroups with ``NextToken`` set to the last
group's *name* and looks it up with ``list.index``: a token it did not issue (or
one naming a group deleted since) is an HTTP 500, not AWS's ``InvalidNextToken``.
``MaxRecords`` over 100 is also a 500 (a bare ``ValueError``), and a filter name it
does not know is silently ignored, so a mistyped ``tag-key`` lists every group.

:func:`install` replaces the handler with one that follows the API reference and
botocore's model:

* ``MaxRecords`` defaults to 50 and may be 1 to 100 (``ValidationError``).
* ``NextToken`` resumes after the last group returned; a token this emulation did
  not issue is refused with the model's ``InvalidNextToken``.
* Filters ``tag-key``, ``tag-value`` and ``tag:<key>`` (the three the Filter shape
  documents for this operation): a group matches a filter when one of its tags
  matches any of its values (case-sensitive), and is returned only when it matches
  every filter. Any other name is a ``ValidationError`` (the message is ours: AWS
  documents the three names, not the wording of the refusal).
* Groups come back ordered by name. AWS does not document an order; a fixed one
  makes pages reproducible.

GetResources (Resource Groups Tagging API): moto checks ``ResourcesPerPage`` but not
the model's list limits, so 21 values in one ``TagFilters`` entry (AWS: "each key can
include up to 20 values") or 51 keys pass. They are refused here with the model's
``InvalidParameterException``, before moto answers.

The module's name must not start with ``moto`` (see refresh_errors' docstring).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

from devkit.aws.model_limits import limit_problem
from devkit.aws.patch import install_handlers
from devkit.aws.tags_api import TagsError, validation_error

DEFAULT_MAX_RECORDS = 50
MAX_MAX_RECORDS = 100
FILTER_NAMES = ("tag-key", "tag-value", "tag:<key>")

_moto_get_resources = ResourceGroupsTaggingAPIResponse.get_resources


def _max_records(value: Any) -> int:
    records = DEFAULT_MAX_RECORDS if value is None else int(value)
    if not 1 <= records <= MAX_MAX_RECORDS:
        bound = f"less than or equal to {MAX_MAX_RECORDS}" if records > 1 else "greater than or equal to 1"
        raise validation_error(
            f"1 validation error detected: Value '{records}' at 'maxRecords' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )
    return records


def _matches(tags: list[dict[str, Any]], name: str, values: set[str]) -> bool:
    if name == "tag-key":
        return any(tag["Key"] in values for tag in tags)
    if name == "tag-value":
        return any(tag.get("Value", "") in values for tag in tags)
    if name.startswith("tag:") and len(name) > len("tag:"):
        key = name[len("tag:") :]
        return any(tag["Key"] == key and tag.get("Value", "") in values for tag in tags)
    raise validation_error(f"Filter type {name} is not correct. Allowed Filter types are: {' '.join(FILTER_NAMES)}")


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"groupsAfter": after}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))["groupsAfter"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError):
        raise TagsError("InvalidNextToken", "The token is invalid.") from None
    if not isinstance(after, str):
        raise TagsError("InvalidNextToken", "The token is invalid.")
    return after


def describe_auto_scaling_groups(self: AutoScalingResponse) -> ActionResult:
    params: dict[str, Any] = dict(self.params)
    problem = limit_problem("autoscaling", "DescribeAutoScalingGroups", params)
    if problem:
        raise validation_error(problem)
    max_records = _max_records(params.get("MaxRecords"))
    filters = [(item.get("Name") or "", set(item.get("Values") or [])) for item in params.get("Filters") or []]
    names = set(params.get("AutoScalingGroupNames") or [])
    groups = sorted(self.autoscaling_backend.autoscaling_groups.values(), key=lambda group: group.name)
    matching = [
        group
        for group in groups
        if (not names or group.name in names) and all(_matches(group.tags, name, values) for name, values in filters)
    ]
    # An unknown filter name is refused even when no group exists to test it on.
    for name, values in filters:
        _matches([], name, values)
    token = params.get("NextToken")
    if token:
        after = _decode_token(token)
        matching = [group for group in matching if group.name > after]
    page = matching[:max_records]
    result: dict[str, Any] = {"AutoScalingGroups": page}
    if len(matching) > max_records:
        result["NextToken"] = _encode_token(page[-1].name)
    return ActionResult(result)


def get_resources(self: ResourceGroupsTaggingAPIResponse) -> Any:
    problem = limit_problem("resourcegroupstaggingapi", "GetResources", dict(self._get_params()))
    if problem:
        raise ResourceGroupsTaggingAPIError("InvalidParameterException", problem)
    return _moto_get_resources(self)


def install() -> None:
    """Serve DescribeAutoScalingGroups with AWS's paging and filters, GetResources with its limits (idempotent)."""
    install_handlers(
        AutoScalingResponse,
        "_strict_describe_auto_scaling_groups",
        {"describe_auto_scaling_groups": describe_auto_scaling_groups},
    )
    install_handlers(ResourceGroupsTaggingAPIResponse, "_strict_get_resources", {"get_resources": get_resources})
