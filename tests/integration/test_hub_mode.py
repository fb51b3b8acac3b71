"""Hub mode on the embedded AWS: one function, in the hub account, acting in member accounts through their roles.

The member accounts hold what the StackSet deploys there: the spoke template that
the hub stack embeds, synthesized from the app and created in each account. The
function runs with a session of the hub role, so member trust policies see the
caller AWS would show them, and the emulator refuses what AWS would refuse.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from auto_rollback import hub as hub_module
from auto_rollback.actions import ActionFailedError
from auto_rollback.events import InvalidEventError
from auto_rollback.handler import get_service
from auto_rollback.hub import HubService
from auto_rollback.members import MemberAccessError
from auto_rollback.vocabulary import member_role_name
from devkit.aws import cloudwatch_api, refresh_api
from devkit.aws.aws_server import REGION, AwsEmulator
from devkit.scenarios import organization as org
from devkit.scenarios.calls import CallRecorder, critical_path, tally
from devkit.scenarios.events import alarm_event, from_account, manual_event, refresh_event
from devkit.scenarios.harness import Deployment, configured, invoke


def rollbacks_in(account: str) -> list[refresh_api.CallRecord]:
    return [call for call in refresh_api.calls(refresh_api.ROLLBACK) if call.account_id == account]


def test_an_alarm_in_the_monitoring_account_rolls_back_a_refresh_in_the_workload_account(hub: Any) -> None:
    # Given a workload account's group mid-refresh, and a monitoring account's alarm linked to it by account
    world = hub(ALARM_ACCOUNTS=org.MONITORING)
    world.fleet(org.WORKLOAD)
    link = f"{org.WORKLOAD}/web-prod"
    world.alarm(org.MONITORING, "web-prod-5xx", link=link)
    # When the monitoring account's alarm event reaches the hub
    result = invoke(from_account(alarm_event("web-prod-5xx", tags={"auto-rollback:group": link}), org.MONITORING))
    # Then the workload account's refresh is rolled back, once, with the workload account's own role
    assert (result["outcome"], result["account"]) == ("ROLLBACK_STARTED", org.WORKLOAD)
    assert [call.group_name for call in rollbacks_in(org.WORKLOAD)] == ["web-prod"]
    assert rollbacks_in(org.MONITORING) == []
    assert refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["Status"] == "RollbackInProgress"
    # And the notification names the account, in its body and in an attribute subscribers can filter on
    [message] = world.published()
    assert (message.body["account"], message.attributes["account"]) == (org.WORKLOAD, org.WORKLOAD)


def test_the_link_is_read_from_the_alarm_when_the_event_carries_no_tags(hub: Any) -> None:
    # Given the same link, but alarm tag propagation off in the monitoring account
    world = hub(ALARM_ACCOUNTS=org.MONITORING)
    world.fleet(org.WORKLOAD)
    world.alarm(org.MONITORING, "web-prod-5xx", link=f"{org.WORKLOAD}/web-prod")
    # When its event (without alarmTags) reaches the hub
    result = invoke(from_account(alarm_event("web-prod-5xx"), org.MONITORING))
    # Then the alarm's tags are read in the monitoring account, and the workload refresh is rolled back
    assert (result["outcome"], result["account"]) == ("ROLLBACK_STARTED", org.WORKLOAD)
    assert len(rollbacks_in(org.WORKLOAD)) == 1


def test_a_duplicate_from_the_monitoring_account_is_deduplicated(hub: Any) -> None:
    # Given a rollback already made for a monitoring account's alarm
    world = hub(ALARM_ACCOUNTS=org.MONITORING)
    world.fleet(org.WORKLOAD)
    link = f"{org.WORKLOAD}/web-prod"
    world.alarm(org.MONITORING, "web-prod-5xx", link=link)
    event = from_account(alarm_event("web-prod-5xx", tags={"auto-rollback:group": link}), org.MONITORING)
    invoke(event)
    # When the same event is delivered again
    again = invoke(event)
    # Then no second rollback call is made
    assert again["outcome"] == "DEDUPLICATED"
    assert len(rollbacks_in(org.WORKLOAD)) == 1


def test_equal_group_names_in_two_accounts_are_two_refreshes(hub: Any) -> None:
    # Given a group named web-prod mid-refresh in two member accounts, each with its own alarm
    world = hub()
    world.fleet(org.WORKLOAD)
    world.fleet(org.MONITORING)
    for account in (org.WORKLOAD, org.MONITORING):
        world.alarm(account, "web-prod-5xx", link="web-prod")
    # When each account's alarm event reaches the hub, twice
    outcomes = [
        invoke(from_account(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}), account))["outcome"]
        for account in (org.WORKLOAD, org.MONITORING, org.WORKLOAD, org.MONITORING)
    ]
    # Then each account's refresh is rolled back exactly once: records are kept per account and region
    assert outcomes == ["ROLLBACK_STARTED", "ROLLBACK_STARTED", "DEDUPLICATED", "DEDUPLICATED"]
    assert (len(rollbacks_in(org.WORKLOAD)), len(rollbacks_in(org.MONITORING))) == (1, 1)


def test_a_member_alarm_may_not_link_another_members_group(hub: Any) -> None:
    # Given a workload account's alarm tagged with a group of another member, and no ALARM_ACCOUNTS entry for it
    world = hub(ALARM_ACCOUNTS=org.MONITORING)
    world.fleet(org.MONITORING, "payments")
    link = f"{org.MONITORING}/payments"
    world.alarm(org.WORKLOAD, "payments-5xx", link=link)
    # When its event reaches the hub
    result = invoke(from_account(alarm_event("payments-5xx", tags={"auto-rollback:group": link}), org.WORKLOAD))
    # Then nothing is rolled back: only monitoring accounts may reach across accounts
    assert (result["outcome"], result["reason"]) == ("SKIPPED", "cross-account-link-refused")
    assert org.WORKLOAD in result["summary"] and "ALARM_ACCOUNTS" in result["summary"]
    assert refresh_api.calls(refresh_api.ROLLBACK) == []


def test_a_member_role_that_refuses_the_hub_is_a_published_failure(hub: Any) -> None:
    # Given a member account whose role no longer trusts the hub, with a group mid-refresh
    world = hub()
    world.fleet(org.REFUSING)
    # When that account's refresh reaches a checkpoint and the event reaches the hub
    refresh_id = refresh_api.refreshes("web-prod", account_id=org.REFUSING)[0]["InstanceRefreshId"]
    event = from_account(refresh_event("checkpoint-reached", "web-prod", refresh_id), org.REFUSING)
    # Then the invocation fails (Lambda retries it, then keeps it in the failure destination)
    with pytest.raises(ActionFailedError, match="member-role-refused"):
        invoke(event)
    # And a FAILED outcome names the account, the role and AWS's refusal: never a silent skip
    [message] = world.published()
    assert (message.body["outcome"], message.body["reason"]) == ("FAILED", "member-role-refused")
    assert message.body["account"] == org.REFUSING
    assert f"arn:aws:iam::{org.REFUSING}:role/{member_role_name(REGION)}" in message.body["summary"]
    assert "AccessDenied" in message.body["summary"]
    assert refresh_api.calls(refresh_api.ROLLBACK) == []


def test_an_account_outside_member_accounts_is_refused_without_a_retry(hub: Any) -> None:
    # Given a hub that serves the monitoring and workload accounts only
    world = hub(MEMBER_ACCOUNTS=f"{org.MONITORING},{org.WORKLOAD}")
    world.fleet(org.REFUSING)
    # When an event of another account reaches it
    result = invoke(from_account(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}), org.REFUSING))
    # Then it is answered, not raised (a retry cannot change the answer), and nothing is read or done there
    assert (result["outcome"], result["reason"], result["account"]) == ("SKIPPED", "account-not-served", org.REFUSING)
    assert refresh_api.calls(refresh_api.ROLLBACK) == []
    assert world.published() == []


def test_a_checkpoint_finds_a_monitoring_accounts_alarm_linked_by_account(hub: Any) -> None:
    # Given a workload refresh, and a monitoring account's alarm linked to its group, in ALARM since after it started
    world = hub(ALARM_ACCOUNTS=org.MONITORING)
    world.fleet(org.WORKLOAD)
    started = refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["StartTime"]
    world.alarm(org.MONITORING, "web-prod-latency", link=f"{org.WORKLOAD}/web-prod", state="OK")
    cloudwatch_api.set_state(
        "web-prod-latency", "ALARM", transitioned_at=started + timedelta(seconds=30), account_id=org.MONITORING
    )
    # When the refresh reaches a checkpoint (an alarm already in ALARM sends no new event)
    refresh_id = refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["InstanceRefreshId"]
    result = invoke(from_account(refresh_event("checkpoint-reached", "web-prod", refresh_id), org.WORKLOAD))
    # Then the monitoring account's alarm rolls the refresh back
    assert (result["outcome"], result["account"]) == ("ROLLBACK_STARTED", org.WORKLOAD)
    assert result["details"]["firingAlarm"]["alarmName"] == "web-prod-latency"
    assert org.MONITORING in result["details"]["firingAlarm"]["alarmArn"]


def test_an_operator_rolls_back_a_member_accounts_group_from_the_hub(hub: Any) -> None:
    # Given a workload account's group mid-refresh
    world = hub()
    world.fleet(org.WORKLOAD)
    # When an operator invokes the hub by hand, naming the account
    result = invoke({**manual_event("rollback", "web-prod", reason="bad deploy"), "account": org.WORKLOAD})
    # Then the workload account's refresh is rolled back
    assert (result["outcome"], result["account"]) == ("ROLLBACK_STARTED", org.WORKLOAD)
    assert len(rollbacks_in(org.WORKLOAD)) == 1
    assert len(world.published()) == 1


def test_per_account_mode_refuses_a_manual_invoke_for_another_account(aws: AwsEmulator) -> None:
    # Given the function deployed per account (no member role)
    deployment = Deployment.create()
    # When an operator names another account
    # Then the invoke is refused naming the field, and nothing is done
    with configured(deployment.environment), pytest.raises(InvalidEventError, match="account"):
        invoke({**manual_event("evaluate", "web-prod"), "account": org.WORKLOAD})


def test_a_warm_hub_assumes_each_member_role_once_and_then_reads_as_per_account(hub: Any) -> None:
    # Given a hub whose calls are recorded, and two groups of the workload account mid-refresh
    recorder = CallRecorder()
    recorder.install()
    world = hub()
    world.fleet(org.WORKLOAD)
    world.fleet(org.WORKLOAD, "api")
    for name in ("web-prod-5xx", "api-5xx"):
        world.alarm(org.WORKLOAD, name, link=name.removesuffix("-5xx"))
    # When the first alarm event for that account reaches a new container, and then a second one
    cold, warm = [], []
    for calls, name in ((cold, "web-prod-5xx"), (warm, "api-5xx")):
        tags = {"auto-rollback:group": name.removesuffix("-5xx")}
        with recorder.recording() as recorded:
            assert invoke(from_account(alarm_event(name, tags=tags), org.WORKLOAD))["outcome"] == "ROLLBACK_STARTED"
        calls.extend(recorded)
    # Then the cold event assumed the member role once before its reads, and the warm one not at all
    assert tally(critical_path(cold)) == {**tally(critical_path(warm)), "sts:AssumeRole": 1}
    assert cold[0].name == "sts:AssumeRole"


def test_an_operator_must_name_the_member_account_in_organization_mode(hub: Any) -> None:
    # Given a hub (its own account may have no spoke, so no default account is safe)
    world = hub()
    world.fleet(org.WORKLOAD)
    # When an operator's rollback, evaluate or inventory names no account
    # Then each is refused naming the field, and nothing is done or published
    for event in (manual_event("rollback", "web-prod"), manual_event("evaluate", "web-prod"), {"action": "inventory"}):
        with pytest.raises(InvalidEventError, match="account"):
            invoke(event)
    assert refresh_api.calls(refresh_api.ROLLBACK) == []
    assert world.published() == []


def test_an_evaluate_in_an_account_whose_role_refuses_is_answered_not_published(hub: Any) -> None:
    # Given a member whose role refuses the hub
    world = hub()
    # When an operator evaluates one of its groups
    # Then the answer is the refusal itself, and no FAILED message pages anyone for a read-only question
    with pytest.raises(MemberAccessError, match="AccessDenied"):
        invoke({**manual_event("evaluate", "web-prod"), "account": org.REFUSING})
    assert world.published() == []


def test_a_rollback_in_an_account_whose_role_refuses_names_the_group(hub: Any) -> None:
    # Given a member whose role refuses the hub
    world = hub()
    # When an operator asks for a rollback there
    with pytest.raises(ActionFailedError):
        invoke({**manual_event("rollback", "web-prod"), "account": org.REFUSING})
    # Then the published FAILED names the group and the account
    [message] = world.published()
    assert (message.body["autoScalingGroupName"], message.body["account"]) == ("web-prod", org.REFUSING)


def test_a_refusing_monitoring_account_does_not_fail_other_accounts_checkpoints(hub: Any) -> None:
    # Given the refusing member listed as a monitoring account, and a healthy workload refresh at a checkpoint
    world = hub(ALARM_ACCOUNTS=f"{org.MONITORING},{org.REFUSING}")
    world.fleet(org.WORKLOAD)
    refresh_id = refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["InstanceRefreshId"]
    # When the checkpoint event reaches the hub
    result = invoke(from_account(refresh_event("checkpoint-reached", "web-prod", refresh_id), org.WORKLOAD))
    # Then the workload's checkpoint is decided (no alarm in ALARM), not failed for the other account's role
    assert (result["outcome"], result["account"]) == ("SKIPPED", org.WORKLOAD)
    assert world.published() == []


def test_an_alarm_tagged_with_the_groups_own_account_is_found_at_a_checkpoint(hub: Any) -> None:
    # Given a workload alarm tagged with the account-qualified link to its own account's group
    world = hub()
    world.fleet(org.WORKLOAD)
    started = refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["StartTime"]
    world.alarm(org.WORKLOAD, "web-prod-5xx", link=f"{org.WORKLOAD}/web-prod", state="OK")
    cloudwatch_api.set_state(
        "web-prod-5xx", "ALARM", transitioned_at=started + timedelta(seconds=30), account_id=org.WORKLOAD
    )
    # When the refresh reaches a checkpoint
    refresh_id = refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["InstanceRefreshId"]
    result = invoke(from_account(refresh_event("checkpoint-reached", "web-prod", refresh_id), org.WORKLOAD))
    # Then the alarm is found (both spellings of the link, in one GetResources call), and acts
    assert result["outcome"] == "ROLLBACK_STARTED"


def test_a_session_whose_role_changed_is_dropped_and_the_retry_is_a_published_refusal(hub: Any) -> None:
    # Given a warm hub that has served the workload account, whose role then stops trusting the hub
    world = hub()
    world.fleet(org.WORKLOAD)
    world.fleet(org.WORKLOAD, "api")
    invoke({**manual_event("evaluate", "web-prod"), "account": org.WORKLOAD})
    org.refuse_hub(org.WORKLOAD)
    hub_service = get_service()
    assert isinstance(hub_service, HubService)
    # When its cached credentials are refused (as AWS refuses those of a deleted or changed role)
    hub_service.service_for(org.WORKLOAD).gateway.autoscaling.meta.events.register(
        "before-call.auto-scaling.*", _refuse_as_a_deleted_roles_credentials
    )
    with pytest.raises(ActionFailedError, match="member-access-denied") as first:
        invoke({**manual_event("rollback", "api"), "account": org.WORKLOAD})
    # Then that attempt fails, published, naming AWS's refusal; the session is dropped, and Lambda's retry
    # assumes the role afresh: a published member-role-refused
    assert isinstance(first.value.__cause__, ClientError)
    with pytest.raises(ActionFailedError, match="member-role-refused"):
        invoke({**manual_event("rollback", "api"), "account": org.WORKLOAD})
    assert [(m.body["reason"], m.body["account"]) for m in world.published()] == [
        ("member-access-denied", org.WORKLOAD),
        ("member-role-refused", org.WORKLOAD),
    ]
    assert refresh_api.calls(refresh_api.ROLLBACK) == []


def _refuse_as_a_deleted_roles_credentials(**_: Any) -> tuple[Any, dict[str, Any]]:
    """botocore's before-call hook short-circuits the call with this answer: what AWS says to a dead session."""
    error = {
        "Error": {"Code": "InvalidClientTokenId", "Message": "The security token included in the request is invalid."}
    }
    return (type("Response", (), {"status_code": 403, "headers": {}})(), error)


