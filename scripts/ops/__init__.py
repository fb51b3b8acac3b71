"""Operator tools for a deployed stack (docs/RUNBOOK.md): one thin command per job."""

import sys
from pathlib import Path

# The tools read the function's own vocabulary (bus and role names, in ``auto_rollback``)
# instead of restating it; ``lambda`` is a keyword, so its directory goes on the path, as
# for infra (infra/__init__.py). Appended: nothing installed is shadowed.
_LAMBDA_DIR = str(Path(__file__).resolve().parents[2] / "lambda")
if _LAMBDA_DIR not in sys.path:
    sys.path.append(_LAMBDA_DIR)
