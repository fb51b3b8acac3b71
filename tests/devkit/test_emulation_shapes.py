"""Every response the emulation gives to the function's calls has botocore's output shape.

The emulation builds several responses by hand (instance refreshes, DescribeTags,
DescribeAlarms). A member AWS never sends, a missing required member, a string
where the model says integer or an unknown enum value would make the function's
tests prove something about a response AWS cannot give. Two checks, for each
response:

* the raw body (JSON for cloudwatch and dynamodb, XML for autoscaling and sns)
  holds only members the output shape declares, with wire types that fit. botocore's
  parser silently drops undeclared members, so only the raw body can show them;
* the parsed response has every required member, Python types that fit the shape,
  enum values from the model, and lengths and ranges within the model's bounds.

Responses are captured with a botocore ``after-call`` hook on every client created
during the test, so the function's own clients are covered without patching them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.utils import parse_timestamp

from devkit.aws import cloudwatch_api, refresh_api
from devkit.scenarios.events import alarm_event, refresh_event
from devkit.scenarios.fleet import (
    SSM_IMAGE_ID,
    make_alarm,
    make_composite_alarm,
    make_log_alarm,
    make_mute_rule,
    start_refresh,
)
from devkit.scenarios.harness import invoke
from tests.integration.conftest import World

#: (service, operation) of every AWS call the function makes.
FUNCTION_CALLS = frozenset(
    {
        ("autoscaling", "DescribeTags"),
        ("autoscaling", "DescribeInstanceRefreshes"),
        ("autoscaling", "RollbackInstanceRefresh"),
        ("autoscaling", "CancelInstanceRefresh"),
        ("cloudwatch", "DescribeAlarms"),
        ("cloudwatch", "ListTagsForResource"),
        ("cloudwatch", "ListAlarmMuteRules"),
        ("sns", "Publish"),
        ("dynamodb", "PutItem"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "UpdateItem"),
        ("dynamodb", "DeleteItem"),
    }
)
#: Operations the emulation serves for tests and scenarios only (the function never calls them).
EMULATED_CLOUDWATCH_CALLS = frozenset(
    {
        ("cloudwatch", "PutMetricAlarm"),
        ("cloudwatch", "PutCompositeAlarm"),
        ("cloudwatch", "PutLogAlarm"),
        ("cloudwatch", "SetAlarmState"),
        ("cloudwatch", "DeleteAlarms"),
        ("cloudwatch", "PutAlarmMuteRule"),
        ("cloudwatch", "GetAlarmMuteRule"),
        ("cloudwatch", "DeleteAlarmMuteRule"),
    }
)
LONG_AGO = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Response:
    service: str
    operation: OperationModel
    body: bytes
    parsed: dict[str, Any]

    @property
    def call(self) -> tuple[str, str]:
        return self.service, self.operation.name


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Response]]:
    """Successful responses to every client created from now on, in order."""
    captured: list[Response] = []

    def record(http_response: Any, parsed: dict[str, Any], model: OperationModel, **_: Any) -> None:
        if http_response.status_code < 300:
            captured.append(Response(model.service_model.service_name, model, http_response.content, parsed))

    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("after-call", record)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    yield captured


# --------------------------------------------------------------------------- validation


def shape_problems(response: Response) -> list[str]:
    """Everything in ``response`` that its operation's output shape does not allow."""
    shape = response.operation.output_shape
    if shape is None:
        return []
    name = f"{response.service}.{response.operation.name}"
    parsed = {key: value for key, value in response.parsed.items() if key != "ResponseMetadata"}
    problems = _parsed(shape, parsed, name)
    if response.operation.metadata["protocol"] == "query":
        problems += _xml(shape, _query_result(response), name)
    else:
        problems += _json(shape, json.loads(response.body or b"{}"), name)
    return problems


def _bounds(shape: Shape, size: int, path: str, what: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and size < low) or (high is not None and size > high):
        return [f"{path}: {what} {size} outside [{low}, {high}]"]
    return []


