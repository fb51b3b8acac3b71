"""The HTTP error answer each service the function calls sends, in the wire protocol botocore speaks to it.

One function, :func:`error_document`, builds it, so the client-side fault injection
(``faults``) and the server-side rate model (``rate_model``) cannot drift apart.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Wire:
    """How one service frames its errors."""

    #: "query" (XML ErrorResponse) or "json" (``__type`` document).
    protocol: str
    #: The namespace of a query service's ErrorResponse.
    xml_namespace: str = ""
    #: The prefix of ``__type`` in a JSON service's errors (its Smithy namespace).
    type_prefix: str = ""
    #: "1.0" or "1.1": the Content-Type botocore expects from a JSON service.
    json_version: str = "1.0"
    #: awsQueryCompatible (CloudWatch): the old query code travels in the x-amzn-query-error header, and
    #: botocore reports that code, not the Smithy shape named in ``__type``.
    query_compatible: bool = False


#: Keyed by the service's SigV4 signing name, except CloudWatch (signs as "monitoring"), keyed
#: "cloudwatch" as the project names it. Protocols are the ones botocore 1.44 resolves for each
#: client (a test in tests/reliability/test_fault_protocols.py compares them).
WIRES: dict[str, Wire] = {
    "autoscaling": Wire("query", xml_namespace="http://autoscaling.amazonaws.com/doc/2011-01-01/"),
    "sns": Wire("query", xml_namespace="http://sns.amazonaws.com/doc/2010-03-31/"),
    "cloudwatch": Wire("json", type_prefix="com.amazonaws.cloudwatch#", query_compatible=True),
    "dynamodb": Wire("json", type_prefix="com.amazonaws.dynamodb.v20120810#"),
    # The model lists smithy-rpc-v2-cbor and json (jsonVersion 1.1); botocore 1.44 resolves json.
    "tagging": Wire("json", type_prefix="com.amazonaws.resourcegroupstaggingapi#", json_version="1.1"),
}

#: CloudWatch's Smithy shape for a query-compatible code, where it is not simply ``<code>Exception``.
CLOUDWATCH_SHAPES = {"InternalServiceError": "InternalServiceFault", "Throttling": "ThrottlingException"}


def error_document(service: str, code: str, status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the answer ``service`` gives for error ``code``."""
    wire = WIRES[service]
    request_id = str(uuid.uuid4())
    fault = "Receiver" if status >= 500 else "Sender"
    headers = {"x-amzn-RequestId": request_id}
    if wire.protocol == "query":
        body = (
            f'<ErrorResponse xmlns="{wire.xml_namespace}"><Error><Type>{fault}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers["Content-Type"] = "text/xml"
        return status, headers, body
    shape = code
    if wire.query_compatible:
        shape = CLOUDWATCH_SHAPES.get(code, f"{code}Exception")
        headers["x-amzn-query-error"] = f"{code};{fault}"
    body = json.dumps({"__type": f"{wire.type_prefix}{shape}", "message": message}).encode()
    headers["Content-Type"] = f"application/x-amz-json-{wire.json_version}"
    return status, headers, body
