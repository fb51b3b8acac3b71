"""Write (or check) the AWS service models the function ships: ``make models``.

The function runs on the Lambda runtime's boto3, which may predate CloudWatch's
alarm mute rules and log alarms: an older model has no ListAlarmMuteRules and
silently drops ``LogAlarms`` from DescribeAlarms. So the function carries
CloudWatch's model from the botocore the tests pin (constraints.txt), with the
documentation stripped, and its clients read it before the runtime's own
(``auto_rollback.aws``). ``--check`` fails when the shipped copy differs from the
pinned botocore's, so a botocore upgrade cannot leave it stale (a test runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import botocore.loaders

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "lambda" / "auto_rollback" / "models"
#: (service, API version, model kinds) shipped with the function.
SHIPPED = (("cloudwatch", "2010-08-01", ("service-2", "paginators-1")),)
#: The operations the function calls (auto_rollback.gateway; a test keeps the two equal). The
#: shipped model holds only them and the shapes they use: a third of the asset's size, and
#: a client that cannot make any other CloudWatch call.
OPERATIONS = {"cloudwatch": ("DescribeAlarms", "ListAlarmMuteRules", "ListTagsForResource")}
#: Keys botocore never reads when it builds a client: human documentation only.
_DOCUMENTATION = frozenset({"documentation", "documentationUrl", "examples"})


def stripped(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: stripped(item) for key, item in value.items() if key not in _DOCUMENTATION}
    if isinstance(value, list):
        return [stripped(item) for item in value]
    return value


#: The one wire protocol the shipped CloudWatch model declares. botocore's own model lists
#: smithy-rpc-v2-cbor, json and query, and botocore 1.44 picks json; but a botocore
#: older than protocol selection reads only ``protocol`` (smithy-rpc-v2-cbor, which it
#: cannot speak, so every CloudWatch call would fail), and some releases ranked CBOR
#: first. Declaring json alone makes every botocore speak what 1.44 speaks and the
#: tests exercise (CloudWatch's JSON protocol, with query-compatible error codes).
PROTOCOL = "json"


def only_operations(model: dict[str, Any], operations: Sequence[str]) -> dict[str, Any]:
    """The service model with ``operations`` and every shape they reach, nothing else."""
    shapes: dict[str, Any] = model["shapes"]
    kept: set[str] = set()
    pending = [
        ref["shape"]
        for name in operations
        for ref in (
            model["operations"][name].get("input"),
            model["operations"][name].get("output"),
            *model["operations"][name].get("errors", []),
        )
        if ref
    ]
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        kept.add(name)
        shape = shapes[name]
        refs = [*shape.get("members", {}).values(), shape.get("member"), shape.get("key"), shape.get("value")]
        pending += [ref["shape"] for ref in refs if ref]
    return {
        **model,
        "operations": {name: model["operations"][name] for name in operations},
        "shapes": {name: shapes[name] for name in sorted(kept)},
    }


def single_protocol(model: dict[str, Any]) -> dict[str, Any]:
    """The model with ``protocol`` and ``protocols`` both naming :data:`PROTOCOL` (which it must support)."""
    metadata = model.get("metadata", {})
    if PROTOCOL not in metadata.get("protocols", [metadata.get("protocol")]):
        raise SystemExit(f"the pinned model no longer offers the {PROTOCOL} protocol: {metadata}")
    return {**model, "metadata": {**metadata, "protocol": PROTOCOL, "protocols": [PROTOCOL]}}


def expected_files() -> dict[Path, str]:
    """What the models directory must hold: the pinned botocore's models, minified and without documentation."""
    # Only botocore's own data: never a copy on AWS_DATA_PATH or in ~/.aws/models.
    builtin = botocore.loaders.Loader.BUILTIN_DATA_PATH
    loader = botocore.loaders.Loader(extra_search_paths=[builtin], include_default_search_paths=False)
    files = {}
    for service, version, kinds in SHIPPED:
        for kind in kinds:
            model = loader.load_service_model(service, kind, api_version=version)
            if kind == "service-2":
                model = single_protocol(only_operations(model, OPERATIONS[service]))
            else:
                model = {
                    "pagination": {
                        name: page for name, page in model["pagination"].items() if name in OPERATIONS[service]
                    }
                }
            text = json.dumps(stripped(model), separators=(",", ":"), sort_keys=True) + "\n"
            files[MODELS_DIR / service / version / f"{kind}.json"] = text
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.models", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped models are not the pinned ones")
    check = parser.parse_args(argv).check
    stale = []
    for path, text in expected_files().items():
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(ROOT))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)} ({len(text) // 1024} KB)")
    if stale:
        print(f"stale (run `make models`): {', '.join(map(str, stale))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