def test_a_hub_keeps_a_bounded_number_of_member_sessions(hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a hub that keeps at most one member session
    monkeypatch.setattr(hub_module, "MAX_CACHED_ACCOUNTS", 1)
    hub()
    hub_service = get_service()
    assert isinstance(hub_service, HubService)
    # When two accounts are served, one after the other, and the first again
    first = hub_service.service_for(org.WORKLOAD)
    hub_service.service_for(org.MONITORING)
    again = hub_service.service_for(org.WORKLOAD)
    # Then only the most recently used is kept, and the first one's session was opened anew
    assert list(hub_service._services) == [org.WORKLOAD]
    assert again is not first


def test_a_hub_chat_message_gives_the_evaluate_command_with_the_account(hub: Any) -> None:
    # Given a rollback of a member account's group published by the hub
    from auto_rollback.chat import build_chat_message
    from auto_rollback.outcomes import Result
    from auto_rollback.vocabulary import Outcome

    result = Result(
        outcome=Outcome.ROLLBACK_STARTED,
        reason="x",
        trigger={"type": "manual"},
        auto_scaling_group_name="web",
        account=org.WORKLOAD,
    )
    # When its chat copy is built
    message = build_chat_message(result, account=org.WORKLOAD, region=REGION, function_name="auto-rollback")
    # Then the paste-ready evaluate names the account, which the hub requires
    assert f'"account":"{org.WORKLOAD}"' in message["content"]["nextSteps"][-1]


def _kill_session(client: Any) -> None:
    """Every later call of this client is answered as AWS answers a session whose role was deleted or re-created."""
    client.meta.events.register("before-call.*.*", _refuse_as_a_deleted_roles_credentials)


def test_a_dead_monitoring_session_is_passed_over_at_checkpoints_and_blamed_on_no_one_else(hub: Any) -> None:
    # Given a warm hub holding a session of the monitoring account that AWS now refuses
    world = hub(ALARM_ACCOUNTS=org.MONITORING)
    world.fleet(org.WORKLOAD)
    hub_service = get_service()
    assert isinstance(hub_service, HubService)
    monitoring = hub_service.service_for(org.MONITORING)
    _kill_session(monitoring.gateway.tagging)
    # When a workload refresh reaches a checkpoint
    refresh_id = refresh_api.refreshes("web-prod", account_id=org.WORKLOAD)[0]["InstanceRefreshId"]
    result = invoke(from_account(refresh_event("checkpoint-reached", "web-prod", refresh_id), org.WORKLOAD))
    # Then the checkpoint is decided, saying whose alarms it could not read, and nothing pages the workload
    assert (result["outcome"], result["details"]["unreadAlarmAccounts"]) == ("SKIPPED", [org.MONITORING])
    assert org.MONITORING in result["summary"]
    assert world.published() == []
    # And the dead monitoring session is dropped, the workload's kept
    assert org.MONITORING not in hub_service._services and org.WORKLOAD in hub_service._services


def test_a_dead_workload_session_on_a_monitoring_alarm_is_a_failed_blamed_on_the_workload(hub: Any) -> None:
    # Given a warm hub holding a workload session that AWS now refuses, and a monitoring alarm linking its group
    world = hub(ALARM_ACCOUNTS=org.MONITORING)
    world.fleet(org.WORKLOAD)
    link = f"{org.WORKLOAD}/web-prod"
    world.alarm(org.MONITORING, "web-prod-5xx", link=link)
    hub_service = get_service()
    assert isinstance(hub_service, HubService)
    _kill_session(hub_service.service_for(org.WORKLOAD).gateway.autoscaling)
    # When the monitoring alarm's event reaches the hub
    event = from_account(alarm_event("web-prod-5xx", tags={"auto-rollback:group": link}), org.MONITORING)
    with pytest.raises(ActionFailedError, match="member-access-denied"):
        invoke(event)
    # Then the FAILED names the workload account and group, its session is dropped, the monitoring one kept
    [message] = world.published()
    assert (message.body["account"], message.body["autoScalingGroupName"]) == (org.WORKLOAD, "web-prod")
    assert org.WORKLOAD not in hub_service._services and org.MONITORING in hub_service._services
    # And Lambda's retry, on a fresh session, rolls the refresh back
    assert invoke(event)["outcome"] == "ROLLBACK_STARTED"


def test_a_read_refused_during_an_alarm_event_is_published(hub: Any) -> None:
    # Given a warm hub whose workload session AWS now refuses, and the workload's own alarm
    world = hub()
    world.fleet(org.WORKLOAD)
    world.alarm(org.WORKLOAD, "web-prod-5xx", link="web-prod")
    hub_service = get_service()
    assert isinstance(hub_service, HubService)
    _kill_session(hub_service.service_for(org.WORKLOAD).gateway.autoscaling)
    # When the alarm's event reaches the hub
    event = from_account(alarm_event("web-prod-5xx", tags={"auto-rollback:group": "web-prod"}), org.WORKLOAD)
    with pytest.raises(ActionFailedError, match="member-access-denied"):
        invoke(event)
    # Then a FAILED names the account, as at a checkpoint: never a silent failure
    [message] = world.published()
    assert (message.body["reason"], message.body["account"]) == ("member-access-denied", org.WORKLOAD)


def test_a_refusal_of_the_hubs_own_table_is_not_blamed_on_a_member(hub: Any) -> None:
    # Given a warm hub whose own idempotency table refuses it (an edited hub role, say)
    world = hub()
    world.fleet(org.WORKLOAD)
    hub_service = get_service()
    assert isinstance(hub_service, HubService)
    hub_service.service_for(org.WORKLOAD)
    hub_service._dynamodb.meta.events.register("before-call.dynamodb.*", _refuse_the_hubs_table)
    # When an operator's rollback needs a record
    with pytest.raises(Exception) as raised:
        invoke({**manual_event("rollback", "web-prod"), "account": org.WORKLOAD})
    # Then nothing says the member's role refused, and the member's session is kept
    assert "member-access-denied" not in str(raised.value)
    assert all(message.body["reason"] != "member-access-denied" for message in world.published())
    assert org.WORKLOAD in hub_service._services


def _refuse_the_hubs_table(**_: Any) -> tuple[Any, dict[str, Any]]:
    error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: dynamodb:PutItem"}}
    return (type("Response", (), {"status_code": 400, "headers": {}})(), error)


def test_an_expired_member_session_is_assumed_again_at_once_without_paging(hub: Any) -> None:
    # Given a warm hub whose workload session has expired (botocore refreshes early, but a session can outlive it)
    from devkit.aws import sts_api

    world = hub()
    world.fleet(org.WORKLOAD)
    invoke({**manual_event("evaluate", "web-prod"), "account": org.WORKLOAD})
    assert sts_api.expire_all(f"arn:aws:iam::{org.WORKLOAD}:role/{member_role_name(REGION)}") >= 1
    # When an operator's rollback arrives
    result = invoke({**manual_event("rollback", "web-prod", reason="bad deploy"), "account": org.WORKLOAD})
    # Then the role is assumed again within the invocation and the refresh rolled back: nothing wrong was paged
    assert result["outcome"] == "ROLLBACK_STARTED"
    assert [message.body["outcome"] for message in world.published()] == ["ROLLBACK_STARTED"]
