"""What every section of ``make bench`` shares: the table's rows, the report, how many repetitions.

Kept apart from the runner (``__main__``) so each section can live in a module of
its own without importing the runner that imports them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the table: a figure, its target, and whether the target is met (None: no target)."""

    section: str
    measure: str
    figure: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: ""}[self.met]


@dataclass
class Report:
    """Everything ``make bench`` prints, and what ``--json`` writes for the test."""

    quick: bool
    machine: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    critical_paths: dict[str, dict[str, Any]] = field(default_factory=dict)
    importtime: list[tuple[str, float]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """How many repetitions each measurement makes."""

    overhead_reps: int
    cold_start_reps: int
    storm_events: int
    storm_groups: int
    storm_processes: int
    memory_invocations: int


FULL = Profile(
    overhead_reps=100,
    cold_start_reps=9,
    storm_events=200,
    storm_groups=10,
    storm_processes=4,
    memory_invocations=200,
)
QUICK = Profile(
    overhead_reps=4, cold_start_reps=1, storm_events=12, storm_groups=3, storm_processes=2, memory_invocations=10
)


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def multiset(counts: dict[str, int]) -> str:
    """``{"a": 2, "b": 1}`` as "2x a, b": calls made in parallel threads come in no fixed order."""
    return ", ".join(name if count == 1 else f"{count}x {name}" for name, count in counts.items())
