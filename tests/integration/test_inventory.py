"""The fleet inventory invoke, against the embedded AWS: what it lists, how it pages, what it costs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from auto_rollback.events import InvalidEventError, InventoryCursor
from auto_rollback.inventory import CALL_BUDGET, MAX_GROUPS, PREFIX_PAGES_PER_GROUP
from devkit.scenarios.calls import Call, CallRecorder, tally
from devkit.scenarios.fleet import GOOD_IMAGE_ID, make_alarm, make_group, make_launch_template
from devkit.scenarios.harness import invoke
from scripts.inventory import build_demo_fleet
from tests.conftest import load_event
from tests.integration.conftest import World

READ_ONLY_PREFIXES = ("Describe", "Get", "List")


@pytest.fixture(scope="module")
def recorder() -> CallRecorder:
    recorder = CallRecorder()
    recorder.install()
    return recorder


def _group(answer: dict[str, Any], name: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [group for group in answer["groups"] if group["group"] == name]
    (entry,) = entries
    return entry


def _many_groups(world: World, groups: dict[str, dict[str, str]]) -> None:
    """Groups of no instances (quick to create) on one launch template, with these tags."""
    template = make_launch_template(world.ec2, "shared-lt", image_ids=[GOOD_IMAGE_ID])
    for name, tags in groups.items():
        make_group(world.autoscaling, name, launch_template_id=template.id, version="1", instances=0, tags=tags)


def _follow(first: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every answer, following nextToken as an operator would."""
    answer = first
    while True:
        yield answer
        if answer["complete"]:
            return
        answer = invoke({"action": "inventory", "nextToken": answer["nextToken"]})


def test_the_inventory_lists_every_tagged_group_with_its_mode_alarms_rollback_and_warnings(world: World) -> None:
    # Given the demo fleet of make inventory (one group per situation, and one without the opt-in tag)
    build_demo_fleet(world.ec2, world.autoscaling, world.cloudwatch)

    # When an operator invokes the sample inventory event
    answer = invoke(load_event("manual-inventory.json"))

    # Then every group carrying the auto-rollback tag is listed once, with its mode; the untagged one is not
    modes = {group["group"]: group["mode"] for group in answer["groups"]}
    assert modes == {
        "web-prod": "enabled",
        "api-canary": "dry-run",
        "batch-latest": "enabled",
        "reports": "disabled",
        "worker": "enabled",
        "etl": "enabled",
        "scaler": "dry-run",
        "legacy": "disabled",
    }
    assert answer["complete"] is True and "nextToken" not in answer
    # And its linked alarms, by tag and by prefix, with their states (those in ALARM first)
    assert _group(answer, "web-prod")["alarms"] == {
        "linked": 2,
        "states": {"ALARM": 1, "OK": 1},
        "shown": [
            {"name": "web-prod 5xx", "state": "ALARM", "by": "tag"},
            {"name": "web-prod latency", "state": "OK", "by": "tag"},
        ],
    }
    assert _group(answer, "api-canary")["alarms"]["shown"] == [
        {"name": "api-canary-errors", "state": "OK", "by": "prefix"},
        {"name": "api-canary-latency", "state": "INSUFFICIENT_DATA", "by": "prefix"},
    ]
    # And whether the current or last refresh can be rolled back, in the decision's own reasons
    rollback = {group["group"]: (group["canRollBack"], group["reason"]) for group in answer["groups"]}
    assert rollback == {
        "web-prod": (True, None),
        "api-canary": (True, "group-dry-run"),
        "batch-latest": (False, "rollback-irreversible"),
        "reports": (False, "opt-in-tag-not-exact"),
        "worker": (False, "no-active-refresh"),
        "etl": (False, "no-active-refresh"),
        "scaler": (False, "no-active-refresh"),
        "legacy": (False, "group-not-enabled"),
    }
    assert _group(answer, "etl")["refresh"]["status"] == "Successful"
    # And the warnings, per group by code, and in full at the top
    codes = {group["group"]: group.get("warnings", []) for group in answer["groups"]}
    assert codes == {
        "batch-latest": ["launch-template-moving-version"],
        "reports": ["opt-in-tag-not-exact"],
        "scaler": ["target-tracking-prefix"],
        "worker": ["no-linked-alarm"],
        "web-prod": [],
        "api-canary": [],
        "etl": [],
        "legacy": [],
    }
    assert [warning.split(":")[0] for warning in answer["warnings"]] == ["batch-latest", "reports", "scaler", "worker"]
    assert _group(answer, "reports")["modeTag"] == "Enabled"


