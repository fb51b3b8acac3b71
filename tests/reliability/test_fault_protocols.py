"""The injected error answers are what each service sends, in the protocol botocore speaks to it.

Each answer is served to a real boto3 client of the service (no retries) from a
``before-send`` hook, as the fault matrix serves it to the function's clients, and
botocore's own parser must read the intended error code and HTTP status from it.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.reliability.faults import ERRORS, PROTOCOLS, FaultKind, error_code, error_response

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
#: One cheap call per service, with valid parameters, that the injected answer replaces.
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "autoscaling": ("rollback_instance_refresh", {"AutoScalingGroupName": "web-prod"}),
    "cloudwatch": ("describe_alarms", {}),
    "sns": ("publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m"}),
    "dynamodb": ("put_item", {"TableName": "t", "Item": {"id": {"S": "x"}}}),
}
ERROR_KINDS = (FaultKind.THROTTLING, FaultKind.SERVER_ERROR, FaultKind.ACCESS_DENIED)


def _client(service: str) -> Any:
    # Never reaches the network: the hook answers first.
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRIES,
    )


@pytest.mark.parametrize("service", sorted(PROTOCOLS))
def test_faults_speak_the_protocol_botocore_chose_for_the_service(service: str) -> None:
    # Given a client as the function builds it (CloudWatch's model offers cbor, json and query)
    client = _client(service)

    # When botocore resolves which protocol it speaks
    resolved = client.meta.service_model.resolved_protocol

    # Then the fault injection answers in that one
    assert PROTOCOLS[service] == resolved


@pytest.mark.parametrize("kind", ERROR_KINDS, ids=[kind.name.lower() for kind in ERROR_KINDS])
@pytest.mark.parametrize("service", sorted(PROTOCOLS))
def test_injected_error_parses_to_its_code_in_botocore(service: str, kind: FaultKind) -> None:
    # Given a client whose request is answered by the injected error
    client = _client(service)
    operation, parameters = CALLS[service]
    code, status = ERRORS[service][kind]

    def answer(request: Any, **_: Any) -> Any:
        return error_response(service, code, status, request.url)

    client.meta.events.register(f"before-send.{client.meta.service_model.service_id.hyphenize()}", answer)

    # When the call is made
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)(**parameters)

    # Then botocore reads AWS's code, the status, and (for 5xx) a server-side fault
    response = raised.value.response
    assert response["Error"]["Code"] == error_code(service, kind)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    if PROTOCOLS[service] == "query" or service == "cloudwatch":
        assert response["Error"]["Type"] == ("Receiver" if status >= 500 else "Sender")


@pytest.mark.parametrize("service", sorted(PROTOCOLS))
def test_injected_5xx_is_the_modelled_exception_where_the_model_has_one(service: str) -> None:
    # Given the model's error shapes of the service
    client = _client(service)
    code, status = ERRORS[service][FaultKind.SERVER_ERROR]
    modelled = {shape.error_code: shape.name for shape in client.meta.service_model.error_shapes}

    def answer(request: Any, **_: Any) -> Any:
        return error_response(service, code, status, request.url)

    client.meta.events.register(f"before-send.{client.meta.service_model.service_id.hyphenize()}", answer)
    operation, parameters = CALLS[service]

    # When the call meets the injected server error
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)(**parameters)

    # Then boto3 raises the service's own exception class for it, as for a real one
    assert code in modelled, f"{service} models no {code}"
    assert type(raised.value).__name__ == modelled[code]
