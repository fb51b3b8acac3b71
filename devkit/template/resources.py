"""The synthesized template as the embedded AWS deploys it: its resources, found by kind.

Read without CDK (no jsii, no Node): the template is a dict, synthesized once by
:mod:`devkit.template.cache` in a child process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from auto_rollback.vocabulary import HANDLER


class TemplateError(Exception):
    """The template could not be synthesized, or lacks what is deployed from it."""


@dataclass(frozen=True)
class StackTemplate:
    """The CloudFormation template of the stack, and where it came from (for the narration)."""

    resources: dict[str, dict[str, Any]]
    origin: str

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """Properties of every resource of ``kind``, by logical id."""
        return {
            logical_id: resource.get("Properties", {})
            for logical_id, resource in sorted(self.resources.items())
            if resource.get("Type") == kind
        }

    def single(self, kind: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(kind)
        if len(found) != 1:
            raise TemplateError(f"expected one {kind} in the synthesized template, found {len(found)}")
        return next(iter(found.items()))

    def topic(self, display_name: str) -> tuple[str, dict[str, Any]]:
        """The stack's topic with this display name (it has one for outcomes, one for chat)."""
        found = [item for item in self.of_type("AWS::SNS::Topic").items() if item[1].get("DisplayName") == display_name]
        if len(found) != 1:
            raise TemplateError(f"expected one SNS topic named {display_name!r} in the template, found {len(found)}")
        return found[0]

    def function(self) -> dict[str, Any]:
        """The auto-rollback function (the template also holds CDK's custom-resource function)."""
        found = [props for props in self.of_type("AWS::Lambda::Function").values() if props.get("Handler") == HANDLER]
        if len(found) != 1:
            raise TemplateError(f"expected one function with handler {HANDLER} in the template, found {len(found)}")
        return found[0]


def logical_name(logical_id: str) -> str:
    """A logical id without CDK's hash suffix, which says nothing to a reader."""
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)
