"""The service models the function ships are the pinned botocore's, for the calls it makes (``make models``)."""

from __future__ import annotations

import json
import re

from botocore import xform_name

from auto_rollback.aws import MODELS_DIR, aws_session
from scripts import models


def test_the_shipped_models_are_the_pinned_botocores_without_documentation() -> None:
    # Given the models in lambda/auto_rollback/models and the botocore of constraints.txt
    # When they are compared, then they are the same: a botocore upgrade cannot leave them stale
    assert models.main(["--check"]) == 0


def test_stripping_keeps_everything_but_documentation() -> None:
    shape = {"type": "structure", "documentation": "<p>x</p>", "members": {"A": {"shape": "S", "documentation": "y"}}}
    assert models.stripped(shape) == {"type": "structure", "members": {"A": {"shape": "S"}}}


def test_the_shipped_model_declares_one_protocol_that_every_botocore_speaks_alike() -> None:
    # Given the shipped CloudWatch model (botocore's own lists smithy-rpc-v2-cbor first, which a botocore
    # older than protocol selection would take from "protocol" and fail to speak on every call)
    metadata = json.loads((MODELS_DIR / "cloudwatch" / "2010-08-01" / "service-2.json").read_text())["metadata"]
    # Then it names json alone, in both fields, and the function's client speaks json, as the tests do
    assert (metadata["protocol"], metadata["protocols"]) == ("json", ["json"])
    client = aws_session().client("cloudwatch", region_name="us-east-1")
    assert client.meta.service_model.resolved_protocol == "json"


def test_the_shipped_model_holds_exactly_the_cloudwatch_calls_the_function_makes() -> None:
    # Given the CloudWatch calls in the function's only CloudWatch caller (client methods and paginators)
    source = (MODELS_DIR.parent / "gateway.py").read_text()
    called = set(re.findall(r"cloudwatch\.(?!get_paginator)([a-z_]+)\(", source))
    called |= set(re.findall(r"cloudwatch\.get_paginator\(\"([a-z_]+)\"\)", source))

    # When the function's client is built from the shipped model
    client = aws_session().client("cloudwatch", region_name="us-east-1")
    offered = {xform_name(name) for name in client.meta.service_model.operation_names}

    # Then it offers those calls and no other: nothing was left out, nothing more is shipped
    assert called == offered == {xform_name(name) for name in models.OPERATIONS["cloudwatch"]}
    assert client.can_paginate("describe_alarms") and client.can_paginate("list_alarm_mute_rules")
