"""The stack on the emulator, narrated: a session is an emulator, the template deployed, a configured function."""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version as package_version

from auto_rollback.vocabulary import HANDLER
from devkit.aws.aws_server import running_emulator
from devkit.scenarios.harness import configured
from devkit.template.cache import load_template
from devkit.template.deploy import DeployedRule, DeployedStack, deploy_stack
from devkit.template.resources import StackTemplate
from scripts.demo.report import Timeline
from scripts.demo.world import Demo


class DemoError(Exception):
    """The demo could not set itself up (not a wrong observation: those are reported)."""


@contextmanager
def session(*, echo: bool, verbose: bool) -> Iterator[Demo]:
    """Emulator, template, deployment and a configured function container, torn down after."""
    timeline = Timeline(echo=echo)
    template = load_template()
    with quiet_libraries(verbose), running_emulator() as emulator:
        timeline.say(
            f"AWS emulator: moto {package_version('moto')} on {emulator.endpoint_url} "
            "with the instance-refresh emulation; no AWS account is used"
        )
        timeline.say(f"CDK template: {template.origin}; the rules below carry its exact event patterns")
        stack = deploy_stack(template)
        stack = dataclasses.replace(stack, environment=stack.environment | quiet_environment(verbose))
        narrate_deployment(stack, template, timeline)
        with configured(stack.environment), function_log_level(verbose):
            yield Demo(stack, timeline, quiet=not verbose)


def quiet_environment(verbose: bool) -> dict[str, str]:
    """Powertools' JSON logs and metrics would bury the narration, which reports errors itself."""
    return {} if verbose else {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"}


def narrate_deployment(stack: DeployedStack, template: StackTemplate, timeline: Timeline) -> None:
    topic_arn, table_name = stack.deployment.topic_arn, stack.deployment.table_name
    used = 3 + len(stack.rules)
    timeline.say(
        f"deployed {used} of the template's {len(template.resources)} resources (the rest: IAM, KMS, logs, "
        "the function's own alarms and dashboard, are not needed on the emulator)",
        f"SNS topic  {topic_arn.rsplit(':', 1)[-1]}  <- subscribed by SQS queue operator-inbox: what operators receive",
        f"SNS topic  {stack.chat_topic_arn.rsplit(':', 1)[-1]}  <- subscribed by SQS queue chat-inbox: "
        "what Slack/Teams receive",
        f"DynamoDB   {table_name}  (the idempotency records that make the rollback happen once)",
        *(line for rule in stack.rules for line in _pattern_lines(rule)),
        f"function   {HANDLER}, invoked by the dispatcher for each event a rule delivers",
    )


def _pattern_lines(rule: DeployedRule) -> list[str]:
    """The rule's exact pattern, one field a line, long lists wrapped between values."""
    lines = [f"rule       {rule.name}, pattern:"]
    for key, value in rule.pattern.items():
        if not isinstance(value, list):
            lines.append(f"             {json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}")
            continue
        current = f"             {json.dumps(key)}: ["
        for index, item in enumerate(value):
            piece = json.dumps(item) + ("]" if index == len(value) - 1 else ", ")
            if len(current) + len(piece) > 110 and not current.endswith("["):
                lines.append(current.rstrip())
                current = " " * 16
            current += piece
        lines.append(current)
    return lines


@contextmanager
def quiet_libraries(verbose: bool) -> Iterator[None]:
    """Silence the emulator's request log (and library warnings) unless --verbose."""
    werkzeug = logging.getLogger("werkzeug")
    saved = werkzeug.level
    if not verbose:
        werkzeug.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            if not verbose:
                warnings.simplefilter("ignore")
            yield
    finally:
        werkzeug.setLevel(saved)


@contextmanager
def function_log_level(verbose: bool) -> Iterator[None]:
    # Powertools reads POWERTOOLS_LOG_LEVEL when the module is imported, which may
    # be before the environment is configured (a warm container in the tests).
    from auto_rollback.observability import logger

    saved = logger.log_level
    logger.setLevel(logging.INFO if verbose else logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved)
