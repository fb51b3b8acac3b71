"""The trust model, checked on the synthesized policy: the condition key, the mutating actions, tag writes.

Shared by tests/reliability/test_trust_model.py (which asserts it for any group name) and ``make reliability``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from devkit.reliability.lab import Check
from devkit.template.synth import ACCOUNT, REGION

OPT_IN = "autoscaling:ResourceTag/auto-rollback"
MUTATIONS = ("autoscaling:RollbackInstanceRefresh", "autoscaling:CancelInstanceRefresh")
TAGGING = (
    "autoscaling:CreateOrUpdateTags",
    "autoscaling:DeleteTags",
    "cloudwatch:TagResource",
    "cloudwatch:UntagResource",
    "tag:TagResources",
    "tag:UntagResources",
)


def group_arn(name: str) -> str:
    group_id = "930d940e-891e-4781-a11a-7b0acd480f03"
    return f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:{group_id}:autoScalingGroupName/{name}"


def trust_model() -> Check:
    """The synthesized policy refuses rollback/cancel without auto-rollback=enabled, and any tag write."""
    from auto_rollback.vocabulary import HANDLER
    from devkit.template.policy import function_role_id, is_allowed, role_statements
    from devkit.template.synth import synth_template

    with tempfile.TemporaryDirectory() as outdir:
        template = synth_template(Path(outdir))
    (function_id,) = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Handler") == HANDLER
    ]
    statements = role_statements(template, function_role_id(template, function_id), account=ACCOUNT, region=REGION)
    tags: list[str | None] = [None, "disabled", "dry-run", "Enabled", "enabled ", "true", "", "*"]
    cases = [(action, tag) for action in MUTATIONS for tag in tags]
    refused = [
        not is_allowed(statements, action, group_arn("web-prod"), {} if tag is None else {OPT_IN: tag})
        for action, tag in cases
    ]
    allowed = [is_allowed(statements, action, group_arn("web-prod"), {OPT_IN: "enabled"}) for action in MUTATIONS]
    no_tagging = [not is_allowed(statements, action, "*", {OPT_IN: "enabled"}) for action in TAGGING]
    return Check(
        "trust",
        f"IAM (synthesized policy): {len(cases)} rollback/cancel requests on groups not opted in, "
        f"{len(TAGGING)} tag writes",
        "all refused; allowed only with auto-rollback=enabled",
        f"{sum(refused)}/{len(cases)} refused, {sum(no_tagging)}/{len(TAGGING)} tag writes refused, "
        f"enabled allowed: {all(allowed)}",
        held=all(refused) and all(allowed) and all(no_tagging),
        faults=len(cases) + len(TAGGING),
    )
