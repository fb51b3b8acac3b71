"""``make reliability``: run the reliability checks and print the table that docs/RELIABILITY.md shows.

Every figure comes from running the checks of ``devkit/reliability/lab.py``
(and ``hub.py``, organization mode) against the embedded emulator (the same code the tests assert on): faults
injected per AWS call, crash points tried, the storm, the bad-input corpus and
the Hypothesis fuzz, and the IAM trust-model check on the synthesized policy.
Exits non-zero if any promise did not hold.

    python -m scripts.reliability [--fuzz-examples N] [--details] [--matrix]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda"), str(ROOT)]

from devkit.aws.aws_server import running_emulator  # noqa: E402
from devkit.aws.faults import FaultKind  # noqa: E402
from devkit.reliability import hub, lab  # noqa: E402

PROMISES = {
    "fault": "1, 2, 4",
    "crash": "1, 2, 4",
    "storm": "1, 2",
    "hub": "1, 2",
    "input": "1, 3",
    "trust": "1",
}


def _held(checks: list[lab.Check]) -> str:
    return "yes" if all(check.held for check in checks) else "NO"


def trust_model() -> lab.Check:
    """The synthesized policy refuses rollback/cancel without auto-rollback=enabled, and any tag write."""
    from devkit.reliability.trust import MUTATIONS, OPT_IN, TAGGING, group_arn
    from devkit.template.policy import function_role_id, is_allowed, role_statements
    from devkit.template.synth import ACCOUNT, REGION, synth_template
    from infra.function import HANDLER

    with tempfile.TemporaryDirectory() as outdir:
        template = synth_template(Path(outdir))
    (function_id,) = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Handler") == HANDLER
    ]
    statements = role_statements(template, function_role_id(template, function_id), account=ACCOUNT, region=REGION)
    tags: list[str | None] = [None, "disabled", "dry-run", "Enabled", "enabled ", "true", "", "*"]
    cases = [(action, tag) for action in MUTATIONS for tag in tags]
    refused = [
        not is_allowed(statements, action, group_arn("web-prod"), {} if tag is None else {OPT_IN: tag})
        for action, tag in cases
    ]
    allowed = [is_allowed(statements, action, group_arn("web-prod"), {OPT_IN: "enabled"}) for action in MUTATIONS]
    no_tagging = [not is_allowed(statements, action, "*", {OPT_IN: "enabled"}) for action in TAGGING]
    return lab.Check(
        "trust",
        f"IAM (synthesized policy): {len(cases)} rollback/cancel requests on groups not opted in, "
        f"{len(TAGGING)} tag writes",
        "all refused; allowed only with auto-rollback=enabled",
        f"{sum(refused)}/{len(cases)} refused, {sum(no_tagging)}/{len(TAGGING)} tag writes refused, "
        f"enabled allowed: {all(allowed)}",
        held=all(refused) and all(allowed) and all(no_tagging),
        faults=len(cases) + len(TAGGING),
    )


def run(fuzz_examples: int) -> tuple[list[lab.Check], dict[str, float]]:
    checks: list[lab.Check] = []
    timings: dict[str, float] = {}
    with running_emulator() as emulator:
        steps = [
            ("fault", lambda: list(lab.fault_matrix(emulator))),
            ("crash", lambda: list(lab.crashes(emulator))),
            ("storm", lambda: [lab.storm(emulator), lab.storm_under_aws_rates(emulator)]),
            ("hub", lambda: [hub.hub_storm(emulator), hub.refusing_member(emulator)]),
            ("input", lambda: [lab.bad_inputs(emulator), lab.fuzz(emulator, examples=fuzz_examples)]),
            ("trust", lambda: [trust_model()]),
        ]
        for family, step in steps:
            started = time.monotonic()
            print(f"running {family} checks...", file=sys.stderr, flush=True)
            checks += step()
            timings[family] = time.monotonic() - started
    return checks, timings


def table(checks: list[lab.Check]) -> str:
    """The Markdown table docs/RELIABILITY.md shows."""
    rows = ["| Check | Tried | Promises | Held |", "|---|---|---|---|"]
    faults = [check for check in checks if check.family == "fault"]
    by_call: dict[str, list[lab.Check]] = defaultdict(list)
    for check in faults:
        by_call[check.name.split(" / ")[0]].append(check)
    for call, cells in by_call.items():
        injected = sum(cell.faults for cell in cells)
        rows.append(
            f"| Fault matrix: {call} | {injected} faults injected ({len(cells)} kinds) "
            f"| {PROMISES['fault']} | {_held(cells)} |"
        )
    extra = ", ".join(
        f"+ {kind.value} on {sum(1 for check in faults if check.name.endswith(f' / {kind.value}'))}"
        for kind in lab.ONLY_FOR
    )
    rows.append(
        f"| **Fault matrix total** | {sum(c.faults for c in faults)} faults in {len(faults)} cells "
        f"({len(by_call)} calls x {len(FaultKind) - len(lab.ONLY_FOR)} kinds, {extra}) "
        f"| {PROMISES['fault']} | {_held(faults)} |"
    )
    crashes = [check for check in checks if check.family == "crash"]
    for check in crashes:
        rows.append(f"| Crash {check.name} | {check.observed} | {PROMISES['crash']} | {_held([check])} |")
    rows.append(
        f"| **Crash points total** | {len(crashes)} crash points tried | {PROMISES['crash']} | {_held(crashes)} |"
    )
    for family in ("storm", "hub", "input", "trust"):
        for check in [c for c in checks if c.family == family]:
            rows.append(f"| {check.name} | {check.observed} | {PROMISES[family]} | {_held([check])} |")
    return "\n".join(rows)


#: Short names of the behaviours, for the matrix.
_BEHAVIOUR = {
    lab.RETRIED: "retry and succeed",
    lab.CONFIRMED: "confirmed by DescribeInstanceRefreshes, published once",
    lab.FAILS: "fail; redelivery completes",
}


def matrix(checks: list[lab.Check]) -> str:
    """The call x fault table of docs/RELIABILITY.md: the behaviour each cell showed, and whether it held."""
    cells = {check.name: check for check in checks if check.family == "fault"}
    rows = [
        "| Call | " + " | ".join(kind.value for kind in FaultKind) + " |",
        "|---|" + "---|" * len(FaultKind),
    ]
    for call in lab.CALLS:
        row = []
        for kind in FaultKind:
            check = cells.get(f"{call.label} / {kind.value}")
            if check is None:
                row.append("not tried")
                continue
            behaviour = _BEHAVIOUR[lab.expected_behaviour(call, kind)]
            row.append(behaviour if check.held else f"**NOT HELD**: {check.observed}")
        rows.append(f"| {call.label} | " + " | ".join(row) + " |")
    return "\n".join(rows)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 (this process's and the storm's child processes') to /dev/null meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fuzz-examples", type=int, default=2000, help="Hypothesis examples (default 2000)")
    parser.add_argument("--details", action="store_true", help="also print every fault-matrix cell")
    parser.add_argument("--matrix", action="store_true", help="also print the call x fault behaviour table")
    args = parser.parse_args(argv)
    # The function logs every decision as JSON on stdout, as in Lambda (storm processes too); only the
    # table matters here.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    warnings.simplefilter("ignore")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with _quiet_stdout():
        checks, timings = run(args.fuzz_examples)
    print(table(checks))
    if args.matrix:
        print()
        print(matrix(checks))
    if args.details:
        print()
        print("| Cell | Expected | Observed | Held |")
        print("|---|---|---|---|")
        for check in checks:
            if check.family == "fault":
                print(f"| {check.name} | {check.expected} | {check.observed} | {_held([check])} |")
    total = sum(timings.values())
    print(f"\n{len(checks)} checks in {total:.0f}s; promises held: {_held(checks)}", file=sys.stderr)
    return 0 if all(check.held for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
