"""The dashboard, the saved queries and the outputs an operator opens after a deploy,
and no function of the stack left to create its own log group."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from auto_rollback.observability import metrics, record_outcome
from auto_rollback.vocabulary import CHAT_FAILURE_METRIC, INVALID_EVENT, NAMESPACE, SERVICE, Outcome
from infra.console_events import PLACEHOLDER_GROUP
from infra.dashboard import QUERIES, dashboard_name

EmittedMetric = tuple[str, str, frozenset[tuple[str, str]]]


def _emf_metrics(printed: str) -> set[EmittedMetric]:
    """(namespace, metric, dimensions) of every metric in the EMF blobs Powertools printed."""
    found: set[EmittedMetric] = set()
    for line in printed.splitlines():
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, blob[name]) for name in dimension_set)
                found |= {(directive["Namespace"], metric["Name"], dimensions) for metric in directive["Metrics"]}
    return found


def _token(value: Any) -> str:
    """A CloudFormation intrinsic as a JSON-safe placeholder, so a Fn::Join'ed body parses."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "{Ref:" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "{GetAtt:" + ".".join(value["Fn::GetAtt"]) + "}"
    raise AssertionError(f"unexpected intrinsic in the dashboard body: {value}")


def _dashboard(template: Template) -> tuple[str, dict[str, Any]]:
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    props = dashboard["Properties"]
    body = "".join(_token(part) for part in props["DashboardBody"]["Fn::Join"][1])
    return props["DashboardName"], json.loads(body)


def _graphed(body: dict[str, Any]) -> list[tuple[str, str, frozenset[tuple[str, str]], str]]:
    """(namespace, metric, dimensions, statistic) of every metric line of every graph."""
    graphed = []
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        for line in widget["properties"]["metrics"]:
            namespace, name, *pairs, options = line
            dimensions = frozenset(zip(pairs[::2], pairs[1::2], strict=True))
            graphed.append((namespace, name, dimensions, options["stat"]))
    return graphed


def _only_id(template: Template, resource_type: str, prefix: str = "") -> str:
    (logical_id,) = [key for key in template.find_resources(resource_type) if key.startswith(prefix)]
    return logical_id


