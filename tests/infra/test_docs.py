"""docs/DEPLOY.md quotes what the repository prints: keep the two in step."""

from __future__ import annotations

import re
import shlex

import pytest

from infra import summary
from infra.config import OPTION_KEYS
from tests.infra.synth import REPO_ROOT, cdk_environment

DEPLOY = REPO_ROOT / "docs" / "DEPLOY.md"


def test_quoted_summary_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the console block of the guide that quotes `python -m infra.summary ...`
    block = re.search(r"```console\n\$ \.venv/bin/python -m infra\.summary([^\n]*)\n(.*?)```", DEPLOY.read_text(), re.S)
    assert block, "docs/DEPLOY.md no longer quotes infra.summary"
    arguments, quoted = shlex.split(block.group(1)), block.group(2)

    # When the same command runs against the committed cdk.json
    with cdk_environment(account=None, region=None):
        summary.main(arguments)
    printed = capsys.readouterr().out

    # Then the guide shows exactly its output
    assert printed == quoted


def test_every_option_is_documented() -> None:
    # Given the guide's option table
    text = DEPLOY.read_text()

    # When each context option of the stack is looked for
    missing = [key for key in OPTION_KEYS if f"| `{key}` |" not in text]

    # Then none is missing
    assert missing == []
