"""Promise 3: bad input never changes anything and is refused by name; notifications stay SNS-safe."""

from __future__ import annotations

import pytest

from auto_rollback.events import InvalidEventError
from devkit.aws.aws_server import AwsEmulator
from devkit.reliability import bad_input, lab
from devkit.scenarios.harness import invoke


def test_corpus_of_malformed_and_hostile_events(aws_session: AwsEmulator) -> None:
    # Given a dry-run group mid-refresh (anything accepted by mistake would be seen)
    # When every event of the corpus is delivered
    check = bad_input.bad_inputs(aws_session)

    # Then each is refused with the documented error naming the field, and nothing changed
    assert check.held, check.observed


def test_hypothesis_fuzz_of_generated_events(aws_session: AwsEmulator) -> None:
    # Given the same stage
    # When 2,000 generated events go through the real handler
    check = bad_input.fuzz(aws_session, examples=2000)

    # Then nothing changed and every rejection is the documented error
    assert check.held, check.observed


def test_deeply_nested_event_is_refused_by_name_not_by_recursion(aws_session: AwsEmulator) -> None:
    # Given an event nested far deeper than Python's recursion limit
    event = {
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "detail": bad_input._deep(100_000),
    }

    # When it is delivered
    with lab.stage(aws_session), pytest.raises(InvalidEventError) as raised:
        invoke(event)

    # Then the documented error names the field
    assert raised.value.field == "detail.state"
