"""IAM SimulatePrincipalPolicy in the embedded AWS (devkit/aws/iam_simulate.py), answering as botocore's model says."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devkit.aws.aws_server import ACCOUNT_ID, AwsEmulator

TEMPLATE_ARN = f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:launch-template/lt-0123456789abcdef0"
INSTANCE_ARN = f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:instance/*"
RUN_FROM_TEMPLATE = {
    "Effect": "Allow",
    "Action": "ec2:RunInstances",
    "Resource": "*",
    "Condition": {"ArnEquals": {"ec2:LaunchTemplate": TEMPLATE_ARN}},
}


def _iam() -> Any:
    # No retries: PolicyEvaluation is a 500, which botocore would otherwise retry.
    return boto3.client("iam", config=Config(retries={"total_max_attempts": 1}))


def _role(*statements: dict[str, Any], name: str = "fn-role") -> str:
    iam = _iam()
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    if statements:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return arn


def _template_context(arn: str = TEMPLATE_ARN) -> list[dict[str, Any]]:
    return [{"ContextKeyName": "ec2:LaunchTemplate", "ContextKeyValues": [arn], "ContextKeyType": "string"}]


def _decision(role: str, action: str, resource: str, context: list[dict[str, Any]] | None = None) -> str:
    answer = _iam().simulate_principal_policy(
        PolicySourceArn=role, ActionNames=[action], ResourceArns=[resource], ContextEntries=context or []
    )
    (result,) = answer["EvaluationResults"]
    assert result["ResourceSpecificResults"][0]["EvalResourceDecision"] == result["EvalDecision"]
    decision: str = result["EvalDecision"]
    return decision


def test_a_conditioned_allow_is_allowed_only_with_the_context_it_names(aws: AwsEmulator) -> None:
    # Given a role allowed RunInstances from one launch template only
    role = _role(RUN_FROM_TEMPLATE)

    # When IAM simulates RunInstances with that template, another one, and none
    # Then only the first is allowed
    assert _decision(role, "ec2:RunInstances", INSTANCE_ARN, _template_context()) == "allowed"
    assert _decision(role, "ec2:RunInstances", INSTANCE_ARN, _template_context(TEMPLATE_ARN + "1")) == "implicitDeny"
    assert _decision(role, "ec2:RunInstances", INSTANCE_ARN) == "implicitDeny"


def test_a_missing_context_key_is_reported_as_missing(aws: AwsEmulator) -> None:
    # Given a role whose RunInstances statement needs ec2:LaunchTemplate
    role = _role(RUN_FROM_TEMPLATE)

    # When the simulation gives no context
    answer = _iam().simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["ec2:RunInstances"], ResourceArns=[INSTANCE_ARN]
    )

    # Then the key is named as missing, for the result and for its resource
    (result,) = answer["EvaluationResults"]
    assert result["MissingContextValues"] == ["ec2:LaunchTemplate"]
    assert result["ResourceSpecificResults"][0]["MissingContextValues"] == ["ec2:LaunchTemplate"]


def test_condition_key_names_match_whatever_their_case(aws: AwsEmulator) -> None:
    # Given a role whose condition spells the key in lower case
    role = _role({**RUN_FROM_TEMPLATE, "Condition": {"ArnEquals": {"ec2:launchtemplate": TEMPLATE_ARN}}})

    # When the request context spells it as AWS documents it
    # Then it applies, as IAM's key names are case-insensitive
    assert _decision(role, "ec2:RunInstances", INSTANCE_ARN, _template_context()) == "allowed"


def test_an_explicit_deny_wins_over_an_allow(aws: AwsEmulator) -> None:
    # Given a role allowed PassRole on every role but denied it on one
    instance_role = f"arn:aws:iam::{ACCOUNT_ID}:role/admin"
    role = _role(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": instance_role},
    )

    # When IAM simulates passing that role and another one
    # Then the denied one is an explicit deny, the other allowed
    assert _decision(role, "iam:PassRole", instance_role) == "explicitDeny"
    assert _decision(role, "iam:PassRole", f"arn:aws:iam::{ACCOUNT_ID}:role/web") == "allowed"


def test_attached_managed_policies_count_and_a_boundary_caps_them(aws: AwsEmulator) -> None:
    # Given a role with a managed policy allowing CreateTags, and a boundary allowing only RunInstances
    iam = _iam()
    role = _role()
    tags = iam.create_policy(
        PolicyName="tags",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["ec2:CreateTags", "ec2:RunInstances"], "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="fn-role", PolicyArn=tags)
    assert _decision(role, "ec2:CreateTags", INSTANCE_ARN) == "allowed"
    boundary = iam.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="fn-role", PermissionsBoundary=boundary)

    # When IAM simulates both actions
    answer = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["ec2:CreateTags", "ec2:RunInstances"], ResourceArns=[INSTANCE_ARN]
    )

    # Then the boundary denies what it does not allow, and says so
    results = {item["EvalActionName"]: item for item in answer["EvaluationResults"]}
    assert results["ec2:CreateTags"]["EvalDecision"] == "implicitDeny"
    assert results["ec2:CreateTags"]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert results["ec2:RunInstances"]["EvalDecision"] == "allowed"
    assert results["ec2:RunInstances"]["MatchedStatements"] == [
        {"SourcePolicyId": "tags", "SourcePolicyType": "user-managed"}
    ]


def test_results_come_in_pages_of_max_items_resumed_by_marker(aws: AwsEmulator) -> None:
    # Given a role and a simulation of 3 actions on 2 resources
    role = _role(RUN_FROM_TEMPLATE)
    actions = ["ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"]
    resources = [INSTANCE_ARN, TEMPLATE_ARN]

    # When it is asked 4 results at a time
    first = _iam().simulate_principal_policy(
        PolicySourceArn=role, ActionNames=actions, ResourceArns=resources, MaxItems=4
    )
    pages = list(
        _iam()
        .get_paginator("simulate_principal_policy")
        .paginate(PolicySourceArn=role, ActionNames=actions, ResourceArns=resources, PaginationConfig={"PageSize": 4})
    )

    # Then the first page is truncated with a marker, and the pages hold every pair once, in order
    assert first["IsTruncated"] is True and first["Marker"]
    assert [len(page["EvaluationResults"]) for page in pages] == [4, 2]
    assert [
        (item["EvalActionName"], item["EvalResourceName"]) for page in pages for item in page["EvaluationResults"]
    ] == [(action, resource) for action in actions for resource in resources]


@pytest.mark.parametrize(
    ("request_", "code", "status"),
    [
        ({"PolicySourceArn": f"arn:aws:iam::{ACCOUNT_ID}:role/nobody"}, "NoSuchEntity", 404),
        ({"PolicySourceArn": f"arn:aws:s3:::bucket/{'x' * 10}"}, "InvalidInput", 400),
        ({"Marker": "not-a-marker-we-issued"}, "InvalidInput", 400),
        ({"MaxItems": 1001}, "ValidationError", 400),
        ({"ActionNames": ["RunInstances"]}, "InvalidInput", 400),
        ({"PolicyInputList": ["{}"]}, "PolicyEvaluation", 500),
    ],
    ids=["unknown role", "not an IAM ARN", "forged marker", "MaxItems over 1000", "no service prefix", "unevaluated"],
)
def test_bad_requests_are_refused_in_iams_protocol(
    aws: AwsEmulator, request_: dict[str, Any], code: str, status: int
) -> None:
    # Given a role
    role = _role(RUN_FROM_TEMPLATE)

    # When a simulation is asked with one bad part
    with pytest.raises(ClientError) as raised:
        _iam().simulate_principal_policy(**{"PolicySourceArn": role, "ActionNames": ["ec2:RunInstances"], **request_})

    # Then IAM's error code and status come back
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_a_policy_the_evaluator_cannot_read_is_refused_not_guessed(aws: AwsEmulator) -> None:
    # Given a role whose policy uses NotAction
    role = _role({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})

    # When IAM is asked about it
    with pytest.raises(ClientError) as raised:
        _decision(role, "ec2:RunInstances", INSTANCE_ARN)

    # Then the emulation says it does not evaluate it
    assert raised.value.response["Error"]["Code"] == "PolicyEvaluation"
    assert "NotAction" in raised.value.response["Error"]["Message"]
