"""``make synth``'s command: the pinned aws-cdk CLI runs app.py offline and writes cdk.out."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from devkit.template.synth import REPO_ROOT

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


@pytest.mark.slow
@pytest.mark.skipif(not CDK.exists(), reason="the pinned aws-cdk CLI is not installed: run `make node`")
def test_pinned_cli_synthesizes_offline(tmp_path: Path) -> None:
    # Given the environment the Makefile exports (no telemetry, no version check, no notices)
    # and no AWS credentials at all
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_DEFAULT_"))}
    env.update(
        {
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )

    # When the pinned CLI synthesizes into a temporary directory (as make synth does into cdk.out)
    result = subprocess.run(
        [str(CDK), "--no-notices", "synth", "--quiet", "--output", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # Then it succeeds (cdk-nag included) and writes the template with the function in it
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "AutoRollback.template.json").read_text())
    handlers = [
        resource["Properties"].get("Handler")
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]
    assert "auto_rollback.handler.lambda_handler" in handlers
