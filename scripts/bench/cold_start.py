"""Section 3 of ``make bench``: a fresh process serving its first event, against boto3's.

Each side runs in a fresh Python process (``child.py``, run by its path so that
nothing but the standard library is imported before its clock starts); the
import profile of the handler, and what tracing would add, come from fresh
processes too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from devkit.scenarios.harness import Deployment
from scripts.bench import LAMBDA_DIR, ROOT
from scripts.bench.common import Report, Row, median_ms
from scripts.bench.sides import Sides

CHILD = Path(__file__).resolve().parent / "child.py"

MAX_COLD_START_RATIO = 1.5


def child_environment(deployment: Deployment) -> dict[str, str]:
    """A fresh container's environment: the emulator's, the function's, the code on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_LAMBDA_", "_X_AMZN"))}
    env.update(deployment.environment)
    env["PYTHONPATH"] = str(LAMBDA_DIR)
    return env


def run_child(mode: str, spec: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Run child.py; its answer plus ``spawned`` (the clock just before the spawn)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        spec_path, result_path = Path(folder, "spec.json"), Path(folder, "result.json")
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        spawned = time.perf_counter()
        subprocess.run(
            [sys.executable, str(CHILD), mode, str(spec_path), str(result_path)],
            env=dict(env),
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        exited = time.perf_counter()
        answer: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    # perf_counter is CLOCK_MONOTONIC on Linux: one clock for the whole machine, so the
    # child's readings and the parent's can be subtracted.
    answer.update(spawned=spawned, exited=exited)
    return answer


def measure_cold_start(sides: Sides, reps: int, report: Report) -> None:
    """A fresh process serving its first event vs a fresh process making the same calls with boto3."""
    from auto_rollback.aws import CLIENT_CONFIG

    env = child_environment(sides.deployment)
    # botocore's Config sets its options as attributes at run time: its stubs declare none of them.
    options = ("retries", "connect_timeout", "read_timeout", "user_agent_extra")
    client_config = {option: getattr(CLIENT_CONFIG, option) for option in options}
    # The function creates its Auto Scaling and CloudWatch clients up front, then DynamoDB and SNS.
    services = ["autoscaling", "cloudwatch", "dynamodb", "sns"]
    first_event: dict[str, list[float]] = {"handler": [], "direct": []}
    in_child: dict[str, list[float]] = {"handler": [], "direct": []}
    direct_rss: list[int] = []
    for rep in range(1 + reps):  # the first pair warms the bytecode caches and is not counted
        order = ("handler", "direct") if rep % 2 == 0 else ("direct", "handler")
        for side in order:
            if side == "handler":
                answer = run_child("handler", {"event": sides.handler_event()}, env)
                if answer["outcome"] != "ROLLBACK_STARTED":
                    raise RuntimeError(f"the cold handler did not roll back: {answer['outcome']}")
            else:
                calls = [asdict(call) for call in sides.direct_calls(f"cold-{rep}")]
                answer = run_child(
                    "direct", {"client_config": client_config, "services": services, "calls": calls}, env
                )
                direct_rss.append(answer["maxrss_kb"])
            if rep:
                first_event[side].append(answer["done"] - answer["spawned"])
                in_child[side].append(answer["done"] - answer["started"])
    handler_ms, direct_ms = median_ms(first_event["handler"]), median_ms(first_event["direct"])
    ratio = handler_ms / direct_ms
    report.figures["cold_start"] = {
        "reps": reps,
        "handler_ms": handler_ms,
        "direct_ms": direct_ms,
        "ratio": ratio,
        "handler_in_child_ms": median_ms(in_child["handler"]),
        "direct_in_child_ms": median_ms(in_child["direct"]),
        "direct_peak_rss_mb": max(direct_rss) / 1024,
    }
    report.rows.append(
        Row(
            "3. Cold start",
            f"Process start → first event done, handler vs boto3 (medians of {reps}, interleaved)",
            f"{handler_ms:.0f} ms vs {direct_ms:.0f} ms = {ratio:.2f}x",
            f"≤ {MAX_COLD_START_RATIO}x",
            ratio <= MAX_COLD_START_RATIO,
        )
    )
    report.rows.append(
        Row(
            "3. Cold start",
            "Same, from the child's first line (interpreter start-up excluded)",
            f"{median_ms(in_child['handler']):.0f} ms vs {median_ms(in_child['direct']):.0f} ms",
        )
    )


def xray_import_seconds(env: Mapping[str, str], reps: int) -> list[float]:
    """Seconds a fresh process spends importing the X-Ray SDK once boto3 and Powertools are in."""
    code = (
        "import time, boto3, aws_lambda_powertools\n"
        "started = time.perf_counter()\n"
        "import aws_xray_sdk.core\n"
        "print(time.perf_counter() - started)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], env=dict(env), capture_output=True, text=True, check=True)
        for _ in range(reps)
    ]
    return [float(run.stdout) for run in runs]


def measure_importtime(report: Report, reps: int) -> None:
    """``python -X importtime`` of the handler: the ten largest cumulative imports, and no X-Ray SDK."""
    env = {**os.environ, "PYTHONPATH": str(LAMBDA_DIR)}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    code = "import sys, auto_rollback.handler; print('aws_xray_sdk' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    entries: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            depth = len(match.group(3)) // 2
            entries.append(("  " * depth + match.group(4), int(match.group(2)) / 1000))
    # The handler's own imports and theirs (depth <= 2): deeper rows repeat boto3's insides.
    shallow = [(name, ms) for name, ms in entries if len(name) - len(name.lstrip()) <= 4]
    report.importtime = sorted(shallow, key=lambda entry: entry[1], reverse=True)[:10]
    xray = done.stdout.strip() == "True"
    report.figures["xray_imported"] = xray
    report.rows.append(
        Row(
            "3. Cold start",
            f"What tracing on adds: importing the X-Ray SDK after boto3 and Powertools (median of {reps})",
            f"{median_ms(xray_import_seconds(env, reps)):.0f} ms",
        )
    )
    report.rows.append(
        Row(
            "3. Cold start",
            "X-Ray SDK imported by the handler when tracing is off",
            "yes" if xray else "no",
            "no",
            not xray,
        )
    )
