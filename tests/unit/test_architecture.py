"""The layering the tree promises, read from the imports themselves (``ast``: nothing is imported).

The function (``lambda/auto_rollback``) ships without CDK; the stack (``infra``) reads
the function's contract from ``auto_rollback.vocabulary`` only, so it brings in
neither boto3 nor Powertools; the decision is pure; and the tests are nobody's library.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lambda" / "auto_rollback"
#: Everything outside tests/ that holds Python: the function, the stack, the embedded AWS, the tools.
NOT_TESTS = (ROOT / "lambda", ROOT / "infra", ROOT / "devkit", ROOT / "scripts", ROOT / "app.py")


def python_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (path for path in sorted(root.rglob("*.py")) if "__pycache__" not in path.parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute, wherever the import statement is (functions included)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "auto_rollback" and node.level == 0:
            # ``from auto_rollback import decision`` imports the module auto_rollback.decision.
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(
                f"{path.relative_to(ROOT)}:{node.lineno}: relative import; the project uses absolute ones"
            )
    return modules


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


def is_stdlib(module: str) -> bool:
    return top_level(module) in sys.stdlib_module_names or top_level(module) == "__future__"


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_vocabulary_imports_only_the_standard_library() -> None:
    # Given the module the function and the stack share
    modules = imported_modules(PACKAGE / "vocabulary.py")

    # When its imports are sorted into standard library and the rest
    others = sorted(module for module in modules if not is_stdlib(module))

    # Then there is no other: the stack imports it without boto3, Powertools or anything else
    assert others == []


def test_the_decision_depends_only_on_the_facts_and_the_vocabulary() -> None:
    # Given the pure decision module
    modules = imported_modules(PACKAGE / "decision.py")

    # When the imports that are not the standard library are listed
    others = sorted(module for module in modules if not is_stdlib(module))

    # Then they are the facts it reads and the names it answers in, and nothing that parses, reads or acts
    assert others == ["auto_rollback.facts", "auto_rollback.vocabulary"]


@pytest.mark.parametrize("path", list(python_files(ROOT / "infra", ROOT / "app.py")), ids=relative)
def test_the_stack_reads_the_function_s_contract_from_the_vocabulary_only(path: Path) -> None:
    # Given a module of the stack
    modules = imported_modules(path)

    # When the modules of the function it imports are listed
    from_function = sorted(module for module in modules if top_level(module) == "auto_rollback")

    # Then the vocabulary is the only one, so the synth needs neither boto3 nor Powertools
    assert set(from_function) <= {"auto_rollback.vocabulary"}


@pytest.mark.parametrize("path", list(python_files(*NOT_TESTS)), ids=relative)
def test_nothing_outside_the_tests_imports_the_tests(path: Path) -> None:
    # Given a module of the function, the stack, the embedded AWS or the tools
    modules = imported_modules(path)

    # When its imports are read
    from_tests = sorted(module for module in modules if top_level(module) == "tests")

    # Then none is a test module: what the tests share with the tools lives in devkit/
    assert from_tests == []


@pytest.mark.parametrize("path", list(python_files(PACKAGE)), ids=relative)
def test_the_function_never_imports_cdk(path: Path) -> None:
    # Given a module of the function (Lambda runs it without CDK installed)
    modules = imported_modules(path)

    # When its imports are read
    cdk = sorted(module for module in modules if top_level(module) in {"aws_cdk", "constructs", "cdk_nag", "jsii"})

    # Then none is CDK's
    assert cdk == []


@pytest.mark.parametrize("path", list(python_files(PACKAGE)), ids=relative)
def test_the_function_imports_nothing_of_the_project_but_itself(path: Path) -> None:
    # Given a module of the function (its package is the whole deployment asset)
    modules = imported_modules(path)

    # When the project's other parts it imports are listed
    project = sorted(module for module in modules if top_level(module) in {"infra", "devkit", "scripts", "tests"})

    # Then there is none: the zip holds only auto_rollback
    assert project == []


@pytest.mark.parametrize("path", list(python_files(ROOT / "devkit")), ids=relative)
def test_the_embedded_aws_is_beneath_the_tools(path: Path) -> None:
    # Given a module of devkit, and of its emulator (devkit/aws) in particular
    modules = imported_modules(path)

    # When the parts above it that it imports are listed
    emulator = path.parent == ROOT / "devkit" / "aws"
    above = ("scripts", "devkit.scenarios", "devkit.reliability") if emulator else ("scripts",)
    upward = sorted(module for module in modules if any(f"{module}.".startswith(f"{part}.") for part in above))

    # Then there is none: the tools use devkit, and the emulator does not depend on what runs on it
    assert upward == []


#: "No module in the tools or the embedded AWS over ~400 lines" (issue 13): a module past it does several jobs.
MAX_TOOL_MODULE_LINES = 400


@pytest.mark.parametrize("path", list(python_files(ROOT / "devkit", ROOT / "scripts")), ids=relative)
def test_every_module_of_the_tools_and_the_embedded_aws_does_one_job(path: Path) -> None:
    # Given a module of the embedded AWS or of a tool
    # When its lines are counted
    lines = len(path.read_text(encoding="utf-8").splitlines())

    # Then it is short enough to be about one thing
    assert lines <= MAX_TOOL_MODULE_LINES, f"{relative(path)} has {lines} lines; split it by job"
