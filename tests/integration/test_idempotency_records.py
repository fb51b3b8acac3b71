"""The idempotency records' ids, on the emulator's DynamoDB: what is left of the coupling to Powertools.

records.py uses Powertools' public API only, but a record's id is still built by
Powertools (``<key_prefix>#<md5 of the key as sorted JSON>``), and it must stay the
id earlier versions wrote: records live a week, and a deployment must not forget
the refreshes in flight (a duplicate would find no record, and report someone
else's rollback). These tests fail loudly if a Powertools upgrade changes how it
names or hashes records, or if the prefixes drift from the names records were
first written under.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3

from devkit.aws import refresh_api
from devkit.scenarios.events import alarm_event
from devkit.scenarios.fleet import start_refresh
from devkit.scenarios.harness import invoke
from tests.integration.conftest import World

LINK = {"auto-rollback:group": "web-prod"}
FUNCTION_NAME = "AutoRollback-Function-1"


def _record_ids(table_name: str) -> set[str]:
    items = boto3.client("dynamodb").scan(TableName=table_name, ConsistentRead=True)["Items"]
    return {item["id"]["S"] for item in items}


def _hash(key: dict[str, Any]) -> str:
    return hashlib.md5(json.dumps(key, sort_keys=True).encode()).hexdigest()  # Powertools' default hash


def test_the_records_have_the_ids_earlier_versions_wrote(configure: Any) -> None:
    # Given the function deployed under its name, and a refresh to roll back
    world: World = configure(AWS_LAMBDA_FUNCTION_NAME=FUNCTION_NAME)
    refresh_id = start_refresh(world.autoscaling, world.fleet("web-prod"))
    # When an alarm rolls it back
    assert invoke(alarm_event("web-prod-5xx", tags=LINK))["outcome"] == "ROLLBACK_STARTED"
    # Then the action record and the publish record have exactly the ids Powertools gave them when its
    # default names (the function's, then the decorated method's module and qualified name) were used
    refresh = {"autoScalingGroupName": "web-prod", "instanceRefreshId": refresh_id}
    published = {**refresh, "outcome": "ROLLBACK_STARTED", "event": ""}
    assert _record_ids(world.deployment.table_name) == {
        f"{FUNCTION_NAME}.auto_rollback.actions.ExactlyOnceActions._act#{_hash(refresh)}",
        f"{FUNCTION_NAME}.auto_rollback.actions.ExactlyOnceActions._publish#{_hash(published)}",
    }


def test_a_record_the_decorator_wrote_is_read_without_being_taken(configure: Any) -> None:
    # Given a rollback recorded by the decorated action, and the refresh now rolling back
    world: World = configure(AWS_LAMBDA_FUNCTION_NAME=FUNCTION_NAME)
    start_refresh(world.autoscaling, world.fleet("web-prod"))
    invoke(alarm_event("web-prod-5xx", tags=LINK))
    assert refresh_api.refreshes("web-prod")[0]["Status"] == "RollbackInProgress"
    before = _record_ids(world.deployment.table_name)
    # When another alarm arrives (replay() reads the action record with the persistence layer's get_record)
    duplicate = invoke(alarm_event("web-prod-latency", tags=LINK))
    # Then the record is found under the same id: the original outcome is reported, and nothing is written
    assert (duplicate["outcome"], duplicate["reason"]) == ("DEDUPLICATED", "already-handled")
    assert duplicate["details"]["originalOutcome"] == "ROLLBACK_STARTED"
    assert _record_ids(world.deployment.table_name) == before
    assert len(world.rollback_calls()) == 1