def test_the_answer_reads_most_important_first(world: World) -> None:
    # Given the demo fleet
    build_demo_fleet(world.ec2, world.autoscaling, world.cloudwatch)

    # When the inventory is taken
    answer = invoke({"action": "inventory"})

    # Then counts and warnings come before the groups, and groups with warnings before the others
    assert list(answer) == ["action", "complete", "summary", "warnings", "groups"]
    assert answer["summary"] == {
        "groups": 8,
        "enabled": 4,
        "dryRun": 2,
        "notProtected": 2,
        "canRollBackNow": 2,
        "alarmsInAlarm": 1,
        "groupsWithWarnings": 4,
    }
    with_warnings = [bool(group.get("warnings")) for group in answer["groups"]]
    assert with_warnings == sorted(with_warnings, reverse=True)
    assert list(answer["groups"][0])[:4] == ["group", "mode", "canRollBack", "reason"]


def test_the_inventory_is_read_only_publishes_nothing_and_keeps_to_its_call_budget(
    world: World, recorder: CallRecorder
) -> None:
    # Given the demo fleet, with refreshes under way and an alarm in ALARM
    build_demo_fleet(world.ec2, world.autoscaling, world.cloudwatch)

    # When the inventory is taken
    with recorder.recording() as calls:
        invoke({"action": "inventory"})

    # Then every call reads, nothing was rolled back or cancelled, and nothing was published
    assert [call.name for call in calls if not call.operation.startswith(READ_ONLY_PREFIXES)] == []
    assert world.mutating_calls() == []
    assert world.published() == []
    # And the calls are one group page, one tagged-alarm search and one state read for the 8 groups,
    # and per group its newest refresh, plus one alarm page for each of the 3 groups with a prefix
    assert tally(calls) == {
        "autoscaling:DescribeAutoScalingGroups": 1,
        "autoscaling:DescribeInstanceRefreshes": 8,
        "cloudwatch:DescribeAlarms": 1 + 3,
        "resourcegroupstaggingapi:GetResources": 1,
    }
    assert len(calls) <= CALL_BUDGET


def test_more_than_a_hundred_groups_are_listed_over_several_invokes_each_once(
    world: World, recorder: CallRecorder
) -> None:
    # Given 105 opted-in groups (more than one DescribeAutoScalingGroups page of 100) and 3 without the tag
    opted_in = [f"app-{index:03d}" for index in range(105)]
    untagged: dict[str, dict[str, str]] = {f"zz-untagged-{index}": {} for index in range(3)}
    _many_groups(world, {name: {"auto-rollback": "enabled"} for name in opted_in} | untagged)

    # When an operator follows nextToken until the answer is complete
    with recorder.recording() as calls:
        answers = list(_follow(invoke({"action": "inventory"})))

    # Then each opted-in group is listed exactly once, 20 an invoke, and only they are
    listed = [group["group"] for answer in answers for group in answer["groups"]]
    assert sorted(listed) == opted_in
    assert [len(answer["groups"]) for answer in answers] == [20, 20, 20, 20, 20, 5]
    assert all(answer["complete"] is (index == len(answers) - 1) for index, answer in enumerate(answers))
    # And the groups were read 100 a page, the later pages through AWS's NextToken
    group_pages = [call.params for call in calls if call.operation == "DescribeAutoScalingGroups"]
    assert {page["MaxRecords"] for page in group_pages} == {100}
    assert any("NextToken" in page for page in group_pages)
    assert all(page["Filters"] == [{"Name": "tag-key", "Values": ["auto-rollback"]}] for page in group_pages)


