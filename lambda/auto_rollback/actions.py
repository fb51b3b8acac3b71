"""Change AWS exactly once per instance refresh, and publish what was done at least once.

Two Powertools idempotency records, both keyed by group and refresh id, carry
the promises:

* the *action* record wraps RollbackInstanceRefresh (and its fallback). The
  first invocation takes it and makes the call; any other invocation for the
  same refresh makes no call: a later one (record completed) reports
  ``DEDUPLICATED``, a concurrent one (record in progress) waits for the record
  to complete (then the same) or to expire with its holder's time limit (the
  holder died: it takes the record over). Still held after the wait, it fails,
  so that Lambda retries the event.
* the *notification* record wraps sns:Publish of the action's stored outcome.
  If publishing fails, the invocation fails and its record is released, so
  Lambda's retry (or the next duplicate) publishes the original outcome while
  the completed action record keeps the API from being called again.

The records are kept by :mod:`auto_rollback.records`, through Powertools' public API.

docs/RELIABILITY.md lists the faults and crashes these records are tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from auto_rollback.aws import CLIENT_CONFIG, aws_session, error_code
from auto_rollback.gateway import AwsGateway
from auto_rollback.notification import Notifier
from auto_rollback.observability import logger
from auto_rollback.outcomes import Result
from auto_rollback.records import ACTION_RECORD, PUBLISH_RECORD, HeldElsewhereError, Records, Replayed
from auto_rollback.vocabulary import (
    ALREADY_HANDLED,
    CANCELLED_STATUSES,
    IRREVERSIBLE,
    PUBLISHED_OUTCOMES,
    RECOVERED,
    REFRESH_ENDED,
    ROLLING_BACK_STATUSES,
    IrreversibleFallback,
    Outcome,
    RefreshStatus,
    Severity,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient


class ActionFailedError(Exception):
    """The rollback or its fallback could not be done; ``result`` is the FAILED outcome to publish."""

    def __init__(self, result: Result) -> None:
        self.result = result
        super().__init__(f"{result.reason}: {result.summary}")


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
        scope: Mapping[str, str] | None = None,
        function_name: str | None = None,
    ) -> None:
        self.gateway = gateway
        #: Hub mode: the account and region of the refreshes, part of every record's key, since
        #: group names (and so records) of different member accounts may be equal. Empty
        #: per account, which keeps the keys of records written before hub mode existed.
        self._scope = dict(scope or {})
        self.notifier = notifier
        self.fallback = fallback
        # One client for both records, with the same timeouts and retries as every other call (and one
        # place for tests to inject faults).
        self.dynamodb: DynamoDBClient = dynamodb or aws_session().client("dynamodb", config=CLIENT_CONFIG)
        self.records = Records(table_name, self.dynamodb, function_name=function_name)
        self._act_once = self.records.once(ACTION_RECORD, "refresh", self._act)
        self._publish_once = self.records.once(PUBLISH_RECORD, "key", self._publish)

    def _refresh_key(self, base: Result) -> dict[str, Any]:
        return {
            **self._scope,
            "autoScalingGroupName": base.auto_scaling_group_name,
            "instanceRefreshId": base.instance_refresh_id,
        }

    def bind(self, context: LambdaContext) -> None:
        """In-progress records of an invocation that dies expire with its time limit, not an hour later."""
        self.records.bind(context)

    # --- the action -----------------------------------------------------------------------------------------

    def roll_back(self, base: Result, remaining_seconds: Callable[[], float]) -> Result:
        """Roll back the refresh in ``base`` unless another invocation did or is doing it."""
        return self._act_and_publish(base, remaining_seconds, recover=False)

    def _act_and_publish(self, base: Result, remaining_seconds: Callable[[], float], *, recover: bool) -> Result:
        refresh = self._refresh_key(base)
        try:
            answer = self.records.waiting_for_holder(
                lambda: self._act_once(
                    refresh=refresh, base=base.to_dict(), remaining_seconds=remaining_seconds, recover=recover
                ),
                remaining_seconds,
                held=f"the action record of refresh {base.instance_refresh_id} is still held after waiting; "
                "the event will be retried",
            )
        except HeldElsewhereError:
            raise
        except Exception as error:  # every failure to act becomes a FAILED outcome, then a retry
            raise ActionFailedError(_failed(base, error)) from error
        original = Result.from_dict(answer.answer if isinstance(answer, Replayed) else answer)
        self.publish_once(original, remaining_seconds)
        return _already_handled(base, original) if isinstance(answer, Replayed) else original

    def replay(self, base: Result, remaining_seconds: Callable[[], float]) -> Result | None:
        """For a refresh that is already rolling back or cancelling: our stored outcome, if we acted.

        Publishes that outcome if no invocation managed to yet (the one that acted may
        have failed to publish), and answers DEDUPLICATED. None when this function never
        took the action record for the refresh (someone else rolled it back), so the caller
        reports what it sees.

        An *in-progress* record means one of our invocations took the lock and then died
        (timeout, crash) before storing what it did, most likely right after the API call
        that put the refresh in this state. Once that record has expired (with the dead
        invocation's time limit), the lock is taken over and the outcome the refresh shows
        is stored and published as ours (``recovered-interrupted-invocation``) without
        calling the API again; while it is live, this invocation waits for it.
        """
        refresh = self._refresh_key(base)
        record = self.records.read(ACTION_RECORD, refresh)
        if record is None:
            return None
        if record.held:
            return self._act_and_publish(base, remaining_seconds, recover=True)
        original = Result.from_dict(record.answer)
        self.publish_once(original, remaining_seconds)
        return _already_handled(base, original)

    def _act(
        self,
        *,
        refresh: dict[str, Any],
        base: dict[str, Any],
        remaining_seconds: Callable[[], float],
        recover: bool = False,
    ) -> dict[str, Any]:
        result = Result.from_dict(base)
        group = str(refresh["autoScalingGroupName"])
        if recover:
            return _recovered(result).to_dict()
        try:
            self.gateway.rollback(group, remaining_seconds)
        except (ClientError, BotoCoreError) as error:
            code = error_code(error) if isinstance(error, ClientError) else ""
            if code == "IrreversibleInstanceRefresh":
                return self._fall_back(result, group, remaining_seconds, aws_message=_message(error)).to_dict()
            if code == "ActiveInstanceRefreshNotFound":
                return (self._seen_done(_started(result), group, ROLLING_BACK_STATUSES) or _ended(result)).to_dict()
            return self._confirm_or_raise(error, _started(result), group, ROLLING_BACK_STATUSES).to_dict()
        return _started(result).to_dict()

    def _seen_done(self, done: Result, group: str, acted_statuses: frozenset[str]) -> Result | None:
        """``done`` if the refresh now shows the change (rolling back, or cancelling for the fallback).

        Asked when AWS refused the call as the refresh is no longer active (a connection
        reset after AWS applied it made botocore send it again, and the second attempt
        was refused), and when every answer to the call was lost.
        """
        now = self.gateway.latest_refresh(group, done.instance_refresh_id or None)
        if now is None or now.status not in acted_statuses:
            return None
        logger.warning(
            "The call's answer was lost or refused, and the refresh shows the change: reporting it as done",
            extra={"group": group, "refreshStatus": now.status},
        )
        return _confirmed(done, now.status)

    def _confirm_or_raise(self, error: Exception, done: Result, group: str, acted_statuses: frozenset[str]) -> Result:
        """``done`` if the refresh shows it, else the call's own error (the event is then retried).

        A closed connection or a read timeout says nothing about whether AWS applied
        the call: botocore's retries may all have lost their answers after the first
        one got through. Reporting FAILED then would tell the on-call that a rollback
        which started did not.
        """
        try:
            seen = self._seen_done(done, group, acted_statuses)
        except Exception:
            logger.exception("Could not read the refresh to confirm a call that failed")
            raise error from None
        if seen is None:
            raise error
        return seen

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
        except (ClientError, BotoCoreError) as error:
            if isinstance(error, ClientError) and error_code(error) == "ActiveInstanceRefreshNotFound":
                return self._seen_done(_cancelled(result, aws_message), group, CANCELLED_STATUSES) or _ended(result)
            return self._confirm_or_raise(error, _cancelled(result, aws_message), group, CANCELLED_STATUSES)
        return _cancelled(result, aws_message)

    # --- the notification -----------------------------------------------------------------------------------

    def publish_once(self, result: Result, remaining_seconds: Callable[[], float], *, event: str = "") -> bool:
        """Publish a result once per (group, refresh, outcome, event); True when this call published."""
        if result.outcome not in PUBLISHED_OUTCOMES:
            return False
        if not result.instance_refresh_id:
            self.notifier.publish(result)
            return True
        key = {
            **self._scope,
            "autoScalingGroupName": result.auto_scaling_group_name,
            "instanceRefreshId": result.instance_refresh_id,
            "outcome": result.outcome.value,
            "event": event,
        }
        answer = self.records.waiting_for_holder(
            lambda: self._publish_once(key=key, result=result.to_dict()),
            remaining_seconds,
            held=f"the publish record {key} is still held after waiting",
        )
        return not isinstance(answer, Replayed)

    def _publish(self, *, key: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        message_id = self.notifier.publish(Result.from_dict(result))
        logger.info("Outcome published", extra={"key": key, "messageId": message_id})
        return {"messageId": message_id}


def _started(result: Result) -> Result:
    return result.with_outcome(
        Outcome.ROLLBACK_STARTED,
        result.reason,
        refresh_status=RefreshStatus.ROLLBACK_IN_PROGRESS,
        severity=Severity.HIGH,
        summary=f"Rollback started: {result.summary}" if result.summary else "Rollback started.",
    )


def _cancelled(result: Result, aws_message: str) -> Result:
    return result.with_outcome(
        Outcome.CANCELLED,
        IRREVERSIBLE,
        refresh_status=RefreshStatus.CANCELLING,
        severity=Severity.HIGH,
        summary=(
            f"AWS cannot roll this refresh back ({aws_message}), so it was cancelled: instances already "
            f"replaced keep the new configuration. {result.summary}"
        ),
    )


def _recovered(result: Result) -> Result:
    """What an invocation that died after taking the action record did, as the refresh now shows it."""
    status = result.refresh_status or ""
    outcome = Outcome.CANCELLED if status in CANCELLED_STATUSES else Outcome.ROLLBACK_STARTED
    return result.with_outcome(
        outcome,
        RECOVERED,
        severity=Severity.HIGH,
        summary=(
            f"{'Cancel' if outcome is Outcome.CANCELLED else 'Rollback'} started by an invocation that was "
            f"interrupted before it could report it (the refresh is {status or 'no longer active'}). {result.summary}"
        ).strip(),
    )


def _already_handled(base: Result, original: Result) -> Result:
    return base.with_outcome(
        Outcome.DEDUPLICATED,
        ALREADY_HANDLED,
        summary=f"Already handled for this refresh: {original.outcome.value} ({original.reason}).",
        details={"originalOutcome": original.outcome.value, "originalTrigger": original.trigger},
    )


def _confirmed(done: Result, status_seen: str) -> Result:
    """``done``, as the refresh (not the call's answer) showed it was done."""
    details = {**done.details, "confirmedBy": "DescribeInstanceRefreshes", "refreshStatusSeen": status_seen}
    return replace(done, refresh_status=status_seen, details=details)


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


def _message(error: Exception) -> str:
    if not isinstance(error, ClientError):
        return str(error)
    return str(error.response.get("Error", {}).get("Message", "")) or error_code(error)
