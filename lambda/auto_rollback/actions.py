"""Change AWS exactly once per instance refresh, and publish what was done at least once.

Two Powertools idempotency records, both keyed by group and refresh id, carry
the promises:

* the *action* record wraps RollbackInstanceRefresh (and its fallback). The
  first invocation takes it and makes the call; any other invocation for the
  same refresh, concurrent (record in progress) or later (record completed),
  makes no call and reports ``DEDUPLICATED``.
* the *notification* record wraps sns:Publish of the action's stored outcome.
  If publishing fails, the invocation fails and its record is released, so
  Lambda's retry (or the next duplicate) publishes the original outcome while
  the completed action record keeps the API from being called again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS
from botocore.exceptions import ClientError

from auto_rollback.aws import AwsGateway, error_code
from auto_rollback.notification import Notifier
from auto_rollback.observability import logger
from auto_rollback.outcomes import PUBLISHED_OUTCOMES, Outcome, Result, Severity
from auto_rollback.settings import IrreversibleFallback

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

#: A refresh id is never reused, so the record only has to outlive every
#: duplicate and retry of the events about that refresh (Lambda keeps retrying
#: for at most 6 hours); a week is generous and costs nothing.
RECORD_TTL_SECONDS = 7 * 24 * 3600
_REPLAYED = "__replayedFromStore"

REFRESH_ENDED = "refresh-ended"
IRREVERSIBLE = "rollback-irreversible"
ALREADY_HANDLED = "already-handled"
HANDLED_ELSEWHERE = "in-progress-in-another-invocation"


class ActionFailedError(Exception):
    """The rollback or its fallback could not be done; ``result`` is the FAILED outcome to publish."""

    def __init__(self, result: Result) -> None:
        self.result = result
        super().__init__(f"{result.reason}: {result.summary}")


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this only for answers taken from the store: tag them as such."""
    return {**response, _REPLAYED: True}


