"""A result is built once, from a draft, when the decision is made."""

from __future__ import annotations

from auto_rollback.outcomes import Draft, Result
from auto_rollback.vocabulary import ALREADY_HANDLED, NO_ACTIVE_REFRESH, Outcome, Severity


def test_a_decided_draft_keeps_everything_read_and_adds_what_was_decided() -> None:
    # Given a draft of what was read about a group
    draft = Draft({"type": "alarm"}, auto_scaling_group_name="web", instance_refresh_id="r-1", account="333333333333")

    # When the decision is made
    result = draft.decided(Outcome.SKIPPED, NO_ACTIVE_REFRESH, severity=Severity.MEDIUM)

    # Then the result carries both, and says it in the documented shape
    assert result.to_dict() == {
        "outcome": "SKIPPED",
        "reason": NO_ACTIVE_REFRESH,
        "autoScalingGroupName": "web",
        "instanceRefreshId": "r-1",
        "refreshStatus": None,
        "dryRun": False,
        "severity": "medium",
        "summary": "",
        "trigger": {"type": "alarm"},
        "account": "333333333333",
    }


def test_deciding_a_result_again_replaces_the_decision_instead_of_failing() -> None:
    # Given a result (a Result is a decided Draft, so it can be passed where a draft is expected)
    result = Draft({"type": "manual"}, auto_scaling_group_name="web").decided(Outcome.SKIPPED, NO_ACTIVE_REFRESH)

    # When it is decided again
    again = result.decided(Outcome.DEDUPLICATED, ALREADY_HANDLED)

    # Then the new decision replaces the old one, and what was read is kept
    assert (again.outcome, again.reason, again.auto_scaling_group_name) == (
        Outcome.DEDUPLICATED,
        ALREADY_HANDLED,
        "web",
    )


def test_a_result_read_back_from_its_record_equals_the_one_stored() -> None:
    # Given a decided result, as the idempotency record stores it
    result = Draft({"type": "alarm"}, auto_scaling_group_name="web", details={"warnings": ["x"]}).decided(
        Outcome.ROLLBACK_STARTED, "alarm", severity=Severity.HIGH
    )

    # When it is rebuilt from its stored form
    # Then it is the same result
    assert Result.from_dict(result.to_dict()) == result
