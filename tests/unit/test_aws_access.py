"""Who may touch AWS in the function, read from the imports themselves (``ast``: nothing is imported).

The function's AWS access is split by job (``auto_rollback.aws``'s docstring lists
the modules): sessions and configs, the gateway's reads and writes, member
sessions, and the idempotency records. These tests keep the split from leaking.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lambda" / "auto_rollback"


def _imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def _importers(predicate: str) -> set[str]:
    """The function's modules that import a module starting with ``predicate``."""
    return {
        path.stem
        for path in sorted(PACKAGE.glob("*.py"))
        if any(module == predicate or module.startswith(f"{predicate}.") for module in _imports(path))
    }


def test_only_the_aws_modules_make_sessions_clients_or_credentials() -> None:
    # Given the function's modules, and what of boto3 and botocore each imports
    sdk_users = _importers("boto3") | {
        module
        for kind in ("botocore.session", "botocore.config", "botocore.credentials", "botocore.client")
        for module in _importers(kind)
    }
    # Then only the session/config module, the gateway and the member sessions do (the others catch
    # botocore's exceptions at most, and take their clients from auto_rollback.aws.aws_session)
    assert sdk_users == {"aws", "gateway", "members"}


def test_powertools_idempotency_is_used_by_the_records_module_alone() -> None:
    # Given the function's modules
    # Then Powertools' idempotency utility is imported by records.py alone, so its coupling lives in one place
    # (and tests/integration/test_idempotency_records.py pins the record ids it writes)
    assert _importers("aws_lambda_powertools.utilities.idempotency") == {"records"}
