"""The tables docs/RELIABILITY.md shows, built from the :class:`Check` records the checks return."""

from __future__ import annotations

from collections import defaultdict

from devkit.aws.faults import FaultKind
from devkit.reliability.fault_matrix import CALLS, CONFIRMED, FAILS, ONLY_FOR, RETRIED, expected_behaviour
from devkit.reliability.lab import Check

PROMISES = {
    "fault": "1, 2, 4",
    "crash": "1, 2, 4",
    "storm": "1, 2",
    "hub": "1, 2",
    "input": "1, 3",
    "trust": "1",
}


def held(checks: list[Check]) -> str:
    """The Held column: "yes" when every promise held under ``checks``, "NO" otherwise."""
    return "yes" if all(check.held for check in checks) else "NO"


def table(checks: list[Check]) -> str:
    """The Markdown table docs/RELIABILITY.md shows."""
    rows = ["| Check | Tried | Promises | Held |", "|---|---|---|---|"]
    faults = [check for check in checks if check.family == "fault"]
    by_call: dict[str, list[Check]] = defaultdict(list)
    for check in faults:
        by_call[check.name.split(" / ")[0]].append(check)
    for call, cells in by_call.items():
        injected = sum(cell.faults for cell in cells)
        rows.append(
            f"| Fault matrix: {call} | {injected} faults injected ({len(cells)} kinds) "
            f"| {PROMISES['fault']} | {held(cells)} |"
        )
    extra = ", ".join(
        f"+ {kind.value} on {sum(1 for check in faults if check.name.endswith(f' / {kind.value}'))}"
        for kind in ONLY_FOR
    )
    rows.append(
        f"| **Fault matrix total** | {sum(c.faults for c in faults)} faults in {len(faults)} cells "
        f"({len(by_call)} calls x {len(FaultKind) - len(ONLY_FOR)} kinds, {extra}) "
        f"| {PROMISES['fault']} | {held(faults)} |"
    )
    crashes = [check for check in checks if check.family == "crash"]
    for check in crashes:
        rows.append(f"| Crash {check.name} | {check.observed} | {PROMISES['crash']} | {held([check])} |")
    rows.append(
        f"| **Crash points total** | {len(crashes)} crash points tried | {PROMISES['crash']} | {held(crashes)} |"
    )
    for family in ("storm", "hub", "input", "trust"):
        for check in [c for c in checks if c.family == family]:
            rows.append(f"| {check.name} | {check.observed} | {PROMISES[family]} | {held([check])} |")
    return "\n".join(rows)


#: Short names of the behaviours, for the matrix.
_BEHAVIOUR = {
    RETRIED: "retry and succeed",
    CONFIRMED: "confirmed by DescribeInstanceRefreshes, published once",
    FAILS: "fail; redelivery completes",
}


def matrix(checks: list[Check]) -> str:
    """The call x fault table of docs/RELIABILITY.md: the behaviour each cell showed, and whether it held."""
    cells = {check.name: check for check in checks if check.family == "fault"}
    rows = [
        "| Call | " + " | ".join(kind.value for kind in FaultKind) + " |",
        "|---|" + "---|" * len(FaultKind),
    ]
    for call in CALLS:
        row = []
        for kind in FaultKind:
            check = cells.get(f"{call.label} / {kind.value}")
            if check is None:
                row.append("not tried")
                continue
            behaviour = _BEHAVIOUR[expected_behaviour(call, kind)]
            row.append(behaviour if check.held else f"**NOT HELD**: {check.observed}")
        rows.append(f"| {call.label} | " + " | ".join(row) + " |")
    return "\n".join(rows)


def details(checks: list[Check]) -> str:
    """Every fault-matrix cell: what was expected, what was observed, whether it held."""
    rows = ["| Cell | Expected | Observed | Held |", "|---|---|---|---|"]
    for check in checks:
        if check.family == "fault":
            rows.append(f"| {check.name} | {check.expected} | {check.observed} | {held([check])} |")
    return "\n".join(rows)
