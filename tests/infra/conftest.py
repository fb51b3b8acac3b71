"""One synthesis per configuration per test session: synth takes seconds, checks take milliseconds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from devkit.template.synth import synth_template


@dataclass(frozen=True)
class Synth:
    """A synthesized cloud assembly: its directory (assets) and the stack's template."""

    outdir: Path
    template: dict[str, Any]


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """What ``make synth`` produces with cdk.json as committed."""
    outdir = tmp_path_factory.mktemp("cdk-default")
    return Synth(outdir=outdir, template=synth_template(outdir))


@pytest.fixture(scope="session")
def template_json(default_synth: Synth) -> dict[str, Any]:
    return default_synth.template


@pytest.fixture(scope="session")
def template(template_json: dict[str, Any]) -> Template:
    return Template.from_json(template_json)


@pytest.fixture(scope="session")
def template_file(template_json: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default template on disk, for tools that read files (cfn-lint)."""
    path = tmp_path_factory.mktemp("cfn") / "AutoRollback.template.json"
    path.write_text(json.dumps(template_json, indent=1))
    return path


@pytest.fixture(scope="session")
def rollback_on_insufficient_data_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The template with every non-default option turned on."""
    return synth_template(
        tmp_path_factory.mktemp("cdk-options"),
        {
            "insufficientDataAction": "rollback",
            "mutedAlarmAction": "rollback",
            "dryRun": True,
            "irreversibleFallback": "notify",
            "notificationEmails": ["oncall@example.com", "platform@example.com"],
            "reservedConcurrency": "5",
            "consoleTestEvents": False,
        },
    )
