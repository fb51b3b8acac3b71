"""Lambda entry point: ``auto_rollback.handler.lambda_handler``.

Thin on purpose: parse the event into a typed trigger, hand it to the service,
record what happened, return it. Everything it needs is built once per container
(from the environment) and reused by warm invocations.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from auto_rollback.actions import ActionFailedError, ExactlyOnceActions
from auto_rollback.aws import CLIENT_CONFIG, aws_session
from auto_rollback.events import InvalidEventError, InventoryTrigger, ManualTrigger, parse_event
from auto_rollback.gateway import AwsGateway
from auto_rollback.hub import HubService
from auto_rollback.members import MemberSessions
from auto_rollback.notification import Notifier
from auto_rollback.observability import logger, metrics, record_outcome, traced_handler
from auto_rollback.outcomes import Result
from auto_rollback.service import GroupsFailedError, RollbackService
from auto_rollback.settings import Settings
from auto_rollback.vocabulary import DECISION_LOG_MESSAGE, INVALID_EVENT, REJECTED_LOG_MESSAGE, Outcome

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["InvalidEventError", "get_service", "lambda_handler"]

# Which result speaks for the invocation when an alarm links several groups.
_PRIORITY = [
    Outcome.FAILED,
    Outcome.ROLLBACK_STARTED,
    Outcome.CANCELLED,
    Outcome.ROLLBACK_UNSUPPORTED,
    Outcome.DRY_RUN,
    Outcome.DEDUPLICATED,
    Outcome.NOTIFIED,
    Outcome.SKIPPED,
]


@cache
def get_service() -> RollbackService | HubService:
    """Build the service from the environment; a configuration error names the variable."""
    settings = Settings.from_environment()
    own_account = settings.notification_topic_arn.split(":")[4]
    notifier = Notifier(
        settings.notification_topic_arn,
        account=own_account,
        region=settings.region,
        chat_topic_arn=settings.chat_topic_arn,
        function_name=settings.function_name,
    )
    if settings.member_role_name is not None:
        partition = settings.notification_topic_arn.split(":")[1]
        sessions = MemberSessions(settings.member_role_name, partition=partition)
        dynamodb = aws_session().client("dynamodb", config=CLIENT_CONFIG)
        return HubService(settings, sessions, notifier, dynamodb=dynamodb)
    gateway = AwsGateway()
    actions = ExactlyOnceActions(
        gateway,
        notifier,
        table_name=settings.idempotency_table_name,
        fallback=settings.irreversible_fallback,
        function_name=settings.function_name,
    )
    return RollbackService(settings, gateway, actions)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service = get_service()
    try:
        trigger = parse_event(event)
    except InvalidEventError as error:
        record_rejection(error)
        raise
    logger.set_correlation_id(getattr(trigger, "event_id", None) or context.aws_request_id)
    if isinstance(trigger, InventoryTrigger):
        try:
            return service.inventory(trigger, context)  # read-only; logged once there, no outcome to record
        except InvalidEventError as error:  # a nextToken that AWS refused: the operator's input after all
            record_rejection(error)
            raise
    if isinstance(trigger, ManualTrigger):
        logger.info(
            "Manual invoke",
            extra={
                "action": trigger.action.value,
                "group": trigger.auto_scaling_group_name,
                "account": trigger.account,
            },
        )
    try:
        results = service.handle(trigger, context)
    except GroupsFailedError as failure:
        record_decisions(failure.results)
        raise failure.first from None  # the first failure's own type and cause, for Lambda's retry
    except ActionFailedError as failure:
        record_decisions([failure.result])
        raise
    record_decisions(results)
    return summarize(results)


def record_rejection(error: InvalidEventError) -> None:
    logger.error(REJECTED_LOG_MESSAGE, extra={"field": error.field, "problem": error.problem})
    record_outcome(INVALID_EVENT)


def record_decisions(results: list[Result]) -> None:
    """Every decision reaches the metrics and the decision history, a failed invocation's too."""
    for result in results:
        record_outcome(result.outcome.value)
        if result.outcome is Outcome.FAILED:
            logger.error(DECISION_LOG_MESSAGE, extra={"result": result.to_dict()})
        else:
            logger.info(DECISION_LOG_MESSAGE, extra={"result": result.to_dict()})


def summarize(results: list[Result]) -> dict[str, Any]:
    """The most significant result at the top level, every per-group result under ``results``."""
    primary = min(results, key=lambda result: _PRIORITY.index(result.outcome))
    return {**primary.to_dict(), "results": [result.to_dict() for result in results]}
