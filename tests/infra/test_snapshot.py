"""The whole template against a reviewed snapshot, so any change to it is a visible diff.

Asset hashes change with every edit of the function's code and are replaced
by a placeholder; everything else must match. After an intended change:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/infra/test_snapshot.py

and review the diff of tests/infra/snapshots/ like any other code.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).parent / "snapshots" / "AutoRollback.template.json"
_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalise(template: dict[str, Any]) -> str:
    """Stable JSON text of the template with asset hashes (S3 keys) made constant."""
    return _ASSET_HASH.sub("<asset-hash>", json.dumps(template, indent=2, sort_keys=True)) + "\n"


def test_normalise_hides_only_asset_hashes() -> None:
    # Given a fragment with an asset key and an ordinary value
    fragment = {"S3Key": "0" * 64 + ".zip", "Handler": "auto_rollback.handler.lambda_handler"}

    # When it is normalised
    text = normalise(fragment)

    # Then the hash is replaced and the rest kept
    assert '"<asset-hash>.zip"' in text
    assert "auto_rollback.handler.lambda_handler" in text


def test_template_matches_the_snapshot(template_json: dict[str, Any]) -> None:
    # Given the template synthesized with cdk.json as committed
    actual = normalise(template_json)

    # When it is compared with the reviewed snapshot (or the snapshot is rewritten on request)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(actual)
    assert SNAPSHOT.exists(), f"No snapshot yet: create it with UPDATE_SNAPSHOTS=1 (see {__name__})"
    expected = SNAPSHOT.read_text()

    # Then they are identical
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{SNAPSHOT.name} (snapshot)",
                tofile="synthesized",
                n=2,
            )
        )
        raise AssertionError(
            "The synthesized template differs from the snapshot. If the change is intended, run\n"
            "  UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/infra/test_snapshot.py\n"
            f"and commit the new snapshot.\n\n{diff}"
        )
