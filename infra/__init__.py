"""The CDK app that deploys auto-rollback: one stack per account and region.

The stack is split into one construct per capability (notifications, idempotency
store, function, triggers, monitoring, console test events) so each can be read,
tested and changed on its own.

The infrastructure reads the function's own vocabulary (the opt-in tag and its
values, in ``auto_rollback.facts``) instead of restating it, so the IAM condition
and the code that decides cannot drift apart. ``lambda`` is a Python keyword, so
that package is imported from its directory, as pytest and mypy do
(pyproject.toml: ``pythonpath``, ``mypy_path``); every entry point (app.py,
``python -m infra.summary``, the tests) imports this module first.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The function's source directory: its package ``auto_rollback`` is the deployment asset.
LAMBDA_DIR = Path(__file__).resolve().parent.parent / "lambda"

# Appended, not prepended: nothing installed in the venv is shadowed by it.
if str(LAMBDA_DIR) not in sys.path:
    sys.path.append(str(LAMBDA_DIR))
