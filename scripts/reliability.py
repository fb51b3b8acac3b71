"""``make reliability``: run the reliability checks and print the table that docs/RELIABILITY.md shows.

Every figure comes from running the checks of ``devkit/reliability/`` against the
embedded emulator (the same code the tests assert on): faults injected per AWS
call, crash points tried, the storm, organization mode, the bad-input corpus and
the Hypothesis fuzz, and the IAM trust-model check on the synthesized policy.
Exits non-zero if any promise did not hold.

    python -m scripts.reliability [--fuzz-examples N] [--details] [--matrix]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda"), str(ROOT)]

from devkit.reliability import report, suite  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.reliability", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fuzz-examples", type=int, default=2000, help="Hypothesis examples (default 2000)")
    parser.add_argument("--details", action="store_true", help="also print every fault-matrix cell")
    parser.add_argument("--matrix", action="store_true", help="also print the call x fault behaviour table")
    args = parser.parse_args(argv)
    checks, timings = suite.run_quietly(args.fuzz_examples)
    print(report.table(checks))
    if args.matrix:
        print()
        print(report.matrix(checks))
    if args.details:
        print()
        print(report.details(checks))
    total = sum(timings.values())
    print(f"\n{len(checks)} checks in {total:.0f}s; promises held: {report.held(checks)}", file=sys.stderr)
    return 0 if all(check.held for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