def test_every_invoke_keeps_to_the_call_budget_and_reads_each_group_once(world: World, recorder: CallRecorder) -> None:
    # Given 45 opted-in groups, each with an alarm-name prefix
    names = [f"svc-{index:02d}" for index in range(45)]
    _many_groups(
        world, {name: {"auto-rollback": "enabled", "auto-rollback:alarm-prefix": f"{name}-"} for name in names}
    )

    # When the inventory is followed to the end, each invoke recorded on its own
    per_invoke: list[list[Call]] = []
    token: str | None = None
    while True:
        with recorder.recording() as calls:
            answer = invoke({"action": "inventory", **({"nextToken": token} if token else {})})
        per_invoke.append(list(calls))
        if answer["complete"]:
            break
        token = answer["nextToken"]

    # Then no invoke exceeds the budget, and no group's refresh is read twice
    assert all(len(calls) <= CALL_BUDGET for calls in per_invoke)
    refreshes = [
        call.params["AutoScalingGroupName"]
        for calls in per_invoke
        for call in calls
        if call.operation == "DescribeInstanceRefreshes"
    ]
    assert sorted(refreshes) == names
    assert len(per_invoke) == -(-len(names) // MAX_GROUPS)


def test_alarms_are_read_over_several_pages_and_a_list_cut_short_is_said(world: World, recorder: CallRecorder) -> None:
    # Given one group with 210 alarms by prefix (more than the 2 pages read per group) and 120 tagged to it
    _many_groups(world, {"big": {"auto-rollback": "enabled", "auto-rollback:alarm-prefix": "big-"}})
    for index in range(210):
        make_alarm(world.cloudwatch, f"big-{index:03d}", state=None)
    for index in range(120):
        make_alarm(world.cloudwatch, f"tagged {index:03d}", group="big", state=None)

    # When the inventory is taken
    with recorder.recording() as calls:
        answer = invoke({"action": "inventory"})

    # Then the tagged alarms are all found (two GetResources pages) and read (two batches of names),
    # the prefix's first 200 are read (two pages), and the entry says the list was cut short
    entry = _group(answer, "big")
    assert entry["alarms"]["linked"] == 120 + 100 * PREFIX_PAGES_PER_GROUP
    assert entry["alarms"]["states"] == {"INSUFFICIENT_DATA": 320}
    assert len(entry["alarms"]["shown"]) == 10
    assert entry["warnings"] == ["alarms-not-all-listed"]
    assert tally(calls)["resourcegroupstaggingapi:GetResources"] == 2
    by_names = [call for call in calls if call.operation == "DescribeAlarms" and "AlarmNames" in call.params]
    by_prefix = [call for call in calls if call.operation == "DescribeAlarms" and "AlarmNamePrefix" in call.params]
    assert [len(call.params["AlarmNames"]) for call in by_names] == [100, 20]
    assert len(by_prefix) == PREFIX_PAGES_PER_GROUP
    assert "NextToken" in by_prefix[-1].params


def test_an_invoke_with_too_little_time_left_reads_nothing_and_hands_back_its_place(
    world: World, recorder: CallRecorder
) -> None:
    # Given opted-in groups
    world.fleet("web-prod")

    # When the inventory is invoked with less time left than one group's reads may need
    with recorder.recording() as calls:
        answer = invoke({"action": "inventory"}, timeout_seconds=10)

    # Then no AWS call is made, and the answer says so and gives a token to start from
    assert calls == []
    assert (answer["complete"], answer["groups"]) == (False, [])
    assert answer["warnings"][0].startswith("out-of-time")
    assert [
        group["group"] for group in invoke({"action": "inventory", "nextToken": answer["nextToken"]})["groups"]
    ] == ["web-prod"]


def test_the_console_event_is_accepted(world: World) -> None:
    # Given one opted-in group
    world.fleet("web-prod")
    # When the shareable console event is run
    answer = invoke(load_event("manual-console-inventory.json"))
    # Then it answers the inventory
    assert [group["group"] for group in answer["groups"]] == ["web-prod"]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"action": "inventory", "autoScalingGroupName": "web-prod"}, "autoScalingGroupName"),
        ({"action": "inventory", "dryRun": True}, "dryRun"),
        ({"action": "inventory", "nextToken": 5}, "nextToken"),
        ({"action": "inventory", "nextToken": ""}, "nextToken"),
        ({"action": "inventory", "nextToken": "not-a-token"}, "nextToken"),
        ({"action": "inventory", "nextToken": "x" * 5000}, "nextToken"),
        ({"action": "Inventory"}, "action"),
    ],
    ids=["group-name", "dry-run", "token-number", "token-empty", "token-garbage", "token-too-long", "wrong-case"],
)
def test_invalid_inventory_events_are_refused_by_field_before_any_call(
    world: World, recorder: CallRecorder, event: dict[str, Any], field: str
) -> None:
    # Given an inventory event with a wrong field
    # When it is invoked
    with recorder.recording() as calls, pytest.raises(InvalidEventError) as error:
        invoke(event)
    # Then it is refused, naming the field, and AWS was never called
    assert error.value.field == field
    assert calls == []


def test_a_page_token_aws_did_not_issue_is_refused_as_a_bad_next_token(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a well-formed inventory token whose AWS page token was never issued
    forged = InventoryCursor(page_token="bm90LWlzc3VlZA==", after=None).encode()
    world.fleet("web-prod")
    # When it is invoked
    with pytest.raises(InvalidEventError) as error:
        invoke({"action": "inventory", "nextToken": forged})
    # Then the refusal names nextToken and says how to start over
    assert error.value.field == "nextToken"
    assert "start over" in error.value.problem
    # And it is logged as a rejected event, like any other bad input (the saved query finds it)
    [rejected] = [record for record in caplog.records if record.getMessage() == "Rejected event"]
    assert rejected.__dict__["field"] == "nextToken"


def test_a_group_deleted_between_invokes_makes_no_other_group_go_missing(world: World) -> None:
    # Given 25 opted-in groups, and a first answer listing 20 of them
    names = [f"app-{index:02d}" for index in range(25)]
    _many_groups(world, {name: {"auto-rollback": "enabled"} for name in names})
    first = invoke({"action": "inventory"})
    # When the last group it listed is deleted before the operator invokes again with its token
    last = InventoryCursor.decode(first["nextToken"]).after
    assert last is not None
    world.autoscaling.delete_auto_scaling_group(AutoScalingGroupName=last, ForceDelete=True)
    rest = [
        group["group"]
        for answer in _follow(invoke({"action": "inventory", "nextToken": first["nextToken"]}))
        for group in answer["groups"]
    ]
    # Then every remaining group is still listed (some twice, as the docstring of InventoryCursor says)
    listed = {group["group"] for group in first["groups"]} | set(rest)
    assert listed == set(names)
