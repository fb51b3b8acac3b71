"""Promises 1, 2 and 4 when the invocation dies after each step, then is redelivered with a duplicate."""

from __future__ import annotations

import pytest

from devkit.aws.aws_server import AwsEmulator
from devkit.reliability import crashes


@pytest.mark.parametrize("point", crashes.CRASH_POINTS, ids=[point.label for point in crashes.CRASH_POINTS])
def test_crash_after_each_step_then_redelivery(aws_session: AwsEmulator, point: crashes.CrashPoint) -> None:
    # Given an invocation that dies right after the step (its records expire with its 2.5 s time limit)
    # When the same event and a duplicate from another alarm arrive, in either order, then the event again
    check = crashes.run_crash(aws_session, point, duplicate_first=crashes.CRASH_POINTS.index(point) % 2 == 1)

    # Then one rollback was made and ROLLBACK_STARTED reached SNS at least once
    assert check.held, check.observed
