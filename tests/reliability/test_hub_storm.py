"""Organization mode: the promises per member account, under a storm and with a member whose role refuses."""

from __future__ import annotations

import pytest

from devkit.aws.aws_server import AwsEmulator
from devkit.reliability import hub


@pytest.mark.slow
def test_a_storm_across_member_accounts_rolls_back_each_refresh_once_in_its_own_account(
    aws_session: AwsEmulator,
) -> None:
    # Given a hub serving a workload and a monitoring account, each with opted-in groups mid-refresh, three group
    # names in both accounts, and a monitoring alarm linking a workload group as <account>/<group>
    # When every alarm event is delivered twice, interleaved, from 4 processes (failed invocations retried)
    check = hub.hub_storm(aws_session)

    # Then each refresh is rolled back exactly once, in its own account; ROLLBACK_STARTED names that account;
    # no group of the wrong account is touched; and no invocation fails for good
    assert check.held, check.observed


@pytest.mark.slow
def test_a_member_whose_role_refuses_the_hub_fails_loudly_on_every_attempt_and_alone(
    aws_session: AwsEmulator,
) -> None:
    # Given a member whose role refuses the hub, with a group mid-refresh, and two other members likewise
    # When its alarm and checkpoint events arrive in one batch with the other members' alarms
    check = hub.refusing_member(aws_session)

    # Then each attempt of its events fails with a published FAILED member-role-refused naming the account and the
    # role, the failure destination keeps them after Lambda's retries, nothing is rolled back there, and the other
    # accounts' refreshes are rolled back at their first attempt
    assert check.held, check.observed
    assert check.faults == 2 * hub.ATTEMPTS
