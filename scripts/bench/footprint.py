"""Sections 5 and 6 of ``make bench``: what the function occupies, in memory and as a deployment asset.

The memory setting compared with the peak is the stack's, read from the vocabulary
the stack and the function share: no CDK (nor jsii's Node process) in the benchmark.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from auto_rollback.vocabulary import ALARM_GROUP_TAG, MEMORY_MB
from devkit.scenarios.events import alarm_event
from scripts.bench import LAMBDA_DIR
from scripts.bench.cold_start import child_environment, run_child
from scripts.bench.common import Report, Row
from scripts.bench.sides import Sides

MAX_PEAK_RSS_MB = 100
LAMBDA_MIN_MEMORY_MB = 128
MAX_ASSET_KB = 64


def measure_memory(sides: Sides, invocations: int, report: Report) -> None:
    """Peak RSS of one process serving many invocations (rollbacks, then duplicates) in turn."""
    events = []
    for index in range(invocations):
        if index % 2:
            events.append(alarm_event(f"{sides.handler.group_name}-5xx"))
        else:
            events.append(alarm_event("bench-mem", tags={ALARM_GROUP_TAG: sides.handler.group_name}))
    sides.aws.fresh_refresh(sides.handler)
    answer = run_child("memory", {"events": events}, child_environment(sides.deployment))
    peak_mb = answer["maxrss_kb"] / 1024
    first_mb = answer["rss_after_first_kb"] / 1024
    report.figures["memory"] = {
        "invocations": invocations,
        "peak_rss_mb": peak_mb,
        "rss_after_first_mb": first_mb,
        "outcomes": answer["outcomes"],
        "stack_memory_mb": MEMORY_MB,
        "direct_peak_rss_mb": report.figures.get("cold_start", {}).get("direct_peak_rss_mb"),
    }
    baseline = report.figures["memory"]["direct_peak_rss_mb"]
    context = f"; a boto3-only process making the same calls: {baseline:.0f} MB" if baseline else ""
    report.rows.append(
        Row(
            "5. Memory",
            f"Peak RSS serving {invocations} invocations (after the first: {first_mb:.0f} MB{context})",
            f"{peak_mb:.0f} MB",
            f"≤ {MAX_PEAK_RSS_MB} MB (fits {LAMBDA_MIN_MEMORY_MB} MB)",
            peak_mb <= MAX_PEAK_RSS_MB,
        )
    )
    report.rows.append(
        Row(
            "5. Memory",
            "The stack's memory setting (vocabulary.py MEMORY_MB)",
            f"{MEMORY_MB} MB",
            f"≥ peak RSS ({peak_mb:.0f} MB) with margin",
            peak_mb * 1.25 <= MEMORY_MB,
        )
    )


def asset_zip(directory: Path = LAMBDA_DIR) -> tuple[int, int]:
    """Zip the directory as the CDK asset does (no bytecode); (bytes, files)."""
    files = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(directory).as_posix())
        return buffer.tell(), len(files)


def measure_size(report: Report) -> None:
    size, files = asset_zip()
    kb = size / 1024
    report.figures["asset"] = {"bytes": size, "files": files}
    report.rows.append(
        Row(
            "6. Size",
            f"Deployment asset: lambda/ zipped ({files} files, no bytecode)",
            f"{kb:.1f} KB",
            f"≤ {MAX_ASSET_KB} KB",
            kb <= MAX_ASSET_KB,
        )
    )
