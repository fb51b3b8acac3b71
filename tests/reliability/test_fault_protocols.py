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

from devkit.aws.faults import BOTO3_NAMES, ERRORS, PROTOCOLS, FaultKind, error_code, error_response

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
#: One cheap call per service, with valid parameters, that the injected answer replaces.
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "autoscaling": ("rollback_instance_refresh", {"AutoScalingGroupName": "web-prod"}),
    "cloudwatch": ("describe_alarms", {}),
    "sns": ("publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m"}),
    "dynamodb": ("put_item", {"TableName": "t", "Item": {"id": {"S": "x"}}}),
    "tagging": ("get_resources", {"TagFilters": [{"Key": "auto-rollback:group", "Values": ["web-prod"]}]}),
}
ERROR_KINDS = (FaultKind.THROTTLING, FaultKind.SERVER_ERROR, FaultKind.ACCESS_DENIED)


def _client(service: str) -> Any:
    # Never reaches the network: the hook answers first.
    return boto3.client(
        BOTO3_NAMES.get(service, service),
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


def _publish_attempts(config: Config, code: str, status: int) -> tuple[int, ClientError]:
    """How many attempts a Publish makes when every one is answered with ``code``, and the error."""
    client = boto3.client(
        "sns",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )
    attempts: list[int] = []

    def answer(request: Any, **_: Any) -> Any:
        attempts.append(1)
        return error_response("sns", code, status, request.url)

    client.meta.events.register("before-send.sns.Publish", answer)
    operation, parameters = CALLS["sns"]
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)(**parameters)
    return len(attempts), raised.value


def test_sns_publish_throttling_is_the_common_query_error_and_retried() -> None:
    # Given SNS's model: ThrottledException (Throttled, 429) is declared by the SMS operations only
    model = boto3.client("sns", region_name="us-east-1").meta.service_model
    declaring = {name for name in model.operation_names if "ThrottledException" in _errors(model, name)}
    assert "Publish" not in declaring and declaring

    # When the injected Publish throttling (Throttling, 400) meets a client configured as the function's
    from auto_rollback.aws import CLIENT_CONFIG

    attempts, error = _publish_attempts(CLIENT_CONFIG, *ERRORS["sns"][FaultKind.THROTTLING])

    # Then botocore retries it as throttling, up to its attempt limit
    assert error.response["Error"]["Code"] == "Throttling"
    assert attempts == CLIENT_CONFIG.retries["total_max_attempts"] > 1


def test_sns_kms_throttling_is_declared_by_publish_and_not_retried() -> None:
    # Given the non-retried fault injected only into sns:Publish
    from auto_rollback.aws import CLIENT_CONFIG

    code, status = ERRORS["sns"][FaultKind.NOT_RETRIED]
    model = boto3.client("sns", region_name="us-east-1").meta.service_model

    # When it meets a client configured as the function's
    attempts, error = _publish_attempts(CLIENT_CONFIG, code, status)

    # Then it is an error Publish declares, raised as its modelled class after one attempt
    assert type(error).__name__ in _errors(model, "Publish")
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status == 400
    assert attempts == 1


def _errors(model: Any, operation: str) -> set[str]:
    return {shape.name for shape in model.operation_model(operation).error_shapes}
