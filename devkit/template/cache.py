"""The synthesized templates, cached by a hash of their sources, for the demo and the benchmarks.

Synthesis runs the CDK app in a child process (jsii starts Node; the caller need
not keep it) and takes seconds; the cache makes every later run start at once,
and a change to any source the template is built from re-synthesizes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from devkit.template.resources import StackTemplate, TemplateError
from infra import LAMBDA_DIR

REPO_ROOT = LAMBDA_DIR.parent
CACHE_DIR = REPO_ROOT / ".venv" / ".demo-template-cache"
#: What the synthesized template depends on: a change to any of these re-synthesizes.
# The function's vocabulary is an input: infra reads its names (the opt-in tag of the
# IAM condition, the hub's bus and roles) instead of typing them again.
TEMPLATE_INPUTS = (
    "app.py",
    "cdk.json",
    "infra/**/*.py",
    "lambda/auto_rollback/facts.py",
    "lambda/auto_rollback/vocabulary.py",
    "devkit/template/synth.py",
)
#: What the hub template depends on beyond the per-account template's inputs.
HUB_INPUTS = ("devkit/template/hub.py",)
#: Part of the cache key: raised when the way the demo synthesizes changes, so no
#: template cached the old way is used (2: cdk.json's context is read, as the CLI would).
TEMPLATE_RECIPE = "2"


def template_key() -> str:
    """A hash of everything the template is built from, so a stale cache is never used."""
    digest = hashlib.sha256(f"{package_version('aws-cdk-lib')} recipe {TEMPLATE_RECIPE}".encode())
    _hash_sources(digest, TEMPLATE_INPUTS)
    return digest.hexdigest()[:16]


def _hash_sources(digest: Any, patterns: tuple[str, ...]) -> None:
    """Each file the patterns name (a missing one adds nothing), by path and content."""
    for pattern in patterns:
        for path in sorted(REPO_ROOT.glob(pattern)):
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
            digest.update(path.read_bytes())


def load_template() -> StackTemplate:
    """The synthesized template, from the cache when the sources have not changed."""
    key = template_key()
    cached = CACHE_DIR / f"{key}.json"
    if cached.is_file():
        return StackTemplate(json.loads(cached.read_text())["Resources"], f"cached synth {key}")
    started = time.monotonic()
    template = synthesize()
    _store(cached, json.dumps(template))
    return StackTemplate(template["Resources"], f"synthesized now in {time.monotonic() - started:.1f} s, cached")


_SYNTH_WITH_DEVKIT = """
import json, sys
from pathlib import Path
from devkit.template.synth import synth_template
out = Path(sys.argv[1])
(out / "demo-template.json").write_text(json.dumps(synth_template(out, region="us-east-1")))
"""


def synthesize() -> dict[str, Any]:
    """Run the CDK app in a child process (jsii starts Node; the caller need not keep it).

    Through devkit's synth, as the tests do: it reads cdk.json's context, as the CDK
    CLI would (``python app.py`` alone reads none, so every option would silently take
    its default), and pins the emulator's account and region, so ARNs are literal.
    """
    with tempfile.TemporaryDirectory(prefix="auto-rollback-synth-") as outdir:
        _run_synth([_SYNTH_WITH_DEVKIT, outdir], "could not synthesize the CDK app")
        template: dict[str, Any] = json.loads((Path(outdir) / "demo-template.json").read_text())
        return template


def hub_template_key(alarm_account: str) -> str:
    digest = hashlib.sha256(f"hub {alarm_account} {template_key()}".encode())
    _hash_sources(digest, HUB_INPUTS)
    return digest.hexdigest()[:16]


_SYNTH_HUB = """
import json, sys
from pathlib import Path
from devkit.template.hub import hub_templates
out = Path(sys.argv[1])
found = hub_templates(out, alarmAccounts=[sys.argv[2]])
(out / "hub.json").write_text(json.dumps({"hub": found.hub, "spoke": found.spoke}))
"""


def load_hub_templates(alarm_account: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The hub template, the spoke template of its StackSet, and where they came from (cached by source hash).

    ``alarm_account`` is the hub's ``alarmAccounts`` context: the monitoring account.
    """
    key = hub_template_key(alarm_account)
    cached = CACHE_DIR / f"hub-{key}.json"
    if cached.is_file():
        both = json.loads(cached.read_text())
        return both["hub"], both["spoke"], f"cached synth {key}"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="auto-rollback-hub-synth-") as outdir:
        # alarmAccounts names the monitoring account, as an operator's context would (docs/DEPLOY.md).
        _run_synth([_SYNTH_HUB, outdir, alarm_account], "could not synthesize the app in hub mode")
        text = (Path(outdir) / "hub.json").read_text()
    _store(cached, text)
    both = json.loads(text)
    return both["hub"], both["spoke"], f"synthesized now in {time.monotonic() - started:.1f} s, cached"


def _run_synth(arguments: list[str], failure: str) -> None:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1"}
    command = [sys.executable, "-c", *arguments]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise TemplateError(f"{failure} (exit {done.returncode}):\n{tail}")


def _store(cached: Path, text: str) -> None:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    # Written aside then renamed, so a concurrent demo never reads half a file.
    with tempfile.NamedTemporaryFile("w", dir=CACHE_DIR, suffix=".tmp", delete=False) as partial:
        partial.write(text)
    Path(partial.name).replace(cached)
