"""The console's shareable test events: the schema says what each manual invoke needs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from auto_rollback.events import InvalidEventError, ManualTrigger, parse_event
from auto_rollback.vocabulary import INVENTORY_ACTION
from infra.console_events import (
    EXAMPLES,
    GROUP_ACTIONS,
    PLACEHOLDER_ACCOUNT,
    PLACEHOLDER_GROUP,
    manual_event_schema,
)
from tests.conftest import load_event


def _validator() -> OAS30Validator:
    """The schema's ManualInvoke, resolving its $refs inside the document."""
    document = manual_event_schema()
    return OAS30Validator({"$ref": "#/components/schemas/ManualInvoke", "components": document["components"]})


def test_the_schema_is_a_valid_openapi_3_document() -> None:
    # Given the document the console reads
    # When it is validated as OpenAPI 3.0
    # Then it is one (EventBridge's registry refuses an invalid OpenApi3 schema at deploy)
    validate(manual_event_schema())


def test_the_inventory_example_is_the_bare_inventory_invoke() -> None:
    # Given the console's inventory example
    # When it is read
    # Then it is exactly the invoke the function documents, with no group to replace
    assert EXAMPLES["inventory"] == "manual-console-inventory.json"
    assert load_event("manual-console-inventory.json") == {"action": INVENTORY_ACTION}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_shipped_example_matches_the_schema(name: str) -> None:
    # Given an example the stack publishes
    example = manual_event_schema()["components"]["examples"][name]["value"]
    # When it is validated against the schema
    # Then it is valid
    _validator().validate(example)


@pytest.mark.parametrize(
    ("event", "valid"),
    [
        ({"action": "inventory"}, True),
        ({"action": "rollback", "autoScalingGroupName": "web-prod"}, True),
        ({"action": "evaluate", "autoScalingGroupName": "web-prod", "dryRun": True}, True),
        ({"action": "rollback"}, False),
        ({"action": "evaluate"}, False),
        ({"action": "rollbak", "autoScalingGroupName": "web-prod"}, False),
        ({"autoScalingGroupName": "web-prod"}, False),
        ({"action": "inventory", "autoScalingGroupName": "web-prod"}, False),
        ({"action": "rollback", "autoScalingGroupName": "web-prod", "nextToken": "x"}, False),
    ],
)
def test_only_inventory_goes_without_a_group_name(event: dict[str, Any], valid: bool) -> None:
    # Given a manual invoke typed in the console
    # When the schema checks it
    errors = list(_validator().iter_errors(event))
    # Then only the inventory may leave the group out, and the action must be a known one
    assert (errors == []) is valid, [error.message for error in errors]
    if not valid:
        with pytest.raises(ValidationError):
            _validator().validate(event)
    # ... exactly as the function itself decides
    if valid:
        parse_event(event)
    else:
        with pytest.raises(InvalidEventError):
            parse_event(event)


def test_the_schema_names_every_action_of_the_examples() -> None:
    # Given the examples and the actions the schema allows
    schemas = manual_event_schema()["components"]["schemas"]
    allowed = [
        *schemas["GroupInvoke"]["properties"]["action"]["enum"],
        *schemas["InventoryInvoke"]["properties"]["action"]["enum"],
    ]
    # When the examples' actions are collected
    actions = {load_event(file)["action"] for file in EXAMPLES.values()}
    # Then each action has exactly one example, and the schema allows exactly those
    assert sorted(allowed) == sorted(actions) == sorted([*GROUP_ACTIONS, INVENTORY_ACTION])


def test_group_examples_name_the_placeholder_and_parse_as_manual_invokes() -> None:
    # Given the examples that act on one group
    for action in GROUP_ACTIONS:
        event = load_event(EXAMPLES[action])
        # When the function parses them as shipped
        trigger = parse_event(event)
        # Then each names the placeholder, never a real group
        assert isinstance(trigger, ManualTrigger)
        assert trigger.auto_scaling_group_name == PLACEHOLDER_GROUP


def test_every_example_is_an_event_the_function_accepts() -> None:
    # Given every example the console offers, inventory included
    examples = {name: load_event(file) for name, file in EXAMPLES.items()}
    # When the function parses them
    # Then none is rejected (parse_event raises InvalidEventError on an unknown action)
    for event in examples.values():
        parse_event(event)


def test_the_template_publishes_the_inventory_example(template: Template) -> None:
    # Given the synthesized schema
    (schema,) = template.find_resources("AWS::EventSchemas::Schema").values()
    # When its content is read
    content = json.loads(schema["Properties"]["Content"])
    # Then the console offers the inventory beside rollback and evaluate
    assert content["components"]["examples"]["inventory"]["value"] == {"action": "inventory"}
    assert set(content["components"]["examples"]) == {"rollback", "evaluate", "inventory"}


def test_a_hubs_examples_carry_an_account_to_fill_in_and_its_schema_requires_one() -> None:
    # Given the document a hub (organization mode) publishes
    document = manual_event_schema(hub=True)
    validate(document)
    validator = OAS30Validator({"$ref": "#/components/schemas/ManualInvoke", "components": document["components"]})
    examples = {name: example["value"] for name, example in document["components"]["examples"].items()}
    # When its examples and invokes with and without an account are read
    # Then every example names the account placeholder, which the function refuses until it is replaced
    assert {example["account"] for example in examples.values()} == {PLACEHOLDER_ACCOUNT}
    with pytest.raises(InvalidEventError, match="account"):
        parse_event(examples["evaluate"])
    # And an invoke needs a twelve-digit account to match the schema
    validator.validate({"action": "inventory", "account": "333333333333"})
    for invalid in ({"action": "inventory"}, {"action": "inventory", "account": "3333"}):
        with pytest.raises(ValidationError):
            validator.validate(invalid)
    # While per account, the account stays optional
    _validator().validate({"action": "evaluate", "autoScalingGroupName": "web", "account": "333333333333"})
