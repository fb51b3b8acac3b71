"""The demo's command line: which scenarios, or one event file; narration or one JSON document."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from devkit.template.resources import TemplateError
from scripts.demo.report import SCENE_WIDTH, SETUP, print_summary
from scripts.demo.scenarios import BY_NAME, SCENARIOS, run_scenario
from scripts.demo.stack import DemoError, session

#: The organization (hub mode) part: played after the scenarios, on its own emulator.
ORGANIZATION = "organization"


def run_scenarios(names: Sequence[str], *, as_json: bool, verbose: bool) -> int:
    started = time.monotonic()
    reports: list[dict[str, Any]] = []
    setup: list[dict[str, Any]] = []
    if per_account := [name for name in names if name != ORGANIZATION]:
        with session(echo=not as_json, verbose=verbose) as demo:
            demo.provision()
            reports = [run_scenario(demo, BY_NAME[name]) for name in per_account]
            setup = demo.timeline.of(SETUP)
    elapsed = time.monotonic() - started
    # Hub mode on an emulator of its own: another stack in the same hub account (scripts/demo/organization.py).
    organization = _hub_mode().run_part(echo=not as_json, verbose=verbose) if ORGANIZATION in names else None
    ok = all(report["ok"] for report in reports) and (organization is None or organization["ok"])
    if as_json:
        document = {"ok": ok, "setup": setup, "scenarios": reports}
        print(json.dumps(document | ({"organization": organization} if organization else {}), indent=2, default=str))
    else:
        if reports:
            print_summary(reports, elapsed)
        if organization:
            _hub_mode().print_summary(organization, time.monotonic() - started - elapsed)
    return 0 if ok else 1


def _hub_mode() -> ModuleType:
    """The organization part, imported only when played or listed (it loads moto's EventBridge)."""
    from scripts.demo import organization

    return organization


def _scenario_names(values: Sequence[str] | None) -> list[str]:
    names = [name.strip() for value in values or () for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in BY_NAME and name != ORGANIZATION]
    if unknown:
        raise DemoError(f"unknown scenario {', '.join(unknown)}; choose from {', '.join([*BY_NAME, ORGANIZATION])}")
    return names or [*BY_NAME, ORGANIZATION]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make demo",
        description="Watch auto-rollback catch a bad instance refresh on an embedded AWS emulator (no account needed).",
        epilog="Examples: make demo | make demo ARGS='--scenario bad-refresh' | make invoke EVENT=event.json",
    )
    parser.add_argument("--scenario", action="append", metavar="NAME", help="play only these (repeat, or a,b)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the narration")
    parser.add_argument("--verbose", action="store_true", help="also show the function's Powertools logs and metrics")
    parser.add_argument("--invoke", type=Path, metavar="EVENT.json", help="send one event file through the function")
    parser.add_argument("--restamp", action="store_true", help="with --invoke: move the event's times to now")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        if arguments.list:
            for scenario in SCENARIOS:
                print(f"{scenario.name:<{SCENE_WIDTH}} {scenario.title}")
            print(f"{ORGANIZATION:<{SCENE_WIDTH}} {_hub_mode().TITLE}")
            return 0
        if arguments.invoke:
            from scripts.demo.invoke import run_event_file

            return run_event_file(
                arguments.invoke, as_json=arguments.json, verbose=arguments.verbose, restamp=arguments.restamp
            )
        names = _scenario_names(arguments.scenario)
        return run_scenarios(names, as_json=arguments.json, verbose=arguments.verbose)
    except (DemoError, TemplateError) as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
