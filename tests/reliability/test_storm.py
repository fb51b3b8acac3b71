"""An alarm storm from several processes: one rollback and one notification per group, no errors."""

from __future__ import annotations

import pytest

from devkit.aws.aws_server import AwsEmulator
from devkit.reliability import storm


@pytest.mark.slow
def test_storm_of_duplicated_alarms_across_many_groups(aws_session: AwsEmulator) -> None:
    # Given 24 opted-in groups (18 mid-refresh) and one that is not opted in
    # When 300 alarm events (6 alarms per group, each delivered twice) arrive from 4 processes at once
    check = storm.storm(aws_session)

    # Then exactly one rollback and one ROLLBACK_STARTED per group mid-refresh, none elsewhere, no error
    assert check.held, check.observed


@pytest.mark.slow
def test_a_storm_under_aws_request_rates_is_throttled_but_never_fails(aws_session: AwsEmulator) -> None:
    # Given the emulator enforces AWS's request rates (Auto Scaling's one account-wide bucket among them)
    # When 54 alarm events (3 alarms per group, each delivered twice) arrive from 4 processes at once
    check = storm.storm_under_aws_rates(aws_session)
    # Then AWS throttled the storm, and still exactly one rollback per group mid-refresh, no failed invocation,
    # and each event read what one alarm event reads (botocore's retries are not new calls)
    assert check.held, check.observed
