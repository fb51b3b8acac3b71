"""``make bench`` in quick mode, so the benchmark cannot rot.

The AWS calls on the critical path are deterministic, so they are checked
exactly; every other figure is only checked to have been produced (timings on a
shared machine prove nothing in a test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Calls before RollbackInstanceRefresh, in order, per scenario of scripts/bench.py.
TAGS = ["autoscaling:DescribeTags", "autoscaling:DescribeInstanceRefreshes", "dynamodb:PutItem"]
LOOKUP = ["cloudwatch:ListTagsForResource", *TAGS]
FIND = ["autoscaling:DescribeTags", "autoscaling:DescribeInstanceRefreshes", "cloudwatch:DescribeAlarms"]
MUTE = "cloudwatch:ListAlarmMuteRules"
LOCK = "dynamodb:PutItem"
EXPECTED_CRITICAL_PATHS = {
    "alarm-tags": TAGS,
    "alarm-lookup": LOOKUP,
    "composite-tags": TAGS,
    "composite-prefix": LOOKUP,
    "checkpoint-prefix": [*FIND, MUTE, LOCK],
    "checkpoint-tag": [*FIND, "cloudwatch:ListTagsForResource", MUTE, LOCK],
    # The muted alarm's mute look-up, then the unmuted one's.
    "checkpoint-muted": [*FIND, MUTE, MUTE, LOCK],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One quick run of the benchmark in its own process (it starts its own emulator)."""
    folder = tmp_path_factory.mktemp("bench")
    figures, document = folder / "bench.json", folder / "PERFORMANCE.md"
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "scripts.bench", "--quick", "--json", str(figures), "--write", str(document)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    data: dict[str, Any] = json.loads(figures.read_text())
    data["stdout"] = done.stdout
    data["document"] = document.read_text()
    return data


@pytest.mark.slow
def test_critical_path_calls_are_exactly_the_expected_ones(report: dict[str, Any]) -> None:
    paths = report["critical_paths"]
    assert set(paths) == set(EXPECTED_CRITICAL_PATHS)
    for key, expected in EXPECTED_CRITICAL_PATHS.items():
        path = paths[key]
        assert path["outcome"] == "ROLLBACK_STARTED", key
        assert path["before_rollback"] == len(expected), key
        assert path["calls"][: len(expected) + 1] == [*expected, "autoscaling:RollbackInstanceRefresh"], key
        # Nothing that can wait is before the rollback call: the notification comes after it.
        assert "sns:Publish" in path["calls"][len(expected) + 1 :], key


@pytest.mark.slow
def test_alarm_events_meet_the_critical_path_targets(report: dict[str, Any]) -> None:
    paths = report["critical_paths"]
    assert paths["alarm-tags"]["before_rollback"] <= 3
    assert paths["composite-tags"]["before_rollback"] <= 3
    assert paths["alarm-lookup"]["before_rollback"] <= 4
    assert paths["checkpoint-prefix"]["before_rollback"] <= 5


@pytest.mark.slow
def test_alarm_events_held_back_by_cloudwatch_make_no_aws_call(report: dict[str, Any]) -> None:
    held_back = report["figures"]["held_back_calls"]
    assert len(held_back) == 2
    assert set(held_back.values()) == {0}


@pytest.mark.slow
def test_every_other_figure_is_produced(report: dict[str, Any]) -> None:
    figures = report["figures"]
    assert figures["overhead"]["handler_ms"] > 0
    assert figures["overhead"]["direct_ms"] > 0
    assert figures["cold_start"]["handler_ms"] > 0
    assert figures["cold_start"]["direct_ms"] > 0
    assert figures["xray_imported"] is False
    storm = figures["storm"]
    assert storm["rollbacks"] == storm["groups"]
    assert storm["outcomes"].get("ROLLBACK_STARTED") == storm["groups"]
    assert "ERROR" not in storm["outcomes"]
    assert figures["memory"]["peak_rss_mb"] > 0
    assert figures["memory"]["stack_memory_mb"]
    assert figures["asset"]["bytes"] > 0
    assert report["importtime"]
    sections = {row["section"] for row in report["rows"]}
    assert sections == {
        "1. Critical path",
        "2. Overhead",
        "3. Cold start",
        "4. Storm",
        "5. Memory",
        "6. Size",
    }


@pytest.mark.slow
def test_the_table_is_printed_and_written(report: dict[str, Any]) -> None:
    assert "| Section | Measure | Figure | Target | |" in report["stdout"]
    assert "bench:begin" in report["document"]
    assert "| 6. Size |" in report["document"]
