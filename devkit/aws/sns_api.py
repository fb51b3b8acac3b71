"""SNS Publish for moto, as strict as AWS documents it.

moto 5.2.5 accepts Publish requests that SNS refuses: a Subject with line breaks,
control characters or non-ASCII text, or an empty one; ``MessageStructure=json``
with no valid JSON, no string ``default`` or duplicate keys, checked only when the
topic has subscribers (and then only the subscriber's protocol key); a message of
262,144 *characters* however many bytes they take, with its attributes not
counted; more than 10 attributes, reserved or malformed attribute names. The
function publishes with ``Subject``, ``MessageStructure=json`` and
``MessageAttributes`` (lambda/auto_rollback/notification.py), so a notification
moto delivers might be one SNS refuses. :func:`install` wraps moto's Publish
handler with the checks below, made before moto sees the request, following
botocore's model (Publish's documentation) and the SNS developer guide
(message attributes):

* ``Subject``: 1 to 100 characters (moto allows exactly 100, getmoto/moto#1503,
  and so does this), ASCII, starting with a letter, digit or punctuation mark, no
  line breaks or control characters.
* ``MessageStructure``: only ``json``. The message must be a JSON object without
  duplicate keys, with a top-level ``default`` whose value is a string; every key
  naming a delivery protocol or push platform must have a string value. Checked
  whether or not the topic has subscribers.
* ``Message``: not empty; its UTF-8 bytes plus every attribute's name, type and
  value bytes at most 262,144, or the topic's ``MaximumMessageSize`` if lower.
* ``MessageAttributes``: at most 10; names of 1 to 256 characters from
  ``A-Za-z0-9_-.``, not starting or ending with a period, no ``..``, not starting
  with ``AWS.`` or ``Amazon.`` in any casing; types ``String``, ``String.Array``,
  ``Number`` or ``Binary`` (optionally with a ``.label``), at most 256 bytes;
  values never empty, ``String.Array`` values JSON arrays.

Errors are SNS's own, in its query XML protocol, HTTP 400: ``InvalidParameter``
(``InvalidParameterException``) for the subject, structure and size,
``ParameterValueInvalid`` (``InvalidParameterValueException``, the code the model
declares for it) for message attributes.

Deliberate simplifications, each stricter than or equal to AWS as documented:

* The Subject must be ASCII, as the SNS API reference and the Prometheus SNS
  receiver's guide say; botocore's model now says "UTF-8 text". The stricter
  reading wins.
* More than 10 attributes are refused at Publish. The current developer guide
  only says that a raw-delivery SQS subscription drops such a message; older
  guides limited every message to 10. The function sends 3.
* Every protocol key must have a string value; the model also says a non-string
  value makes SNS ignore the key, but also that failing to validate any key fails
  the call. Refusing is the stricter reading.
* ``MaximumMessageSize`` above 262,144 is not honoured (the 256 KiB limit stays).
* Number values are checked only as moto checks them; SMS and FIFO rules are
  moto's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.sns.exceptions import SNSNotFoundError
from moto.sns.responses import SNSResponse

from devkit.aws.patch import install_handlers

SUBJECT_LIMIT = 100  # moto allows 100 (getmoto/moto#1503); AWS documents "less than 100"
MESSAGE_LIMIT = 262_144  # bytes: message body plus attribute names, types and values
ATTRIBUTE_COUNT_LIMIT = 10
ATTRIBUTE_NAME_LIMIT = 256
ATTRIBUTE_TYPE_LIMIT = 256  # bytes
#: Top-level keys of a json-structured message that name a delivery protocol or a push platform.
PROTOCOL_KEYS = frozenset(
    {
        "default",
        "email",
        "email-json",
        "http",
        "https",
        "sqs",
        "sms",
        "lambda",
        "firehose",
        "application",
        "APNS",
        "APNS_SANDBOX",
        "APNS_VOIP",
        "APNS_VOIP_SANDBOX",
        "MACOS",
        "MACOS_SANDBOX",
        "GCM",
        "ADM",
        "BAIDU",
        "MPNS",
        "WNS",
    }
)
ATTRIBUTE_TYPES = frozenset({"String", "String.Array", "Number", "Binary"})

#: Printable ASCII: a letter, digit or punctuation mark first, then also spaces.
_SUBJECT = re.compile(r"[!-~][ -~]*")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_RESERVED_PREFIX = re.compile(r"(?i)(aws|amazon)\.")


class InvalidParameter(ServiceException):
    """``InvalidParameterException`` in botocore's model: code InvalidParameter, HTTP 400."""

    code = "InvalidParameter"


class InvalidParameterValue(ServiceException):
    """``InvalidParameterValueException`` in botocore's model: code ParameterValueInvalid, HTTP 400."""

    code = "ParameterValueInvalid"


# --------------------------------------------------------------------------- checks


