"""``make synth``'s command: the pinned aws-cdk CLI runs app.py offline and writes cdk.out."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from devkit.template.synth import REPO_ROOT

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


def _offline_cli_synth(outdir: Path, *context: str) -> subprocess.CompletedProcess[str]:
    """``cdk synth`` with the environment the Makefile exports (no telemetry, no version
    check, no notices) and no AWS credentials at all; ``context`` as ``key=value`` for -c."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_DEFAULT_"))}
    env.update(
        {
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    options = [argument for item in context for argument in ("-c", item)]
    return subprocess.run(
        [str(CDK), "--no-notices", "synth", "--quiet", "--output", str(outdir), *options],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.skipif(not CDK.exists(), reason="the pinned aws-cdk CLI is not installed: run `make node`")
def test_pinned_cli_synthesizes_offline(tmp_path: Path) -> None:
    # Given the committed cdk.json and no AWS credentials
    # When the pinned CLI synthesizes into a temporary directory (as make synth does into cdk.out)
    result = _offline_cli_synth(tmp_path)

    # Then it succeeds (cdk-nag included) and writes the template with the function in it
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "AutoRollback.template.json").read_text())
    handlers = [
        resource["Properties"].get("Handler")
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]
    assert "auto_rollback.handler.lambda_handler" in handlers


@pytest.mark.skipif(not CDK.exists(), reason="the pinned aws-cdk CLI is not installed: run `make node`")
@pytest.mark.parametrize(
    ("context", "message"),
    [
        ("dryrun=true", "unknown context key 'dryrun': did you mean 'dryRun'?"),
        ("reservedConcurrency=0", "reservedConcurrency must be a positive integer, or null/none for no reservation"),
        ("regions=ap-southeast-6", "regions: 'ap-southeast-6' is not a region where AWS publishes the Powertools"),
    ],
)
def test_a_bad_option_prints_one_clear_line_and_no_traceback(tmp_path: Path, context: str, message: str) -> None:
    # Given a mistake on the command line (the app stops before building anything, so this is quick)
    # When the pinned CLI synthesizes
    result = _offline_cli_synth(tmp_path, context)

    # Then it fails, saying what is wrong in one line, without a Python traceback, and writes no template
    assert result.returncode != 0
    assert f"auto-rollback configuration error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))