def test_dashboard_graphs_exactly_the_metrics_the_function_emits(
    template: Template, template_json: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the EMF blob the function's own code prints for every outcome it can record
    metrics.clear_metrics()
    capsys.readouterr()
    for outcome in [*Outcome, INVALID_EVENT]:
        record_outcome(outcome)
    metrics.flush_metrics()
    emitted = _emf_metrics(capsys.readouterr().out)
    # and the one the notifier emits for a refused chat copy (pinned there by test_chat_delivery.py)
    emitted.add((NAMESPACE, CHAT_FAILURE_METRIC, frozenset({("service", SERVICE)})))
    # When the dashboard is synthesized
    _, body = _dashboard(template)
    graphed = {(namespace, name, dimensions) for namespace, name, dimensions, _ in _graphed(body)}
    # Then every metric emitted is graphed with the dimensions Powertools gives it, and
    # every graphed metric of the function's namespace is one that is emitted
    (namespace,) = {namespace for namespace, _, _ in emitted}
    assert emitted == {metric for metric in graphed if metric[0] == namespace}
    assert {dimensions for _, _, dimensions in emitted} == {frozenset({("service", "auto-rollback")})}
    # ... in the namespace the deployed function writes to
    (function,) = [
        resource
        for resource in template_json["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == "auto_rollback.handler.lambda_handler"
    ]
    assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == namespace


def test_outcomes_are_graphed_one_per_outcome_of_the_function(template: Template) -> None:
    # Given the dashboard
    _, body = _dashboard(template)
    # When its outcome graph is read
    (outcomes,) = [widget for widget in body["widgets"] if widget["properties"].get("title") == "Outcomes by type"]
    labels = [line[-1]["label"] for line in outcomes["properties"]["metrics"]]
    # Then it stacks one line per outcome, labelled in the function's own words, summed
    assert labels == [outcome.value for outcome in Outcome]
    assert outcomes["properties"]["stacked"] is True
    assert {line[-1]["stat"] for line in outcomes["properties"]["metrics"]} == {"Sum"}


def test_dashboard_shows_throttles_duration_queue_depth_and_the_functions_alarms(template: Template) -> None:
    # Given the stack's function, failed-events queue and alarms
    function = _only_id(template, "AWS::Lambda::Function", "AutoRollbackFunction")
    queue = _only_id(template, "AWS::SQS::Queue", "FailedEvents")
    alarms = set(template.find_resources("AWS::CloudWatch::Alarm"))
    # When the dashboard is synthesized
    _, body = _dashboard(template)
    graphed = set(_graphed(body))
    # Then Lambda's throttles, errors and duration percentiles of this function are graphed
    of_function = frozenset({("FunctionName", "{Ref:" + function + "}")})
    assert {
        ("AWS/Lambda", "Throttles", of_function, "Sum"),
        ("AWS/Lambda", "Errors", of_function, "Sum"),
        ("AWS/Lambda", "Duration", of_function, "p50"),
        ("AWS/Lambda", "Duration", of_function, "p99"),
        ("AWS/Lambda", "Duration", of_function, "Maximum"),
    } <= graphed
    # ... and the depth of its failed-events queue
    of_queue = frozenset({("QueueName", "{GetAtt:" + queue + ".QueueName}")})
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", of_queue, "Maximum") in graphed
    # ... and every alarm of the stack, which are all alarms on the function itself
    (status,) = [widget for widget in body["widgets"] if widget["type"] == "alarm"]
    assert {arn.removeprefix("{GetAtt:").removesuffix(".Arn}") for arn in status["properties"]["alarms"]} == alarms
    assert len(alarms) >= 3


@pytest.mark.parametrize(
    ("stack_name", "region", "expected"),
    [
        ("AutoRollback", "us-east-1", "AutoRollback-us-east-1"),
        ("AutoRollback-eu-west-1", "eu-west-1", "AutoRollback-eu-west-1"),
        ("AutoRollback-eu-west-1-canary", "eu-west-1", "AutoRollback-eu-west-1-canary-eu-west-1"),
    ],
)
def test_dashboard_name_is_unique_in_the_account(stack_name: str, region: str, expected: str) -> None:
    # Given a stack deployed to a region (dashboards are global to the account)
    stack = cdk.Stack(cdk.App(), stack_name, env=cdk.Environment(account="123456789012", region=region))
    # When its dashboard is named
    # Then the name carries the stack and the region, the region only once
    assert dashboard_name(stack) == expected


def test_dashboard_name_of_a_stack_without_region_is_resolved_at_deploy() -> None:
    # Given a stack synthesized without a profile (region unknown until deploy)
    stack = cdk.Stack(cdk.App(), "AutoRollback")
    # When its dashboard is named
    name = stack.resolve(dashboard_name(stack))
    # Then the name joins the stack name and the region CloudFormation deploys to
    assert name == {"Fn::Join": ["", ["AutoRollback-", {"Ref": "AWS::Region"}]]}


def test_outputs_give_the_dashboard_url_and_the_functions_log_group(template: Template) -> None:
    # Given the default stack (account 123456789012, us-east-1)
    function = template.find_resources("AWS::Lambda::Function")[
        _only_id(template, "AWS::Lambda::Function", "AutoRollbackFunction")
    ]
    dashboard = _only_id(template, "AWS::CloudWatch::Dashboard")
    # When its outputs are read
    outputs = template.find_outputs("*")
    # Then the log group output is the group the function logs to
    assert outputs["LogGroupName"]["Value"] == function["Properties"]["LoggingConfig"]["LogGroup"]
    # ... and the dashboard URL opens this dashboard in the stack's region
    assert outputs["DashboardUrl"]["Value"] == {
        "Fn::Join": [
            "",
            [
                "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/",
                {"Ref": dashboard},
            ],
        ]
    }
    name, _ = _dashboard(template)
    assert name == "AutoRollback-us-east-1"


def test_saved_queries_read_the_functions_log_group_from_a_folder_named_after_the_stack(
    template: Template,
) -> None:
    # Given the function's log group
    function = template.find_resources("AWS::Lambda::Function")[
        _only_id(template, "AWS::Lambda::Function", "AutoRollbackFunction")
    ]
    log_group = function["Properties"]["LoggingConfig"]["LogGroup"]
    # When the saved queries are synthesized
    saved = {
        resource["Properties"]["Name"]: resource["Properties"]
        for resource in template.find_resources("AWS::Logs::QueryDefinition").values()
    }
    # Then each query of infra.dashboard is saved as written, scoped to that log group only
    assert set(saved) == {f"AutoRollback/{query.name}" for query in QUERIES.values()}
    for query in QUERIES.values():
        props = saved[f"AutoRollback/{query.name}"]
        assert props["QueryString"] == query.text
        assert props["LogGroupNames"] == [log_group]
    # ... and the group query says which value the operator replaces
    assert f'result.autoScalingGroupName = "{PLACEHOLDER_GROUP}"' in QUERIES["DecisionsForGroup"].text
    assert "replace the group name" in QUERIES["DecisionsForGroup"].name


@pytest.mark.parametrize("configuration", ["template_json", "rollback_on_insufficient_data_json"])
def test_no_function_can_create_its_own_log_group(configuration: str, request: pytest.FixtureRequest) -> None:
    # Given every Lambda function of the stack, as committed and with every option turned on
    resources = request.getfixturevalue(configuration)["Resources"]
    functions = {key: value for key, value in resources.items() if value["Type"] == "AWS::Lambda::Function"}
    assert functions
    # When their logging configuration is read
    targets = {
        key: function["Properties"].get("LoggingConfig", {}).get("LogGroup") for key, function in functions.items()
    }
    # Then each logs to a log group of the stack, which CloudFormation creates before the
    # function (the Ref), so Lambda never creates /aws/lambda/<name> on a first invocation
    for key, target in targets.items():
        assert isinstance(target, dict), f"{key} has no LoggingConfig.LogGroup: Lambda would create its log group"
        assert resources[target["Ref"]]["Type"] == "AWS::Logs::LogGroup", key
        assert resources[target["Ref"]]["Properties"].get("RetentionInDays"), key
    # ... and no log group is named after a function, the pattern that races Lambda on a first deploy
    for key, resource in resources.items():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert "/aws/lambda/" not in json.dumps(resource["Properties"].get("LogGroupName", "")), key


def test_a_per_account_dashboard_has_no_hub_metric(template_json: dict[str, Any]) -> None:
    # Given the per-account stack's dashboard
    resources = template_json["Resources"].values()
    (dashboard,) = [r for r in resources if r["Type"] == "AWS::CloudWatch::Dashboard"]
    # Then it shows no metric that only a hub emits
    assert "RefusedAccountEvents" not in json.dumps(dashboard["Properties"]["DashboardBody"])