def _parsed(shape: Shape, value: Any, path: str) -> list[str]:  # noqa: PLR0911 - one return per shape kind
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a structure, got {type(value).__name__}"]
        problems = [f"{path}: required {name} missing" for name in shape.required_members if name not in value]
        for key, member in value.items():
            if key not in shape.members:
                problems.append(f"{path}: undeclared member {key}")
            else:
                problems += _parsed(shape.members[key], member, f"{path}.{key}")
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        problems = _bounds(shape, len(value), path, "length")
        for index, item in enumerate(value):
            problems += _parsed(shape.member, item, f"{path}[{index}]")
        return problems
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        return [problem for key, item in value.items() for problem in _parsed(shape.value, item, f"{path}[{key}]")]
    return _parsed_scalar(shape, value, path)


def _parsed_scalar(shape: Shape, value: Any, path: str) -> list[str]:
    kind = shape.type_name
    expected: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "double": (int, float),
        "float": (int, float),
        "timestamp": (datetime,),
        "blob": (bytes, bytearray),
    }
    if not isinstance(value, expected.get(kind, (object,))) or (kind != "boolean" and isinstance(value, bool)):
        return [f"{path}: expected {kind}, got {type(value).__name__} {value!r}"]
    if kind == "string":
        if shape.enum and value not in shape.enum:
            return [f"{path}: {value!r} is not one of {shape.enum}"]
        return _bounds(shape, len(value), path, "length")
    if kind in ("integer", "long"):
        return _bounds(shape, value, path, "value")
    if kind == "timestamp" and value.tzinfo is None:
        return [f"{path}: timestamp without a time zone"]
    return []


