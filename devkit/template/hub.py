"""Synthesize the app in hub mode, for tests, the demo and the benchmarks.

The spoke template is taken from the hub stack's StackSet (its ``TemplateBody``),
so what the emulator deploys in member accounts is exactly what CloudFormation
would deploy there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.template.synth import synth_template

ORGANIZATION_ID = "o-a1b2c3d4e5"
ORGANIZATIONAL_UNITS = ["ou-a1b2-c3d4e5f6"]
STACK_SET = "AWS::CloudFormation::StackSet"


def hub_context(**overrides: Any) -> dict[str, Any]:
    """The context keys that turn the app into a hub (docs/DEPLOY.md, "Organization mode")."""
    return {
        "mode": "hub",
        "organizationId": ORGANIZATION_ID,
        "organizationalUnitIds": ORGANIZATIONAL_UNITS,
        **overrides,
    }


@dataclass(frozen=True)
class HubTemplates:
    hub: dict[str, Any]
    spoke: dict[str, Any]


def hub_templates(outdir: Path, **overrides: Any) -> HubTemplates:
    """The hub stack's template and the spoke template its StackSet deploys."""
    hub = synth_template(outdir, hub_context(**overrides))
    (stack_set,) = [resource for resource in hub["Resources"].values() if resource["Type"] == STACK_SET]
    return HubTemplates(hub=hub, spoke=json.loads(stack_set["Properties"]["TemplateBody"]))
