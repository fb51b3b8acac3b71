"""``python -m scripts.bench``: every section in one run against one emulator, printed and written.

The storm's workers are spawned processes; ``multiprocessing`` does not run a
package's ``__main__`` again in them, so they start as a Lambda container does,
without the benchmark.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import scripts.bench
from devkit.aws.aws_server import running_emulator
from devkit.scenarios.calls import CallRecorder
from scripts.bench import cold_start, footprint, hub, latency, limits, overhead, paths, scale, storm
from scripts.bench.common import FULL, QUICK, Profile, Report
from scripts.bench.document import machine, render, write_document
from scripts.bench.sides import prepare_sides


def run(profile: Profile, *, quick: bool) -> Report:
    """Every measurement, in one run against one emulator."""
    report = Report(quick=quick, machine=machine())
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    recorder = CallRecorder()
    recorder.install()
    with running_emulator() as emulator:
        paths.measure_critical_paths(emulator, recorder, report)
        hub.measure_hub_paths(emulator, recorder, report)
        sides = prepare_sides(emulator, recorder)
        overhead.measure_overhead(sides, profile.overhead_reps, report)
        cold_start.measure_cold_start(sides, profile.cold_start_reps, report)
        footprint.measure_memory(sides, profile.memory_invocations, report)
        storm.measure_storm(emulator, profile, report)
        scale.measure_scale(emulator, recorder, report, quick=quick)
        latency.measure_latency(emulator, report, quick=quick)
        limits.measure_storm_under_rates(emulator, report, quick=quick)
    cold_start.measure_importtime(report, 1 if quick else 5)
    footprint.measure_size(report)
    numbered = sorted({row.section for row in report.rows}, key=lambda section: int(section.split(".", 1)[0]))
    order = {section: index for index, section in enumerate(numbered)}  # "10." after "9."
    report.rows.sort(key=lambda row: order[row.section])  # stable: keeps each section's order
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench", description=(scripts.bench.__doc__ or "").split("\n", 1)[0]
    )
    parser.add_argument("--quick", action="store_true", help="a few repetitions only (what the test suite runs)")
    parser.add_argument("--write", type=Path, metavar="PATH", help="update the generated block of this document")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    report = run(QUICK if args.quick else FULL, quick=args.quick)
    generated = render(report)
    print(generated, end="")
    if args.write:
        write_document(args.write, generated)
        print(f"\nwritten to {args.write}")
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
