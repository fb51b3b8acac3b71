"""What the trust model checks on the synthesized policy: the condition key, the mutating actions, tag writes."""

from __future__ import annotations

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
