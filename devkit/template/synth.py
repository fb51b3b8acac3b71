"""Synthesize the app the way ``make synth`` does, for tests.

The context comes from the repository's cdk.json (so tests check what would be
deployed), plus per-test overrides. The stack is pinned to the emulator's
account and region so that ARNs are literal and comparable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from devkit.aws.aws_server import patched_environ
from infra.app import build_app
from infra.stack import AutoRollbackStack

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` block of cdk.json: options and feature flags."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


@contextmanager
def cdk_environment(account: str | None = ACCOUNT, region: str | None = REGION) -> Iterator[None]:
    """What the CDK CLI exports to the app: the account and region of the profile (None: unknown)."""
    with patched_environ({"CDK_DEFAULT_ACCOUNT": account, "CDK_DEFAULT_REGION": region}):
        yield


def build(
    outdir: Path, overrides: Mapping[str, Any] | None = None, *, environment: Mapping[str, str | None] | None = None
) -> tuple[cdk.App, list[AutoRollbackStack]]:
    """A new App with cdk.json's context (plus overrides) and its stacks, not yet synthesized.

    ``environment`` overrides the CLI profile's account/region (``None``: unknown).
    """
    context = {**cdk_json_context(), **(overrides or {})}
    app = cdk.App(outdir=str(outdir), context=context, analytics_reporting=False)
    with cdk_environment(**(environment or {})):
        stacks = build_app(app)
    return app, stacks


def synth_template(
    outdir: Path, overrides: Mapping[str, Any] | None = None, *, region: str | None = None
) -> dict[str, Any]:
    """The CloudFormation template of the single stack, as a dict (written to ``outdir``).

    With ``region``, the stack for that region when cdk.json lists several (or the
    first listed, when none is there); without it, the app must make exactly one.
    """
    app, stacks = build(outdir, overrides)
    assembly = app.synth()
    if region is None:
        (stack,) = stacks
    else:
        stack = next((candidate for candidate in stacks if candidate.region == region), stacks[0])
    template: dict[str, Any] = assembly.get_stack_artifact(stack.artifact_id).template
    return template
