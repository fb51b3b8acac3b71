"""Every family of reliability checks, in the order ``make reliability`` shows them, against one emulator."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable

from devkit.aws.aws_server import running_emulator
from devkit.reliability import bad_input, crashes, fault_matrix, hub, storm, trust
from devkit.reliability.lab import Check
from devkit.scenarios.quiet import quiet_stdout


def run(fuzz_examples: int) -> tuple[list[Check], dict[str, float]]:
    """Every check, family by family, with the seconds each family took (progress on stderr)."""
    checks: list[Check] = []
    timings: dict[str, float] = {}
    with running_emulator() as emulator:
        steps: list[tuple[str, Callable[[], list[Check]]]] = [
            ("fault", lambda: list(fault_matrix.fault_matrix(emulator))),
            ("crash", lambda: list(crashes.crashes(emulator))),
            ("storm", lambda: [storm.storm(emulator), storm.storm_under_aws_rates(emulator)]),
            ("hub", lambda: [hub.hub_storm(emulator), hub.refusing_member(emulator)]),
            ("input", lambda: [bad_input.bad_inputs(emulator), bad_input.fuzz(emulator, examples=fuzz_examples)]),
            ("trust", lambda: [trust.trust_model()]),
        ]
        for family, step in steps:
            started = time.monotonic()
            print(f"running {family} checks...", file=sys.stderr, flush=True)
            checks += step()
            timings[family] = time.monotonic() - started
    return checks, timings


def run_quietly(fuzz_examples: int) -> tuple[list[Check], dict[str, float]]:
    """:func:`run`, with the function's logs, warnings and the storm's output silenced."""
    # The function logs every decision as JSON on stdout, as in Lambda (storm processes too); only the
    # table matters here.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    warnings.simplefilter("ignore")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # File descriptor 1 for the storm's child processes, sys.stdout for this process's own prints.
    with quiet_stdout(), contextlib.redirect_stdout(io.StringIO()):
        checks, timings = run(fuzz_examples)
    return checks, timings