class ExactlyOnceActions:
    """Roll back (or fall back) at most once per refresh; publish outcomes at least once."""

    def __init__(
        self,
        gateway: AwsGateway,
        notifier: Notifier,
        *,
        table_name: str,
        fallback: IrreversibleFallback,
        dynamodb: DynamoDBClient | None = None,
    ) -> None:
        self.gateway = gateway
        self.notifier = notifier
        self.fallback = fallback
        self._config = IdempotencyConfig(expires_after_seconds=RECORD_TTL_SECONDS, response_hook=_mark_replayed)
        # One persistence layer per decorated function (Powertools keeps per-function state in it).
        self._action_store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)
        # Configured up front, with the name the decorator would use, so that replay() can read
        # the action record without taking it.
        self._action_store.configure(self._config, f"{self._act.__module__}.{self._act.__qualname__}")
        self._act_once = idempotent_function(
            data_keyword_argument="refresh",
            persistence_store=self._action_store,
            config=self._config,
        )(self._act)
        self._publish_once = idempotent_function(
            data_keyword_argument="key",
            persistence_store=DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb),
            config=self._config,
        )(self._publish)

    def bind(self, context: LambdaContext) -> None:
        """In-progress records of an invocation that dies expire with its time limit, not an hour later."""
        self._config.register_lambda_context(context)

    # --- the action -----------------------------------------------------------------------------------------

    def roll_back(self, base: Result, remaining_seconds: Callable[[], float]) -> Result:
        """Roll back the refresh in ``base`` unless another invocation did or is doing it."""
        refresh = {"autoScalingGroupName": base.auto_scaling_group_name, "instanceRefreshId": base.instance_refresh_id}
        try:
            stored = dict(self._act_once(refresh=refresh, base=base.to_dict(), remaining_seconds=remaining_seconds))
        except IdempotencyAlreadyInProgressError:
            return base.with_outcome(
                Outcome.DEDUPLICATED,
                HANDLED_ELSEWHERE,
                summary="Another invocation is rolling this refresh back right now.",
            )
        except Exception as error:  # every failure to act becomes a FAILED outcome, then a retry
            raise ActionFailedError(_failed(base, error)) from error
        replayed = bool(stored.pop(_REPLAYED, False))
        original = Result.from_dict(stored)
        self.publish_once(original)
        return _already_handled(base, original) if replayed else original

    def replay(self, base: Result) -> Result | None:
        """For a refresh that is already rolling back or cancelling: our stored outcome, if we acted.

        Publishes that outcome if no invocation managed to yet (the one that acted may
        have failed to publish), and answers DEDUPLICATED. None when this function never
        completed an action for the refresh (someone else rolled it back), so the caller
        reports what it sees.
        """
        refresh = {"autoScalingGroupName": base.auto_scaling_group_name, "instanceRefreshId": base.instance_refresh_id}
        try:
            record = self._action_store.get_record(data=refresh)
        except IdempotencyItemNotFoundError:
            return None
        if record is None or record.status != STATUS_CONSTANTS["COMPLETED"]:
            return None
        original = Result.from_dict(record.response_json_as_dict() or {})
        self.publish_once(original)
        return _already_handled(base, original)

    def _act(
        self, *, refresh: dict[str, Any], base: dict[str, Any], remaining_seconds: Callable[[], float]
    ) -> dict[str, Any]:
        result = Result.from_dict(base)
        group = str(refresh["autoScalingGroupName"])
        try:
            self.gateway.rollback(group, remaining_seconds)
        except ClientError as error:
            code = error_code(error)
            if code == "IrreversibleInstanceRefresh":
                return self._fall_back(result, group, remaining_seconds, aws_message=_message(error)).to_dict()
            if code == "ActiveInstanceRefreshNotFound":
                return _ended(result).to_dict()
            raise
        return result.with_outcome(
            Outcome.ROLLBACK_STARTED,
            result.reason,
            refresh_status="RollbackInProgress",
            severity=Severity.HIGH,
            summary=f"Rollback started: {result.summary}" if result.summary else "Rollback started.",
        ).to_dict()

    def _fall_back(
        self, result: Result, group: str, remaining_seconds: Callable[[], float], aws_message: str
    ) -> Result:
        if self.fallback is IrreversibleFallback.NOTIFY:
            return result.with_outcome(
                Outcome.ROLLBACK_UNSUPPORTED,
                IRREVERSIBLE,
                severity=Severity.HIGH,
                summary=f"AWS cannot roll this refresh back ({aws_message}); it keeps running. {result.summary}",
            )
        try:
            self.gateway.cancel(group, remaining_seconds)
        except ClientError as error:
            if error_code(error) == "ActiveInstanceRefreshNotFound":
                return _ended(result)
            raise
        return result.with_outcome(
            Outcome.CANCELLED,
            IRREVERSIBLE,
            refresh_status="Cancelling",
            severity=Severity.HIGH,
            summary=(
                f"AWS cannot roll this refresh back ({aws_message}), so it was cancelled: instances already "
                f"replaced keep the new configuration. {result.summary}"
            ),
        )

    # --- the notification -----------------------------------------------------------------------------------

    def publish_once(self, result: Result, *, event: str = "") -> bool:
        """Publish a result once per (group, refresh, outcome, event); True when this call published."""
        if result.outcome not in PUBLISHED_OUTCOMES:
            return False
        if not result.instance_refresh_id:
            self.notifier.publish(result)
            return True
        key = {
            "autoScalingGroupName": result.auto_scaling_group_name,
            "instanceRefreshId": result.instance_refresh_id,
            "outcome": result.outcome.value,
            "event": event,
        }
        try:
            answer = self._publish_once(key=key, result=result.to_dict())
        except IdempotencyAlreadyInProgressError:
            logger.info("Another invocation is publishing this outcome", extra={"key": key})
            return False
        return not answer.get(_REPLAYED, False)

    def _publish(self, *, key: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        message_id = self.notifier.publish(Result.from_dict(result))
        logger.info("Outcome published", extra={"key": key, "messageId": message_id})
        return {"messageId": message_id}


def _already_handled(base: Result, original: Result) -> Result:
    return base.with_outcome(
        Outcome.DEDUPLICATED,
        ALREADY_HANDLED,
        summary=f"Already handled for this refresh: {original.outcome.value} ({original.reason}).",
        details={"originalOutcome": original.outcome.value, "originalTrigger": original.trigger},
    )


def _ended(result: Result) -> Result:
    return result.with_outcome(
        Outcome.SKIPPED,
        REFRESH_ENDED,
        summary="The refresh ended before it could be rolled back; nothing was changed.",
    )


def _failed(base: Result, error: Exception) -> Result:
    code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return base.with_outcome(
        Outcome.FAILED,
        code or "error",
        severity=Severity.HIGH,
        summary=f"Could not act on the refresh: {str(error)[:500]}. The event will be retried.",
    )


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or error_code(error)
