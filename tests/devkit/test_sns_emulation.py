"""SNS Publish in the emulator refuses what SNS documents it refuses, as SNS refuses it.

Every test that pins a refusal fails on plain moto 5.2.5, which accepts each of
these requests (or, for an empty attribute value, refuses it with the wrong code),
except the 101-character subject, which moto already refuses and which is kept to
pin the boundary beside the 100 characters moto and this emulation allow. The
requests go through boto3 over HTTP, to a topic with no subscribers unless a test
says otherwise, so the checks cannot depend on who is subscribed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from auto_rollback.notification import Notifier
from auto_rollback.outcomes import Result
from auto_rollback.vocabulary import Outcome, Severity
from devkit.aws import sns_api
from devkit.aws.aws_server import ACCOUNT_ID, REGION, AwsEmulator

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
STRUCTURED = json.dumps({"default": "d", "email": "e"})


@pytest.fixture
def sns(aws: AwsEmulator) -> Any:
    return boto3.client("sns", config=NO_RETRIES)


@pytest.fixture
def topic(sns: Any) -> str:
    return str(sns.create_topic(Name="outcomes")["TopicArn"])


def _refused(call: Callable[[], Any], code: str = "InvalidParameter") -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    response: dict[str, Any] = raised.value.response
    assert response["Error"]["Code"] == code, response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return response


def _attribute(value: str, data_type: str = "String") -> dict[str, str]:
    return {"DataType": data_type, "StringValue": value}


# --------------------------------------------------------------------------- Subject


@pytest.mark.parametrize(
    "subject",
    ["line\nbreak", "carriage\rreturn", "bell\x07here", "delete\x7fhere", "tab\there"],
    ids=["line-feed", "carriage-return", "bell", "delete", "tab"],
)
def test_subject_with_a_line_break_or_control_character_is_refused(sns: Any, topic: str, subject: str) -> None:
    # Given a subject with a line break or a control character
    # When it is published
    # Then SNS refuses it as an invalid parameter
    _refused(lambda: sns.publish(TopicArn=topic, Subject=subject, Message="m"))


def test_subject_with_non_ascii_text_is_refused(sns: Any, topic: str) -> None:
    # Given a subject in printable but non-ASCII text
    # When it is published
    # Then SNS refuses it: subjects are ASCII text
    _refused(lambda: sns.publish(TopicArn=topic, Subject="Déploiement échoué", Message="m"))


def test_subject_starting_with_a_space_is_refused(sns: Any, topic: str) -> None:
    # Given a subject whose first character is not a letter, digit or punctuation mark
    # When it is published
    # Then SNS refuses it
    _refused(lambda: sns.publish(TopicArn=topic, Subject=" leading space", Message="m"))


def test_empty_subject_is_refused(sns: Any, topic: str) -> None:
    # Given an empty subject (rather than none)
    # When it is published
    # Then SNS refuses it
    _refused(lambda: sns.publish(TopicArn=topic, Subject="", Message="m"))


def test_subject_of_100_characters_is_accepted_and_101_refused(sns: Any, topic: str) -> None:
    # Given subjects of 100 and 101 printable ASCII characters, punctuation first
    # When each is published
    # Then 100 is accepted (getmoto/moto#1503) and 101 refused
    assert sns.publish(TopicArn=topic, Subject="[" + "a" * 99, Message="m")["MessageId"]
    _refused(lambda: sns.publish(TopicArn=topic, Subject="a" * 101, Message="m"))


# --------------------------------------------------------------------------- MessageStructure=json


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("not json", "invalid JSON"),
        ('["default"]', "not an object"),
        (json.dumps({"email": "e"}), "no default key"),
        (json.dumps({"default": {"text": "d"}}), "default not a string"),
        (json.dumps({"default": "d", "email": 1}), "protocol value not a string"),
        ('{"default": "a", "default": "b"}', "duplicate keys"),
    ],
    ids=[
        "invalid-json",
        "not-an-object",
        "no-default",
        "default-not-a-string",
        "protocol-value-not-a-string",
        "duplicate-keys",
    ],
)
def test_json_structure_without_a_string_default_or_with_bad_values_is_refused_without_subscribers(
    sns: Any, topic: str, message: str, problem: str
) -> None:
    # Given a topic with no subscribers and a json-structured message with a problem
    # When it is published
    # Then SNS refuses it whoever is subscribed: the structure is checked on every Publish
    _refused(lambda: sns.publish(TopicArn=topic, MessageStructure="json", Message=message))


def test_json_structure_may_carry_unknown_keys_of_any_type(sns: Any, topic: str) -> None:
    # Given a json-structured message with a string default and a key no protocol uses
    message = json.dumps({"default": "d", "email": "", "not-a-protocol": {"any": 1}})

    # When it is published
    answer = sns.publish(TopicArn=topic, MessageStructure="json", Message=message)

    # Then SNS accepts it: unknown keys are ignored, empty protocol values allowed
    assert answer["MessageId"]


# --------------------------------------------------------------------------- size


def test_empty_message_is_refused(sns: Any, topic: str) -> None:
    # Given an empty message
    # When it is published
    # Then SNS refuses it
    _refused(lambda: sns.publish(TopicArn=topic, Message=""))


def test_message_size_counts_utf8_bytes_not_characters(sns: Any, topic: str) -> None:
    # Given a message of 131,073 two-byte characters (262,146 bytes, far fewer characters than the limit)
    message = "é" * (sns_api.MESSAGE_LIMIT // 2 + 1)

    # When it is published
    # Then SNS refuses it: the limit is 262,144 bytes
    _refused(lambda: sns.publish(TopicArn=topic, Message=message))
    # and a message of exactly 262,144 bytes is accepted
    assert sns.publish(TopicArn=topic, Message="é" * (sns_api.MESSAGE_LIMIT // 2))["MessageId"]


def test_message_attributes_count_towards_the_size_limit(sns: Any, topic: str) -> None:
    # Given a body that fits alone, and one attribute whose name, type and value take 19 bytes
    attributes = {"name": _attribute("value-six")}  # "name" + "String" + "value-six": 4 + 6 + 9 bytes
    fits = "a" * (sns_api.MESSAGE_LIMIT - 19)

    # When the body plus the attribute is exactly the limit, and one byte over
    # Then the first is accepted and the second refused
    assert sns.publish(TopicArn=topic, Message=fits, MessageAttributes=attributes)["MessageId"]
    _refused(lambda: sns.publish(TopicArn=topic, Message=fits + "a", MessageAttributes=attributes))


def test_topic_maximum_message_size_lowers_the_limit(sns: Any) -> None:
    # Given a topic whose MaximumMessageSize is 1,024 bytes
    arn = sns.create_topic(Name="small", Attributes={"MaximumMessageSize": "1024"})["TopicArn"]

    # When 1,024 and 1,025 bytes are published to it
    # Then the first is accepted and the second refused
    assert sns.publish(TopicArn=arn, Message="a" * 1024)["MessageId"]
    _refused(lambda: sns.publish(TopicArn=arn, Message="a" * 1025))


# --------------------------------------------------------------------------- MessageAttributes


def test_attribute_with_an_empty_string_value_is_refused_as_an_invalid_value(sns: Any, topic: str) -> None:
    # Given an attribute whose String value is empty
    # When it is published
    response = _refused(
        lambda: sns.publish(TopicArn=topic, Message="m", MessageAttributes={"a": _attribute("")}),
        "ParameterValueInvalid",
    )

    # Then SNS refuses it with the code the model declares for an invalid value
    assert "non-empty" in response["Error"]["Message"]


@pytest.mark.parametrize("name", ["AWS.x", "aws.x", "Amazon.x", "AMAZON.trace"])
def test_attribute_name_with_a_reserved_prefix_is_refused(sns: Any, topic: str, name: str) -> None:
    # Given an attribute name starting with AWS. or Amazon., in any casing
    # When it is published
    # Then SNS refuses it
    _refused(
        lambda: sns.publish(TopicArn=topic, Message="m", MessageAttributes={name: _attribute("v")}),
        "ParameterValueInvalid",
    )


@pytest.mark.parametrize(
    "name",
    [".lead", "trail.", "two..dots", "sp ace", "colon:", "n" * 257],
    ids=["leading-period", "trailing-period", "double-period", "space", "colon", "257-characters"],
)
def test_attribute_name_outside_the_documented_form_is_refused(sns: Any, topic: str, name: str) -> None:
    # Given an attribute name with a character, a period or a length SNS does not allow
    # When it is published
    # Then SNS refuses it
    _refused(
        lambda: sns.publish(TopicArn=topic, Message="m", MessageAttributes={name: _attribute("v")}),
        "ParameterValueInvalid",
    )


def test_more_than_ten_attributes_are_refused(sns: Any, topic: str) -> None:
    # Given ten attributes, then eleven
    ten = {f"a{i}": _attribute("v") for i in range(10)}
    eleven = {**ten, "a10": _attribute("v")}

    # When each set is published
    # Then ten are accepted and eleven refused
    assert sns.publish(TopicArn=topic, Message="m", MessageAttributes=ten)["MessageId"]
    _refused(lambda: sns.publish(TopicArn=topic, Message="m", MessageAttributes=eleven), "ParameterValueInvalid")


def test_string_array_attribute_must_be_a_json_array(sns: Any, topic: str) -> None:
    # Given a String.Array attribute whose value is not a JSON array
    # When it is published
    # Then SNS refuses it (and a JSON array is accepted)
    _refused(
        lambda: sns.publish(TopicArn=topic, Message="m", MessageAttributes={"a": _attribute("plain", "String.Array")}),
        "ParameterValueInvalid",
    )
    array = _attribute('["x", 1, true]', "String.Array")
    assert sns.publish(TopicArn=topic, Message="m", MessageAttributes={"a": array})["MessageId"]


def test_refusals_are_the_modelled_exceptions(sns: Any, topic: str) -> None:
    # Given one subject refusal and one attribute refusal
    # When boto3 raises them
    # Then each is the exception class botocore's model declares for its code
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=topic, Subject="a\nb", Message="m")
    with pytest.raises(sns.exceptions.InvalidParameterValueException):
        sns.publish(TopicArn=topic, Message="m", MessageAttributes={"AWS.x": _attribute("v")})


# --------------------------------------------------------------------------- the function's notifications


def test_the_functions_notification_for_a_hostile_result_passes_the_strict_checks(aws: AwsEmulator) -> None:
    # Given a topic with an SQS subscriber, and a result whose untrusted text is as long as the function's
    # event parser lets it be (names 255 characters, texts 1,024) and made of what costs most once escaped
    # (astral characters, bidirectional overrides, controls, line breaks)
    sns = boto3.client("sns", config=NO_RETRIES)
    sqs = boto3.client("sqs")
    arn = sns.create_topic(Name="outcomes")["TopicArn"]
    queue = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    hostile = '\u00e9\u4e2d\U0001f525\u202e\n\r\t\x07\x00\u2028\\"'
    alarm_name = (" " + hostile * 30)[:255]
    trigger = {
        "type": "alarm",
        "eventId": (hostile * 30)[:255],
        "alarmName": alarm_name,
        "alarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{alarm_name}",
        "state": "ALARM",
        "stateReason": (hostile * 100)[:1024],
        "stateChangedAt": "2024-03-01T09:30:15.123000+00:00",
    }
    result = Result(
        outcome=Outcome.ROLLBACK_STARTED,
        reason="rollback-started",
        trigger=trigger,
        auto_scaling_group_name=("web-\u00e9-" + hostile * 30)[:255],
        instance_refresh_id="refresh-1",
        refresh_status="InProgress",
        severity=Severity.HIGH,
        summary=f"Alarm '{alarm_name}' went to ALARM at 2024-03-01T09:30:15.123000+00:00.\nSecond line\r\n",
    )

    # When the function's notifier publishes it over HTTP to the strict emulator
    message_id = Notifier(arn, account=ACCOUNT_ID, region=REGION, sns=sns).publish(result)

    # Then SNS accepts it, and the subscriber receives a subject within the rules
    assert message_id
    delivered = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    sns_api.check_subject(delivered["Subject"])
    assert delivered["MessageAttributes"]["outcome"]["Value"] == "ROLLBACK_STARTED"
