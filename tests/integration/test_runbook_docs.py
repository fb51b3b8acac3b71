"""Every ``scripts.ops`` command docs/RUNBOOK.md gives names a module and options that exist."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "RUNBOOK.md"


def _commands() -> list[list[str]]:
    """The ``python -m scripts.ops.*`` commands of the runbook's fenced blocks, as argv."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", RUNBOOK.read_text(), flags=re.DOTALL)
    text = "\n".join(blocks).replace("\\\n", " ")
    return [shlex.split(line)[2:] for line in text.splitlines() if " -m scripts.ops." in line]


def test_the_runbook_gives_a_command_for_each_tool() -> None:
    # Given the runbook
    # When its commands are collected
    modules = {argv[0] for argv in _commands()}

    # Then smoke, replay, pause and preflight each appear
    assert modules == {"scripts.ops.smoke", "scripts.ops.replay", "scripts.ops.pause", "scripts.ops.preflight"}


@pytest.mark.parametrize("argv", _commands(), ids=" ".join)
def test_each_command_parses_with_its_module(argv: list[str]) -> None:
    # Given a command of the runbook
    module = importlib.import_module(argv[0])
    parser: argparse.ArgumentParser = module.parser()

    # When its module's own parser reads its arguments
    parser.exit_on_error = False
    namespace = parser.parse_args(argv[1:])

    # Then they are accepted, and name the stack
    assert namespace.stack == "AutoRollback"
