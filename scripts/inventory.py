"""``make inventory``: the fleet inventory invoke, run on the embedded AWS against a demo fleet.

No AWS account is involved. It starts the emulator, creates what the stack would
(outcomes topic, idempotency table), builds a fleet that shows each thing an
inventory reports, invokes the real handler with ``{"action": "inventory"}`` and
prints the answer as the Lambda console shows it. The fleet:

* ``web-prod``: enabled, linked by the alarm's ``auto-rollback:group`` tag (in ALARM), a refresh under way;
* ``api-canary``: dry-run, linked by the ``auto-rollback:alarm-prefix`` tag ``api-canary-``, a refresh under way;
* ``batch-latest``: enabled, on launch template version ``$Latest``, a refresh to ``$Latest`` under way;
* ``reports``: tagged ``auto-rollback = Enabled`` (a near miss: not protected);
* ``worker``: enabled, no alarm linked;
* ``etl``: enabled, alarm by prefix, its last refresh finished (nothing left to roll back);
* ``scaler``: dry-run, with a prefix that starts like target-tracking alarms' names;
* ``legacy``: ``auto-rollback = disabled``; and ``untagged``, which the inventory does not list.

Run ``python -m scripts.inventory --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from devkit.aws import refresh_api
from devkit.aws.aws_server import patched_environ, running_emulator
from devkit.scenarios.fleet import make_alarm, make_fleet, start_refresh
from devkit.scenarios.harness import Deployment, configured, invoke

LAMBDA_DIR = Path(__file__).resolve().parents[1] / "lambda"
if str(LAMBDA_DIR) not in sys.path:  # the function's package, as Lambda ships it
    sys.path.insert(0, str(LAMBDA_DIR))

#: The moment the demo's refreshes start; alarms are set against it, not against a clock.
STARTED_AT = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
INVENTORY_EVENT = {"action": "inventory"}


def build_demo_fleet(ec2: Any, autoscaling: Any, cloudwatch: Any) -> None:
    """Create the demo fleet described in the module's docstring, in the emulator behind these clients."""
    after_start = STARTED_AT + timedelta(minutes=5)

    web = make_fleet(ec2, autoscaling, "web-prod", tags={"auto-rollback": "enabled"})
    start_refresh(autoscaling, web, at=STARTED_AT)
    make_alarm(cloudwatch, "web-prod 5xx", group="web-prod", state="ALARM", at=after_start)
    make_alarm(cloudwatch, "web-prod latency", group="web-prod", state="OK", at=after_start)

    canary_tags = {"auto-rollback": "dry-run", "auto-rollback:alarm-prefix": "api-canary-"}
    canary = make_fleet(ec2, autoscaling, "api-canary", tags=canary_tags)
    start_refresh(autoscaling, canary, at=STARTED_AT)
    make_alarm(cloudwatch, "api-canary-errors", state="OK", at=after_start)
    make_alarm(cloudwatch, "api-canary-latency", state="INSUFFICIENT_DATA", at=after_start)

    latest = make_fleet(ec2, autoscaling, "batch-latest", version="$Latest", tags={"auto-rollback": "enabled"})
    start_refresh(autoscaling, latest, version="$Latest", at=STARTED_AT)
    make_alarm(cloudwatch, "batch-latest queue age", group="batch-latest", state="OK", at=after_start)

    make_fleet(ec2, autoscaling, "reports", tags={"auto-rollback": "Enabled"})
    make_alarm(cloudwatch, "reports errors", group="reports", state="OK", at=after_start)

    make_fleet(ec2, autoscaling, "worker", tags={"auto-rollback": "enabled"})

    etl = make_fleet(ec2, autoscaling, "etl", tags={"auto-rollback": "enabled", "auto-rollback:alarm-prefix": "etl-"})
    start_refresh(autoscaling, etl, at=STARTED_AT)
    refresh_api.advance("etl", "Successful", percentage=100, at=STARTED_AT + timedelta(minutes=20))
    make_alarm(cloudwatch, "etl-failures", state="OK", at=after_start)

    scaler_tags = {"auto-rollback": "dry-run", "auto-rollback:alarm-prefix": "TargetTracking-scaler"}
    make_fleet(ec2, autoscaling, "scaler", tags=scaler_tags)
    make_alarm(cloudwatch, "scaler cpu", group="scaler", state="OK", at=after_start)

    make_fleet(ec2, autoscaling, "legacy", tags={"auto-rollback": "disabled"})
    make_fleet(ec2, autoscaling, "untagged")


def run(event: dict[str, Any], *, verbose: bool = False) -> dict[str, Any]:
    """Start the emulator, build the demo fleet, invoke the function with ``event``; its answer."""
    quiet: dict[str, str | None] = {}
    if not verbose:  # the emulator's request log and the function's JSON log would bury the answer
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        warnings.simplefilter("ignore")
        # Set before the function's modules are imported: Powertools reads them then.
        quiet = {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"}
    with patched_environ(quiet), running_emulator():
        deployment = Deployment.create()
        with configured(deployment.environment):
            build_demo_fleet(boto3.client("ec2"), boto3.client("autoscaling"), boto3.client("cloudwatch"))
            # Powertools prints its metrics (EMF) to stdout, as in Lambda; only the answer goes there here.
            with contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO()):
                answer = invoke(event)
            published = deployment.published()
    if published:  # an inventory is read-only: nothing goes to the outcomes topic
        raise SystemExit(f"the inventory published {len(published)} notification(s); it must publish none")
    return answer


def limits() -> str:
    """The bounds of one inventory invoke, as docs quote them."""
    from auto_rollback import inventory

    rows = {
        "Groups per invoke": inventory.MAX_GROUPS,
        "AWS calls per invoke, at most": inventory.CALL_BUDGET,
        "Alarms read per group by prefix": inventory.PREFIX_PAGES_PER_GROUP * 100,
        "Tagged alarms read per invoke": inventory.TAGGED_PAGES * 100,
        "Seconds kept in reserve": f"{inventory.TIME_RESERVE_SECONDS:.0f}",
    }
    return "\n".join(f"{label:<32} {value}" for label, value in rows.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.inventory", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--compact", action="store_true", help="print the answer on one line")
    parser.add_argument("--verbose", action="store_true", help="also show the emulator's and the function's logs")
    parser.add_argument("--limits", action="store_true", help="print the bounds of one invoke (no emulator needed)")
    args = parser.parse_args(argv)
    if args.limits:
        print(limits())
        return 0
    answer = run(INVENTORY_EVENT, verbose=args.verbose)
    print(json.dumps(answer, indent=None if args.compact else 2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
