"""docs/DEPLOY.md quotes what the repository prints: keep the two in step."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from auto_rollback.vocabulary import MODE_TAG, GroupMode
from devkit.template.synth import REPO_ROOT, cdk_environment
from infra import SAMPLE_EVENTS_DIR, summary
from infra.config import (
    OPTION_KEYS,
    RECOMMENDED_RESERVED_CONCURRENCY,
    REMOVED_KEYS,
    SUPPORTED_REGIONS,
    ConfigError,
    Settings,
)
from infra.console_events import EXAMPLES

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


def test_removed_options_are_not_in_the_table() -> None:
    # Given the guide's option table
    text = DEPLOY.read_text()

    # When the options that no longer exist are looked for
    listed = [key for key in REMOVED_KEYS if f"| `{key}` |" in text]

    # Then none is offered
    assert listed == []


def test_the_guide_lists_the_supported_regions_of_the_code() -> None:
    # Given the guide's "Supported regions" paragraph
    paragraph = re.search(r"\*\*Supported regions\.\*\*(.*?)\n\n", DEPLOY.read_text(), re.S)
    assert paragraph, "docs/DEPLOY.md no longer has its Supported regions paragraph"

    # When the region names in it are read
    named = re.findall(r"\b[a-z]{2}-[a-z]+-\d\b", paragraph.group(1))

    # Then they are infra/config.py's allow-list, in its order
    assert named == list(SUPPORTED_REGIONS)


def test_the_guide_quotes_the_message_of_a_misspelt_key() -> None:
    # Given the message the guide quotes for `-c dryrun=true`
    text = " ".join(DEPLOY.read_text().split())

    # When the same key is read
    try:
        Settings.from_mapping({"dryrun": "true"})
    except ConfigError as error:
        message = str(error)

    # Then the guide shows what synth prints
    assert f"(`{message}`)" in text


def test_the_guide_recommends_the_reservation_the_benchmark_uses() -> None:
    # Given the guide's reserved-concurrency advice
    text = DEPLOY.read_text()

    # When the recommended value is looked for
    # Then it is RECOMMENDED_RESERVED_CONCURRENCY, and the default is no reservation
    assert f'set `"reservedConcurrency": {RECOMMENDED_RESERVED_CONCURRENCY}`' in text
    assert "| `reservedConcurrency` | `null` |" in text
    assert Settings().reserved_concurrency is None


def test_the_guide_lists_the_opt_in_values_the_function_knows() -> None:
    # Given the guide's tag table and its command that finds mistyped tags
    text = DEPLOY.read_text()

    # When the values it gives for the auto-rollback tag are read
    rows = re.findall(rf"^\| `{re.escape(MODE_TAG)}` \| `([^`]+)`", text, re.MULTILINE)

    # Then they are the function's values (auto_rollback.vocabulary), in its order, and the command knows all of them
    assert rows == [mode.value for mode in GroupMode]
    assert "contains(`[" + ",".join(f'"{mode.value}"' for mode in GroupMode) + "]`" in text


def test_the_guide_shows_the_console_events_as_shipped() -> None:
    # Given the console events the stack publishes
    shipped = [json.dumps(json.loads((SAMPLE_EVENTS_DIR / file).read_text())) for file in EXAMPLES.values()]

    # When the guide is read
    lines = DEPLOY.read_text().splitlines()

    # Then it shows each of them, and names the files they come from
    assert all(event in lines for event in shipped)
    assert all(f"events/{file}" in DEPLOY.read_text() for file in EXAMPLES.values())


README = REPO_ROOT / "README.md"


def readme_layout() -> str:
    block = re.search(r"^Layout:.*?```\n(.*?)```", README.read_text(), re.S | re.M)
    assert block, "README.md has no Layout section"
    return block.group(1)


def test_the_readme_layout_names_every_module_of_the_function() -> None:
    # Given the README's layout and the function's modules
    layout = readme_layout()
    package = REPO_ROOT / "lambda" / "auto_rollback"
    modules = sorted(path.name for path in package.glob("*.py") if path.stem != "__init__")

    # When each is looked for in the layout
    missing = [name for name in modules if not re.search(rf"\b{re.escape(name)}\b", layout)]

    # Then none is missing: the layout is how a reader finds the module that does a job
    assert missing == []


def test_the_readme_layout_names_every_folder_of_the_project() -> None:
    # Given the folders git keeps: top level, and the parts of the embedded AWS, the tools and the tests
    layout = readme_layout()
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    paths = [Path(line).parts for line in tracked.splitlines()]
    top = {f"{parts[0]}/" for parts in paths if len(parts) > 1 and not parts[0].startswith(".")}
    within = {
        f"tests/{parts[1]}" if parts[0] == "tests" else f"{parts[1]}/"
        for parts in paths
        if len(parts) > 2 and parts[0] in {"devkit", "scripts", "tests"}
    }

    # When each is looked for in the layout
    missing = sorted(name for name in top | within if name not in layout)

    # Then none is missing
    assert missing == []
