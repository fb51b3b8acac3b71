"""The CDK app that deploys auto-rollback: one stack per account and region.

The stack is split into one construct per capability (notifications, idempotency
store, function, triggers, monitoring, console test events) so each can be read,
tested and changed on its own.

The infrastructure reads the function's contract (tag keys and values, event
detail-types, settings and metric names: ``auto_rollback.vocabulary``, the only
module of the function it imports) instead of restating it, so the IAM condition,
the rules and the dashboard cannot drift apart from the code that decides. ``lambda`` is a Python keyword, so
that package is imported from its directory, as pytest and mypy do
(pyproject.toml: ``pythonpath``, ``mypy_path``); every entry point (app.py,
``python -m infra.summary``, the tests) imports this module first.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The function's source directory: its package ``auto_rollback`` is the deployment asset.
LAMBDA_DIR = Path(__file__).resolve().parent.parent / "lambda"
#: The sample events, with the shapes AWS documents: the stack's console test events are
#: built from them, and the demo, the tests and the docs use the same files.
SAMPLE_EVENTS_DIR = LAMBDA_DIR.parent / "events"

# Appended, not prepended: nothing installed in the venv is shadowed by it.
if str(LAMBDA_DIR) not in sys.path:
    sys.path.append(str(LAMBDA_DIR))
