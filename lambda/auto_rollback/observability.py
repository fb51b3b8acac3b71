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

from auto_rollback.vocabulary import (
    ENV_POWERTOOLS_METRICS_NAMESPACE,
    ENV_POWERTOOLS_SERVICE_NAME,
    FAILURES_METRIC,
    NAMESPACE,
    ROLLBACKS_METRIC,
    SERVICE,
    Outcome,
    outcome_metric_name,
)

logger = Logger(service=os.environ.get(ENV_POWERTOOLS_SERVICE_NAME, SERVICE))
metrics = Metrics(namespace=os.environ.get(ENV_POWERTOOLS_METRICS_NAMESPACE, NAMESPACE), service=SERVICE)


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
    metrics.add_metric(name=outcome_metric_name(outcome), unit=MetricUnit.Count, value=1)
    if outcome == Outcome.ROLLBACK_STARTED:
        metrics.add_metric(name=ROLLBACKS_METRIC, unit=MetricUnit.Count, value=1)
    elif outcome == Outcome.FAILED:
        metrics.add_metric(name=FAILURES_METRIC, unit=MetricUnit.Count, value=1)


def count(metric: str) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
