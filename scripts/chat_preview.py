"""Print how Slack shows the chat notification of one rollback: ``python -m scripts.chat_preview``.

The message is built by the function's own code (auto_rollback.chat) from a fixed
result, so what this prints is what a channel subscribed to the chat topic shows.
``--json`` prints the custom notification as published instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

LAMBDA_DIR = Path(__file__).resolve().parents[1] / "lambda"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

from auto_rollback.chat import build_chat_message, render_text  # noqa: E402
from auto_rollback.outcomes import Result  # noqa: E402
from auto_rollback.vocabulary import Outcome, Severity  # noqa: E402

ROLLBACK = Result(
    outcome=Outcome.ROLLBACK_STARTED,
    reason="alarm",
    trigger={
        "type": "alarm",
        "alarmName": "web-prod-5xx",
        "alarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-prod-5xx",
        "state": "ALARM",
    },
    auto_scaling_group_name="web-prod",
    instance_refresh_id="c613620e-07e2-4ed2-a9e2-ef8258911ade",
    refresh_status="RollbackInProgress",
    severity=Severity.HIGH,
    summary="Rollback started: alarm web-prod-5xx went to ALARM during the refresh.",
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.chat_preview", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--json", action="store_true", help="print the custom notification as published")
    args = parser.parse_args(argv)
    message = build_chat_message(
        ROLLBACK,
        account="123456789012",
        region="eu-west-1",
        function_name="AutoRollback-Function",
        now=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
    )
    print(json.dumps(message, indent=2, ensure_ascii=False) if args.json else render_text(message), end="")
    if args.json:
        print()


if __name__ == "__main__":
    main()
