"""``make bench``: how fast the function gets from an alarm to the rollback call, and what it costs.

Prints one table (critical path, overhead, cold start, storm, memory, size, scale,
latency, rate-limited storm, hub mode), each figure beside its target with met/missed,
measured against moto's server on loopback (``devkit/aws/aws_server.py``) exactly
as the tests run the function. ``python -m scripts.bench`` (``__main__``) runs every
section in one run against one emulator; ``--write PATH`` puts the table, with the
machine it ran on, between the ``bench:begin``/``bench:end`` markers of that file
(docs/PERFORMANCE.md, ``document``), leaving the hand-written explanation around
them untouched. ``--quick`` runs a few repetitions and small accounts only: the test
suite runs it so the benchmark cannot rot, and checks the call counts exactly
(they are deterministic as multisets). ``--json PATH`` also writes the figures as
JSON for that test.

One module per section: ``paths`` (1), ``overhead`` (2, over the two ``sides``),
``cold_start`` (3, each side a fresh process running ``child``), ``storm`` (4),
``footprint`` (5 and 6), ``scale`` (7), ``latency`` (8), ``limits`` (9), ``hub`` (10);
``common`` holds the table's rows and the report they all fill.

The machine is shared and noisy, so every comparison is a ratio of medians of
interleaved repetitions made in the same run, never of figures taken at
different times.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = ROOT / "lambda"
# The function's package, as Lambda ships it (``lambda`` is a keyword): before the devkit, which imports it.
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))