def check_subject(subject: str | None) -> None:
    if subject is None:
        return
    if not subject:
        raise InvalidParameter("Invalid parameter: Subject")
    if len(subject) > SUBJECT_LIMIT:
        raise InvalidParameter("Invalid parameter: Subject must be less than 100 characters")
    if not _SUBJECT.fullmatch(subject):
        raise InvalidParameter(
            "Invalid parameter: Subject must be ASCII text that begins with a letter, number or punctuation "
            "mark, with no line breaks or control characters"
        )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise InvalidParameter(f"Invalid parameter: Message Structure - duplicate keys {duplicates}")
    return dict(pairs)


def check_structure(structure: str | None, message: str) -> None:
    if structure is None:
        return
    if structure != "json":
        raise InvalidParameter("Invalid parameter: MessageStructure must be 'json' if provided")
    try:
        parsed = json.loads(message, object_pairs_hook=_no_duplicates)
    except ValueError:
        raise InvalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse") from None
    if not isinstance(parsed, dict):
        raise InvalidParameter("Invalid parameter: Message Structure - JSON message body must be an object")
    if not isinstance(parsed.get("default"), str):
        raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
    wrong = sorted(key for key, value in parsed.items() if key in PROTOCOL_KEYS and not isinstance(value, str))
    if wrong:
        raise InvalidParameter(f"Invalid parameter: Message Structure - {wrong} must have string values")


def _value_bytes(value: dict[str, Any]) -> bytes | None:
    if value.get("StringValue") is not None:
        return str(value["StringValue"]).encode("utf-8")
    binary = value.get("BinaryValue")
    if binary is None:
        return None
    return binary if isinstance(binary, bytes) else str(binary).encode("utf-8")


def check_attributes(attributes: dict[str, Any]) -> int:
    """Validate the attributes; their size in bytes (names, types and values)."""
    if len(attributes) > ATTRIBUTE_COUNT_LIMIT:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{ATTRIBUTE_COUNT_LIMIT}]."
        )
    size = 0
    for name, value in attributes.items():
        if (
            not name
            or len(name) > ATTRIBUTE_NAME_LIMIT
            or not _ATTRIBUTE_NAME.fullmatch(name)
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise InvalidParameterValue(f"The message attribute name '{name}' is invalid.")
        if _RESERVED_PREFIX.match(name):
            raise InvalidParameterValue(f"The message attribute name '{name}' starts with a reserved prefix.")
        data_type = str(value.get("DataType") or "")
        if not data_type or len(data_type.encode("utf-8")) > ATTRIBUTE_TYPE_LIMIT:
            raise InvalidParameterValue(f"The message attribute '{name}' has an invalid message attribute type.")
        base = data_type if data_type in ATTRIBUTE_TYPES else data_type.split(".", maxsplit=1)[0]
        if base not in ATTRIBUTE_TYPES:
            raise InvalidParameterValue(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported "
                "type prefixes is Binary, Number, and String."
            )
        data = _value_bytes(value)
        if not data:
            raise InvalidParameterValue(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{base}'."
            )
        if data_type == "String.Array":
            try:
                array = json.loads(data)
            except ValueError:
                array = None
            if not isinstance(array, list):
                raise InvalidParameterValue(f"The message attribute '{name}' with type 'String.Array' is not an array.")
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8")) + len(data)
    return size


def _limit(response: SNSResponse, arn: str | None) -> int:
    if not arn:
        return MESSAGE_LIMIT
    try:
        topic = response.backend.get_topic(arn)
    except SNSNotFoundError:
        return MESSAGE_LIMIT
    configured = getattr(topic, "maximum_message_size", None)
    try:
        return min(MESSAGE_LIMIT, int(configured)) if configured not in (None, "") else MESSAGE_LIMIT
    except (TypeError, ValueError):
        return MESSAGE_LIMIT


def check_publish(response: SNSResponse) -> None:
    """Refuse what SNS refuses, as SNS does; return normally when moto may handle the request."""
    message = response._get_param("Message")
    attributes: dict[str, Any] = dict(response._get_param("MessageAttributes") or {})
    check_subject(response._get_param("Subject"))
    if not message:
        raise InvalidParameter("Invalid parameter: Empty message")
    check_structure(response._get_param("MessageStructure"), message)
    size = len(message.encode("utf-8")) + check_attributes(attributes)
    if response._get_param("PhoneNumber") is None:  # SMS has moto's own limit
        limit = _limit(response, response._get_param("TopicArn") or response._get_param("TargetArn"))
        if size > limit:
            raise InvalidParameter(
                f"Invalid parameter: Message too long: {size} bytes with attributes, the limit is {limit}"
            )


# --------------------------------------------------------------------------- install


_moto_publish: Callable[[SNSResponse], ActionResult] = SNSResponse.publish


def publish(self: SNSResponse) -> ActionResult:
    check_publish(self)
    return _moto_publish(self)


def install() -> None:
    """Serve Publish with SNS's documented checks (idempotent)."""
    install_handlers(SNSResponse, "_strict_publish_emulation", {"publish": publish})
