"""Hub mode: one function serving the member accounts of an organization (docs/DEPLOY.md, "Organization mode").

Each event names its account. The hub hands it to that account's
:class:`~auto_rollback.service.RollbackService`, built on first use from a session
on the account's member role and kept for the container's life, so every read
and every rollback happens with the member account's own credentials and under
its own IAM conditions. Decisions, records and notifications are the hub's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from auto_rollback.actions import ActionFailedError, ExactlyOnceActions
from auto_rollback.aws import error_code
from auto_rollback.events import AlarmTrigger, InvalidEventError, InventoryTrigger, ManualTrigger, Trigger
from auto_rollback.gateway import AwsGateway
from auto_rollback.members import EXPIRED_ERRORS, MemberAccessError, MemberSessions, member_refusal
from auto_rollback.notification import Notifier
from auto_rollback.observability import count, logger
from auto_rollback.outcomes import Draft, Result
from auto_rollback.results import member_failed, member_refused, publish_failure
from auto_rollback.service import GroupsFailedError, RollbackService
from auto_rollback.settings import Settings
from auto_rollback.vocabulary import ACCOUNT_NOT_SERVED, REFUSED_ACCOUNT_METRIC, ManualAction, Outcome

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient


class HubService:
    """Routes each trigger to the service of its member account; refuses accounts it does not serve."""

    def __init__(
        self,
        settings: Settings,
        sessions: MemberSessions,
        notifier: Notifier,
        *,
        dynamodb: DynamoDBClient,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.notifier = notifier
        self._dynamodb = dynamodb
        #: Most recently used last. Bounded: each account's session and clients take about
        #: 0.7 MB, and a container may see hundreds of accounts in its life.
        self._services: OrderedDict[str, RollbackService] = OrderedDict()
        self._lock = threading.Lock()

    def service_for(self, account: str) -> RollbackService:
        """The account's service; raises MemberAccessError when its role cannot be assumed."""
        with self._lock:
            service = self._services.get(account)
            if service is not None:
                self._services.move_to_end(account)
                return service
        gateway = AwsGateway(session=self.sessions.open(account))
        actions = ExactlyOnceActions(
            gateway,
            self.notifier,
            table_name=self.settings.idempotency_table_name,
            fallback=self.settings.irreversible_fallback,
            dynamodb=self._dynamodb,  # one client, and one connection pool, for every account's records
            scope={"account": account, "region": self.settings.region},
            function_name=self.settings.function_name,
        )
        service = RollbackService(
            self.settings, gateway, actions, account=account, peers=self.service_for, forget_peer=self.forget
        )
        with self._lock:
            kept = self._services.setdefault(account, service)
            while len(self._services) > MAX_CACHED_ACCOUNTS:
                self._services.popitem(last=False)
            return kept

    def forget(self, account: str) -> None:
        """Drop the account's session: the next event assumes its role again (after a role change, say)."""
        with self._lock:
            self._services.pop(account, None)

    def serves(self, account: str) -> bool:
        return not self.settings.member_accounts or account in self.settings.member_accounts

    def handle(self, trigger: Trigger, context: LambdaContext) -> list[Result]:
        if isinstance(trigger, ManualTrigger):
            account = self._operator_account(trigger.account)
        else:
            account = trigger.account
            if not self.serves(account):
                return [self._refused(trigger, account)]
        read_only = isinstance(trigger, ManualTrigger) and trigger.action is ManualAction.EVALUATE
        group = trigger.auto_scaling_group_name if not isinstance(trigger, AlarmTrigger) else None
        base = Draft(trigger.describe(), auto_scaling_group_name=group, account=account)
        for attempt in (1, 2):
            try:
                service = self.service_for(account)
            except MemberAccessError as error:
                if read_only:
                    raise  # a read-only question: answered with the error, never published (it would page)
                self._fail(member_refused(base, error), error)
            try:
                return service.handle(trigger, context)
            except Exception as error:
                # Another account's refusals were blamed on it where they happened (service._peer_failed); what
                # is left is this account's own session: refused after it was assumed (its role deleted, changed
                # or re-created since, or lacking a permission), or expired. It is dropped: the role is assumed
                # afresh, at once for an expired session (nothing is wrong), else by Lambda's retry.
                refusal = member_refusal(error)
                if refusal is None or _published(error):
                    raise  # not a refusal, or a FAILED already published where it happened
                logger.warning("The member account refused the hub's session: dropped", extra={"account": account})
                self.forget(account)
                if attempt == 1 and isinstance(refusal, ClientError) and error_code(refusal) in EXPIRED_ERRORS:
                    continue
                if read_only:
                    raise  # a read-only question: answered with the error, never published
                self._fail(member_failed(base, refusal), error)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _fail(self, failed: Result, cause: Exception) -> NoReturn:
        """Publish a FAILED the on-call must see, and fail the invocation so Lambda retries it."""
        publish_failure(self.notifier, failed)
        raise ActionFailedError(failed) from cause

    def inventory(self, trigger: InventoryTrigger, context: LambdaContext) -> dict[str, Any]:
        """One member account's inventory (read-only: a refusing role is answered, never published)."""
        return self.service_for(self._operator_account(trigger.account)).inventory(trigger, context)

    def _operator_account(self, account: str | None) -> str:
        """The account an operator's invoke names: required, since the hub's own account may have no spoke."""
        if account is None:
            raise InvalidEventError(
                "account", "is required in organization mode: the 12-digit id of the member account to act in"
            )
        if not self.serves(account):
            raise InvalidEventError("account", f"account {account} is not in MEMBER_ACCOUNTS")
        return account

    def _refused(self, trigger: Trigger, account: str) -> Result:
        """Not retried (retrying cannot make the account served) and counted, so a misrouted spoke shows."""
        logger.warning("Event from an account this hub does not serve", extra={"account": account})
        count(REFUSED_ACCOUNT_METRIC)
        return Draft(
            trigger.describe(),
            account=account,
            summary=f"Account {account} is not in MEMBER_ACCOUNTS: the event was not acted on.",
        ).decided(Outcome.SKIPPED, ACCOUNT_NOT_SERVED)


#: Member accounts whose sessions a container keeps (least recently used dropped first).
MAX_CACHED_ACCOUNTS = 50


def _published(error: BaseException) -> bool:
    """Whether the invocation's failure is a FAILED outcome that was already published."""
    if isinstance(error, GroupsFailedError):
        return isinstance(error.first, ActionFailedError)
    return isinstance(error, ActionFailedError)
