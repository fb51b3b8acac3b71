"""Logging, metrics and tracing in one place (Powertools).

Tracer is created only where X-Ray can receive traces (in Lambda, tracing not
disabled): importing the X-Ray SDK costs about a quarter of a second of cold
start, which nothing outside Lambda should pay.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "auto-rollback"
NAMESPACE = "AutoRollback"
#: A chat copy of an outcome that SNS refused (the outcome itself was published);
#: the stack alarms on it and graphs it.
CHAT_FAILURE_METRIC = "ChatPublishFailures"
#: Hub mode: events from an account outside MEMBER_ACCOUNTS, refused without retries.
REFUSED_ACCOUNT_METRIC = "RefusedAccountEvents"
#: Hub mode: a monitoring account whose alarms a checkpoint could not read (its role refused the hub).
UNREADABLE_ALARM_ACCOUNT_METRIC = "UnreadableAlarmAccounts"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE), service=SERVICE)


def tracing_enabled() -> bool:
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}
    return in_lambda and not disabled


@cache
def _tracer() -> Any:
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - lazy on purpose, see module docstring

    return Tracer(service=SERVICE)


def traced_handler[F: Callable[..., Any]](handler: F) -> F:
    """Tracer.capture_lambda_handler when tracing is on; the handler unchanged otherwise."""
    if not tracing_enabled():
        return handler
    wrapped: F = _tracer().capture_lambda_handler(handler, capture_response=False)
    return wrapped


def record_outcome(outcome: str) -> None:
    """One EMF metric per decision, by outcome (and ``OutcomeInvalidEvent`` per rejected event),
    plus the two an on-call cares about."""
    metrics.add_metric(name=f"Outcome{_pascal(outcome)}", unit=MetricUnit.Count, value=1)
    if outcome == "ROLLBACK_STARTED":
        metrics.add_metric(name="RollbacksStarted", unit=MetricUnit.Count, value=1)
    elif outcome == "FAILED":
        metrics.add_metric(name="Failures", unit=MetricUnit.Count, value=1)


def count(metric: str) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


def _pascal(outcome: str) -> str:
    return "".join(part.capitalize() for part in outcome.split("_"))
