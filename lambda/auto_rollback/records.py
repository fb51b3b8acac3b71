"""The function's idempotency records, through Powertools' public API only (the one module that uses it).

One of the modules that call AWS (DynamoDB, through Powertools; see :mod:`auto_rollback.aws`).

:mod:`auto_rollback.actions` says what is done once; this module keeps the records
that make it so, in the DynamoDB table the stack creates. It uses
``idempotent_function`` with an explicit ``key_prefix``, the config's
``response_hook`` (Powertools calls it only for answers taken from the store, so
an answer made by another invocation is a :class:`Replayed`), and the persistence
layer's ``configure`` and ``get_record`` to read a record without taking it.

What is left of a coupling is the record's id, ``<key_prefix>#<hash of the key>``:
Powertools builds it, and it must stay the id earlier versions wrote.
tests/integration/test_idempotency_records.py pins it on the emulator's DynamoDB.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
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

from auto_rollback.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

#: A refresh id is never reused, so the record only has to outlive every
#: duplicate and retry of the events about that refresh (Lambda keeps retrying
#: for at most 6 hours); a week is generous and costs nothing.
RECORD_TTL_SECONDS = 7 * 24 * 3600

#: How long an invocation that finds a record held by another waits for it to be completed or to
#: expire before giving up (and failing, so that Lambda retries the event). The holder normally
#: finishes in well under a second; the wait also covers our *own* lock when PutItem reached
#: DynamoDB but its answer was lost and botocore's retry found the record taken.
WAIT_FOR_HOLDER_SECONDS = 10.0

#: The kinds of record, as their key prefixes name them (after the function's name). Fixed, not
#: Powertools' default (the decorated method's module and qualified name), so that renaming code
#: cannot orphan the records of refreshes in flight, and so that a record is read under the name
#: it was written with. They are the names Powertools gave the records before they were fixed:
#: records written by earlier versions still count.
ACTION_RECORD = "auto_rollback.actions.ExactlyOnceActions._act"
PUBLISH_RECORD = "auto_rollback.actions.ExactlyOnceActions._publish"
#: The function's name outside Lambda (tests, demo, bench): Powertools' own, as before.
NAME_OUTSIDE_LAMBDA = "test-func"


class HeldElsewhereError(Exception):
    """Another invocation (or our own lost PutItem) still holds the record: fail so Lambda retries later."""


@dataclass(frozen=True)
class Replayed:
    """An answer taken from the store: another invocation (or an earlier attempt) made the call."""

    answer: dict[str, Any]


@dataclass(frozen=True)
class StoredRecord:
    """A record read without taking it: still held (no answer yet), or completed with its answer."""

    held: bool
    answer: dict[str, Any]


def _replayed(response: Any, idempotent_data: DataRecord) -> Replayed:
    """The config's response hook: Powertools calls it only for answers taken from the store."""
    return Replayed(dict(response or {}))


def key_prefix(function_name: str | None, record: str) -> str:
    """The ``key_prefix`` of one kind of record of the function (record ids are ``<prefix>#<hash>``)."""
    return f"{function_name or NAME_OUTSIDE_LAMBDA}.{record}"


class Records:
    """The idempotency records of one table: makes calls idempotent, reads records, waits for holders."""

    def __init__(self, table_name: str, dynamodb: DynamoDBClient, *, function_name: str | None = None) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._function_name = function_name
        self._config = IdempotencyConfig(expires_after_seconds=RECORD_TTL_SECONDS, response_hook=_replayed)
        self._stores: dict[str, DynamoDBPersistenceLayer] = {}
        self._sleep: Callable[[float], None] = time.sleep

    def bind(self, context: LambdaContext) -> None:
        """In-progress records of an invocation that dies expire with its time limit, not an hour later."""
        self._config.register_lambda_context(context)

    def once[**P, T](
        self, record: str, data_keyword_argument: str, function: Callable[P, T]
    ) -> Callable[P, T | Replayed]:
        """``function``, run at most once per value of its ``data_keyword_argument`` (the record's key).

        A later call answers the first call's stored answer as :class:`Replayed`; one made
        while another holds the record raises ``IdempotencyAlreadyInProgressError``.
        """
        prefix = key_prefix(self._function_name, record)
        # One persistence layer per kind of record (Powertools keeps per-function state in it), configured
        # up front with the decorator's prefix so that read() finds the records before any call was made.
        store = DynamoDBPersistenceLayer(table_name=self._table_name, boto3_client=self._dynamodb)
        store.configure(self._config, key_prefix=prefix)
        self._stores[record] = store
        decorate = idempotent_function(
            data_keyword_argument=data_keyword_argument,
            persistence_store=store,
            config=self._config,
            key_prefix=prefix,
        )
        idempotent: Callable[P, T | Replayed] = decorate(function)
        return idempotent

    def read(self, record: str, key: dict[str, Any]) -> StoredRecord | None:
        """The record of ``key``, without taking it; None when there is none (or it has expired)."""
        try:
            stored = self._stores[record].get_record(data=key)
        except IdempotencyItemNotFoundError:
            return None
        if stored is None or stored.status == STATUS_CONSTANTS["EXPIRED"]:
            return None
        if stored.status == STATUS_CONSTANTS["INPROGRESS"]:
            return StoredRecord(held=True, answer={})
        return StoredRecord(held=False, answer=stored.response_json_as_dict() or {})

    def waiting_for_holder[T](self, call: Callable[[], T], remaining_seconds: Callable[[], float], held: str) -> T:
        """Run an idempotent call; while another invocation holds its record, wait and try again.

        Each try is one conditional PutItem: it takes the record once the holder's
        in-progress record has expired (the holder died), or replays the holder's stored
        answer once it has completed. Gives up after WAIT_FOR_HOLDER_SECONDS or when the
        invocation's time runs short, raising HeldElsewhereError(``held``).
        """
        deadline = time.monotonic() + min(WAIT_FOR_HOLDER_SECONDS, max(0.0, remaining_seconds()))
        delay = 0.05
        while True:
            try:
                return call()
            except IdempotencyAlreadyInProgressError as error:
                if time.monotonic() + delay >= deadline:
                    raise HeldElsewhereError(held) from error
                logger.info("Another invocation holds this record; waiting for it", extra={"delay": delay})
            self._sleep(delay)
            delay = min(delay * 2, 0.5)
