"""Promises 1, 2 and 4 under a fault in every AWS call the function makes (docs/RELIABILITY.md)."""

from __future__ import annotations

import pytest

from devkit.aws.aws_server import AwsEmulator
from devkit.aws.faults import FaultKind
from devkit.reliability import fault_matrix


@pytest.mark.parametrize(
    ("call", "kind"), fault_matrix.CELLS, ids=[f"{call.label}-{kind.name.lower()}" for call, kind in fault_matrix.CELLS]
)
def test_fault_in_every_call_keeps_the_promises(
    aws_session: AwsEmulator, call: fault_matrix.Call, kind: FaultKind
) -> None:
    # Given an opted-in group mid-refresh and an alarm linked to it
    # When the call fails once with the fault (and the event is redelivered if the invocation failed)
    check = fault_matrix.run_cell(aws_session, call, kind)

    # Then the written-down behaviour happened: one change, its outcome published, later deliveries deduplicated
    assert check.held, check.observed
    assert check.observed.startswith(fault_matrix.expected_behaviour(call, kind))
