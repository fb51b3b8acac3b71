"""Should Powertools' parser models replace auto_rollback.events? ``python -m scripts.parser_evaluation``.

Measures the hand-written parser against its faithful model version (scripts/parser_evaluation/candidate.py)
on what matters to the function: the cold start (imports, each in a fresh interpreter), the
time per event, the error messages an operator reads, and what the Lambda zip would gain.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auto_rollback.events import InvalidEventError, parse_event
from infra import LAMBDA_DIR, SAMPLE_EVENTS_DIR
from scripts.parser_evaluation import candidate as parser_models

REPO = LAMBDA_DIR.parent
CANDIDATE = "scripts.parser_evaluation.candidate"
EVENTS_DIR = SAMPLE_EVENTS_DIR
#: What pydantic brings into a zip that does not have it: the packages, by top-level directory.
PYDANTIC_DISTRIBUTIONS = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")

Parser = Callable[[object], object]
PARSERS: dict[str, Parser] = {"events.py": parse_event, "parser models": parser_models.parse_event}


def import_seconds(module: str, *, after: str | None, runs: int) -> float:
    """Median seconds to import ``module`` in a fresh interpreter, ``after`` already imported."""
    code = (
        "import importlib, time\n"
        + (f"importlib.import_module({after!r})\n" if after else "")
        + f"start = time.perf_counter()\nimportlib.import_module({module!r})\n"
        + "print(time.perf_counter() - start)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(LAMBDA_DIR)])}
    samples = []
    for _ in range(runs + 1):  # the first run only warms the disk cache and writes .pyc files
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        samples.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(samples[1:])


def _attempt(parser: Parser, event: object) -> object:
    try:
        return parser(event)
    except InvalidEventError as invalid:
        return invalid


def per_event_microseconds(parser: Parser, events: list[Any], *, repeat: int) -> float:
    """Median over ``repeat`` rounds of the mean time to parse one of ``events``."""
    loops = 200
    rounds = timeit.repeat(lambda: [_attempt(parser, event) for event in events], number=loops, repeat=repeat)
    return statistics.median(rounds) / loops / len(events) * 1e6


def sample_events() -> dict[str, list[Any]]:
    """The sample events by kind (alarm, refresh, manual, unrelated): what the function is sent."""
    kinds: dict[str, list[Any]] = {}
    for path in sorted(EVENTS_DIR.glob("*.json")):
        kinds.setdefault(path.name.split("-")[0], []).append(json.loads(path.read_text()))
    return kinds


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return loaded


def _changed(name: str, path: tuple[str, ...], value: object) -> dict[str, Any]:
    """Sample ``name`` with the field at ``path`` set to ``value`` (removed, for ``_GONE``)."""
    event = _sample(name)
    container = event
    for key in path[:-1]:
        container = container[key]
    if value is _GONE:
        del container[path[-1]]
    else:
        container[path[-1]] = value
    return event


_GONE = object()
_ALARM, _REFRESH, _MANUAL = "alarm-metric.json", "refresh-checkpoint-reached.json", "manual-rollback.json"


def malformed_events() -> list[tuple[str, object]]:
    """What an operator or a drifting AWS may send: each names one thing wrong."""
    return [
        ("not an object", ["rollback"]),
        ("alarm: alarmName missing", _changed(_ALARM, ("detail", "alarmName"), _GONE)),
        ("alarm: alarmName a number", _changed(_ALARM, ("detail", "alarmName"), 5)),
        ("alarm: alarmName with a line break", _changed(_ALARM, ("detail", "alarmName"), "web\nprod")),
        ("alarm: unknown state", _changed(_ALARM, ("detail", "state", "value"), "FIRING")),
        ("alarm: timestamp without zone", _changed(_ALARM, ("detail", "state", "timestamp"), "2026-11-28T10:05:00")),
        ("alarm: detail a string", _changed(_ALARM, ("detail",), "{}")),
        ("alarm: tag value a number", _changed(_ALARM, ("detail", "alarmTags"), {"team": 1})),
        ("alarm: id 300 characters", _changed(_ALARM, ("id",), "x" * 300)),
        (
            "refresh: unknown detail-type",
            _changed(_REFRESH, ("detail-type",), "EC2 Auto Scaling Instance Refresh Paused"),
        ),
        ("refresh: percentage 150", _changed(_REFRESH, ("detail", "CheckpointPercentage"), "150")),
        ("refresh: percentage a number", _changed(_REFRESH, ("detail", "CheckpointPercentage"), 50)),
        ("refresh: group name missing", _changed(_REFRESH, ("detail", "AutoScalingGroupName"), _GONE)),
        ("manual: unknown action", _changed(_MANUAL, ("action",), "rolback")),
        ("manual: mistyped dryrun", {**_sample(_MANUAL), "dryrun": True}),
        ("manual: dryRun a string", _changed(_MANUAL, ("dryRun",), "yes")),
        ("manual: group name empty", _changed(_MANUAL, ("autoScalingGroupName",), "")),
        ("manual: account not 12 digits", _changed(_MANUAL, ("account",), "12345")),
        ("inventory: forged nextToken", {"action": "inventory", "nextToken": "not-a-token"}),
        ("unrelated event", _sample("unrelated-instance-launch.json")),
    ]


def installed_bytes(distributions: tuple[str, ...]) -> dict[str, int]:
    """Bytes on disk of each top-level package in this interpreter's site-packages."""
    import pydantic  # only to find site-packages

    site = Path(pydantic.__file__).resolve().parents[1]
    return {
        name: sum(
            path.stat().st_size
            for path in (site / name).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        )
        for name in distributions
    }


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(
        prog="python -m scripts.parser_evaluation", description=__doc__.splitlines()[0] if __doc__ else None
    )
    options.add_argument("--runs", type=int, default=15, help="fresh interpreters per import measurement")
    args = options.parse_args(argv)

    print(f"1. Import time, median of {args.runs} fresh interpreters (ms)")
    rows = [
        ("auto_rollback.events alone", "auto_rollback.events", None),
        ("parser models alone (imports events.py too)", CANDIDATE, None),
        ("auto_rollback.handler (the cold start's imports)", "auto_rollback.handler", None),
        ("parser models after the handler (the extra cold start)", CANDIDATE, "auto_rollback.handler"),
    ]
    for label, module, after in rows:
        print(f"   {label:<58} {import_seconds(module, after=after, runs=args.runs) * 1e3:8.1f}")

    print("\n2. Validation time per event, median of 5 rounds (µs)")
    print(f"   {'kind':<12}{'events':>7}" + "".join(f"{name:>16}" for name in PARSERS))
    for kind, events in sample_events().items():
        times = "".join(f"{per_event_microseconds(parser, events, repeat=5):16.1f}" for parser in PARSERS.values())
        print(f"   {kind:<12}{len(events):>7}{times}")
    same = all(
        _attempt(parse_event, e) == _attempt(parser_models.parse_event, e)
        for es in sample_events().values()
        for e in es
        if not isinstance(_attempt(parse_event, e), InvalidEventError)
    )
    print(f"   same triggers on every accepted sample: {same}")

    print("\n3. Error messages (InvalidEventError: field: problem)")
    for label, event in malformed_events():
        print(f"   {label}")
        for name, parser in PARSERS.items():
            outcome = _attempt(parser, event)
            shown = f"{outcome.field}: {outcome.problem}" if isinstance(outcome, InvalidEventError) else "ACCEPTED"
            print(f"      {name:<14} {shown[:140]}")

    print("\n4. What the Lambda zip would gain (installed in .venv, no __pycache__)")
    sizes = installed_bytes(PYDANTIC_DISTRIBUTIONS)
    for name, size in sizes.items():
        print(f"   {name:<20} {size / 1e6:7.2f} MB")
    print(f"   {'total':<20} {sum(sizes.values()) / 1e6:7.2f} MB (pydantic_core's arm64 wheel is of similar size)")


if __name__ == "__main__":
    main()