def _json(shape: Shape, value: Any, path: str) -> list[str]:  # noqa: PLR0911 - one return per shape kind
    """Raw JSON: member names as serialised, and wire types (timestamps are epoch numbers)."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path} (wire): expected an object"]
        by_wire_name = {member.serialization.get("name", name): member for name, member in shape.members.items()}
        problems: list[str] = []
        for key, item in value.items():
            if key not in by_wire_name:
                problems.append(f"{path} (wire): undeclared member {key}")
            elif item is not None:
                problems += _json(by_wire_name[key], item, f"{path}.{key}")
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path} (wire): expected an array"]
        return [
            problem for index, item in enumerate(value) for problem in _json(shape.member, item, f"{path}[{index}]")
        ]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path} (wire): expected an object"]
        return [problem for key, item in value.items() for problem in _json(shape.value, item, f"{path}[{key}]")]
    wire: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "double": (int, float),
        "float": (int, float),
        "timestamp": (int, float),
        "blob": (str,),
    }
    if not isinstance(value, wire.get(shape.type_name, (object,))):
        return [f"{path} (wire): {shape.type_name} sent as {type(value).__name__} {value!r}"]
    return []


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _query_result(response: Response) -> ET.Element:
    root = ET.fromstring(response.body)
    wrapper = response.operation.output_shape.serialization.get("resultWrapper")
    for child in root:
        if _local(child.tag) == wrapper:
            return child
    return ET.Element(wrapper or "missing")


def _xml(shape: Shape, element: ET.Element, path: str) -> list[str]:
    """Raw query-protocol XML: element names the shape declares, texts that parse as their type."""
    if isinstance(shape, StructureShape):
        by_wire_name = {member.serialization.get("name", name): member for name, member in shape.members.items()}
        problems: list[str] = []
        for child in element:
            tag = _local(child.tag)
            if tag not in by_wire_name:
                problems.append(f"{path} (wire): undeclared element {tag}")
            else:
                problems += _xml(by_wire_name[tag], child, f"{path}.{tag}")
        return problems
    if isinstance(shape, ListShape):
        item_name = shape.member.serialization.get("name", "member")
        problems = []
        for index, child in enumerate(element):
            if _local(child.tag) != item_name:
                problems.append(f"{path} (wire): list item named {_local(child.tag)}, not {item_name}")
            problems += _xml(shape.member, child, f"{path}[{index}]")
        return problems
    if isinstance(shape, MapShape):
        return [
            problem
            for index, entry in enumerate(element)
            for value in entry
            if _local(value.tag) == "value"
            for problem in _xml(shape.value, value, f"{path}[{index}]")
        ]
    text = element.text or ""
    parsers: dict[str, Callable[[str], Any]] = {
        "integer": int,
        "long": int,
        "double": float,
        "float": float,
        "timestamp": parse_timestamp,
        "boolean": lambda value: {"true": True, "false": False}[value],
    }
    try:
        parsers.get(shape.type_name, str)(text)
    except (ValueError, KeyError):
        return [f"{path} (wire): {text!r} is not a {shape.type_name}"]
    return []


# --------------------------------------------------------------------------- the function's calls


def test_every_response_to_the_function_conforms_to_its_output_shape(
    configure: Callable[..., World], responses: list[Response]
) -> None:
    # Given groups mid-refresh, one reversible and one not, with metric and composite alarms
    world = configure()
    web = world.fleet("web-prod")
    start_refresh(world.autoscaling, web)
    refresh_api.advance("web-prod", "InProgress", percentage=40)
    api = world.fleet("api-prod", new_image_id=SSM_IMAGE_ID)
    api_refresh = start_refresh(world.autoscaling, api)
    make_alarm(world.cloudwatch, "web-prod-5xx", group="web-prod")
    make_alarm(world.cloudwatch, "api-prod-5xx", group="api-prod", at=LONG_AGO, updated_at=LONG_AGO + timedelta(1))
    make_composite_alarm(world.cloudwatch, "api-prod health", rule="ALARM(api-prod-5xx)", group="api-prod")
    # When the function handles an alarm (rollback), a checkpoint (irreversible: cancel) and a duplicate
    event = alarm_event("web-prod-5xx")
    invoke(event)
    invoke(event)
    invoke(refresh_event("checkpoint-reached", "api-prod", api_refresh))
    invoke(alarm_event("api-prod health", composite=True, tags={"auto-rollback:group": "api-prod"}))
    # Then every response it received has its operation's output shape
    function_responses = [response for response in responses if response.call in FUNCTION_CALLS]
    assert {response.call for response in function_responses} >= {
        ("autoscaling", "DescribeTags"),
        ("autoscaling", "DescribeInstanceRefreshes"),
        ("autoscaling", "RollbackInstanceRefresh"),
        ("autoscaling", "CancelInstanceRefresh"),
        ("cloudwatch", "DescribeAlarms"),
        ("cloudwatch", "ListTagsForResource"),
        ("sns", "Publish"),
        ("dynamodb", "PutItem"),
    }
    assert [problem for response in function_responses for problem in shape_problems(response)] == []


def test_every_operation_the_function_calls_answers_in_shape_when_called_directly(
    world: World, responses: list[Response]
) -> None:
    # Given one of everything the function reads: tags over several pages, refreshes with
    # a rollback, metric and composite alarms in every state, a topic and an item
    fleet = world.fleet("web-prod", tags={f"extra-{index}": str(index) for index in range(30)})
    start_refresh(world.autoscaling, fleet)
    world.fleet("api-prod", tags={f"extra-{index}": str(index) for index in range(30)})
    make_alarm(world.cloudwatch, "web-prod-5xx", group="web-prod", at=LONG_AGO)
    make_alarm(world.cloudwatch, "web-prod-latency", state="OK")
    make_alarm(world.cloudwatch, "web-prod-fresh", state=None)
    make_composite_alarm(world.cloudwatch, "web-prod health", rule='ALARM("web-prod-5xx")', group="web-prod")
    autoscaling = boto3.client("autoscaling")
    cloudwatch = boto3.client("cloudwatch")
    sns = boto3.client("sns")
    dynamodb = boto3.client("dynamodb")
    table = world.deployment.table_name
    key = {"id": {"S": "auto-rollback#shape"}}
    # When each operation is called the way the function calls it
    list(autoscaling.get_paginator("describe_tags").paginate(Filters=[{"Name": "key", "Values": ["auto-rollback"]}]))
    list(autoscaling.get_paginator("describe_tags").paginate(PaginationConfig={"PageSize": 25}))
    autoscaling.rollback_instance_refresh(AutoScalingGroupName="web-prod")
    autoscaling.describe_instance_refreshes(AutoScalingGroupName="web-prod", MaxRecords=1)
    start_refresh(world.autoscaling, world.fleet("batch-prod"))
    autoscaling.cancel_instance_refresh(AutoScalingGroupName="batch-prod")
    autoscaling.describe_instance_refreshes(AutoScalingGroupName="batch-prod")
    list(
        cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm", "CompositeAlarm"], PaginationConfig={"PageSize": 2}
        )
    )
    cloudwatch.describe_alarms(StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm", "LogAlarm"])
    cloudwatch.describe_alarms(ChildrenOfAlarmName="web-prod health")
    cloudwatch.describe_alarms(ParentsOfAlarmName="web-prod-5xx")
    arn = cloudwatch.describe_alarms(AlarmNames=["web-prod-5xx"])["MetricAlarms"][0]["AlarmArn"]
    cloudwatch.list_tags_for_resource(ResourceARN=arn)
    make_mute_rule(world.cloudwatch, "patch-tuesday", ["web-prod-5xx"], start=datetime.now(UTC) - timedelta(hours=1))
    cloudwatch.list_alarm_mute_rules(AlarmName="web-prod-5xx", Statuses=["ACTIVE"], MaxRecords=1)
    sns.publish(
        TopicArn=world.deployment.topic_arn,
        Subject="[auto-rollback] shape",
        Message=json.dumps({"outcome": "NOTIFIED"}),
        MessageAttributes={"outcome": {"DataType": "String", "StringValue": "NOTIFIED"}},
    )
    dynamodb.put_item(TableName=table, Item={**key, "status": {"S": "INPROGRESS"}}, ReturnValues="NONE")
    dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": {"S": "COMPLETED"}},
        ReturnValues="ALL_NEW",
    )
    dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    # Then every one of them was answered, and in shape
    checked = [response for response in responses if response.call in FUNCTION_CALLS]
    assert {response.call for response in checked} == FUNCTION_CALLS
    assert [problem for response in checked for problem in shape_problems(response)] == []


def test_every_cloudwatch_operation_the_emulation_adds_answers_in_shape(
    world: World, responses: list[Response]
) -> None:
    # Given alarms of every kind, a composite alarm in each suppression (and in none), and mute rules
    # with and without dates, read at a fixed instant
    t0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    cloudwatch_api.set_clock(t0 + timedelta(seconds=30))
    cloudwatch = boto3.client("cloudwatch")
    make_alarm(cloudwatch, "web-prod-5xx", at=t0)
    make_alarm(cloudwatch, "maintenance-on", at=t0)
    make_alarm(cloudwatch, "maintenance-off", state="OK", at=t0 - timedelta(days=1))
    make_log_alarm(cloudwatch, "web-prod errors in logs", group="web-prod", at=t0)
    for suppressor in ("maintenance-on", "maintenance-off"):
        make_composite_alarm(
            cloudwatch, f"health {suppressor}", rule="ALARM(web-prod-5xx)", suppressor=suppressor, at=t0
        )
    make_composite_alarm(cloudwatch, "health unsuppressed", rule="ALARM(web-prod-5xx)", state="OK", at=t0)
    cloudwatch.put_alarm_mute_rule(
        Name="patch-tuesday",
        Description="Tuesday patching",
        Rule={"Schedule": {"Expression": "cron(0 2 * * TUE)", "Duration": "PT4H", "Timezone": "Europe/London"}},
        MuteTargets={"AlarmNames": ["web-prod-5xx", "web-prod errors in logs"]},
        StartDate=t0,
        ExpireDate=t0 + timedelta(days=365),
        Tags=[{"Key": "team", "Value": "web"}],
    )
    make_mute_rule(cloudwatch, "deploy", ["web-prod-5xx"], start=t0)
    # When each is read, listed and deleted
    cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm", "LogAlarm"])
    list(
        cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["LogAlarm"], PaginationConfig={"PageSize": 1})
    )
    cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="patch-tuesday")
    cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName="deploy")
    list(cloudwatch.get_paginator("list_alarm_mute_rules").paginate(PaginationConfig={"PageSize": 1}))
    cloudwatch.list_alarm_mute_rules(AlarmName="web-prod errors in logs", Statuses=["SCHEDULED"])
    cloudwatch.set_alarm_state(AlarmName="web-prod errors in logs", StateValue="OK", StateReason="quiet again")
    cloudwatch.delete_alarm_mute_rule(AlarmMuteRuleName="deploy")
    cloudwatch.delete_alarms(AlarmNames=["health unsuppressed"])
    # Then every one was answered, and in shape, suppressions included
    checked = [response for response in responses if response.service == "cloudwatch"]
    assert {response.call for response in checked} >= EMULATED_CLOUDWATCH_CALLS | {
        ("cloudwatch", "DescribeAlarms"),
        ("cloudwatch", "ListAlarmMuteRules"),
    }
    assert [problem for response in checked for problem in shape_problems(response)] == []
    described = [r.parsed for r in checked if r.operation.name == "DescribeAlarms" and r.parsed.get("CompositeAlarms")]
    everything = max(described, key=lambda parsed: len(parsed["CompositeAlarms"]))
    kinds = {alarm.get("ActionsSuppressedBy") for alarm in everything["CompositeAlarms"]}
    assert kinds == {"Alarm", "WaitPeriod", None}
    cloudwatch_api.set_clock(None)


def test_the_shape_check_reports_what_aws_could_not_send(world: World, responses: list[Response]) -> None:
    # Given a real DescribeAlarms response
    make_alarm(world.cloudwatch, "web-prod-5xx")
    boto3.client("cloudwatch").describe_alarms()
    [response] = [response for response in responses if response.operation.name == "DescribeAlarms"]
    # When it is altered the ways a careless emulation could get it wrong
    raw = json.loads(response.body)
    raw["MetricAlarms"][0]["InventedMember"] = "x"
    raw["MetricAlarms"][0]["Period"] = "60"
    parsed = dict(response.parsed)
    parsed["MetricAlarms"] = [{**parsed["MetricAlarms"][0], "StateValue": "FIRING"}]
    altered = Response(response.service, response.operation, json.dumps(raw).encode(), parsed)
    # Then each alteration is reported
    problems = shape_problems(altered)
    assert any("undeclared member InventedMember" in problem for problem in problems)
    assert any("Period (wire): integer sent as str" in problem for problem in problems)
    assert any("'FIRING' is not one of" in problem for problem in problems)


def test_the_shape_check_reads_query_protocol_xml(world: World, responses: list[Response]) -> None:
    # Given a real DescribeTags response (query protocol, XML)
    world.fleet("web-prod")
    boto3.client("autoscaling").describe_tags()
    [response] = [response for response in responses if response.operation.name == "DescribeTags"]
    assert shape_problems(response) == []
    # When an element the model does not declare and a malformed boolean are slipped in
    body = response.body.decode()
    body = body.replace("<Tags>", "<Invented>x</Invented><Tags>", 1)
    body = body.replace("<PropagateAtLaunch>false</PropagateAtLaunch>", "<PropagateAtLaunch>no</PropagateAtLaunch>", 1)
    altered = Response(response.service, response.operation, body.encode(), response.parsed)
    # Then both are reported
    problems = shape_problems(altered)
    assert any("undeclared element Invented" in problem for problem in problems)
    assert any("'no' is not a boolean" in problem for problem in problems)
