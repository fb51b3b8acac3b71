"""The group's launch template, as an instance refresh reads, keeps and restores it.

The group takes the refresh's desired configuration only at ``Successful``
(:data:`devkit.aws.refresh_state.CONFIGURATION_ON_SUCCESS`), and a rollback needs a
numbered launch-template version on both sides to return to.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import FakeAutoScalingGroup
from moto.core.exceptions import ServiceException
from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateVersion

from devkit.aws.refresh_state import Refresh


def configuration_of(group: FakeAutoScalingGroup) -> dict[str, Any]:
    """The group's launch template or mixed instances policy, as a DesiredConfiguration."""
    if group.mixed_instances_policy:
        return {"MixedInstancesPolicy": copy.deepcopy(group.mixed_instances_policy)}
    if group.ec2_launch_template is not None:
        spec = {"LaunchTemplateId": group.ec2_launch_template.id}
        if group.provided_launch_template_version:
            spec["Version"] = group.provided_launch_template_version
        return {"LaunchTemplate": spec}
    return {}  # a launch configuration


def template_spec(configuration: dict[str, Any]) -> dict[str, Any] | None:
    if "LaunchTemplate" in configuration:
        spec: dict[str, Any] = configuration["LaunchTemplate"]
        return spec
    if "MixedInstancesPolicy" in configuration:
        policy_spec: dict[str, Any] = configuration["MixedInstancesPolicy"]["LaunchTemplate"][
            "LaunchTemplateSpecification"
        ]
        return policy_spec
    return None


def launch_template_version(
    group: FakeAutoScalingGroup, spec: dict[str, Any]
) -> tuple[LaunchTemplate, LaunchTemplateVersion]:
    """The EC2 launch template and version a specification names (ValidationError if none)."""
    ec2 = group.ec2_backend
    try:
        if spec.get("LaunchTemplateId"):
            template = ec2.get_launch_template(spec["LaunchTemplateId"])
        else:
            template = ec2.get_launch_template_by_name(spec.get("LaunchTemplateName", ""))
        return template, template.get_version(spec.get("Version") or "$Default")
    except (ServiceException, ValueError) as error:
        raise ValidationError(f"The launch template specified in the request is not valid: {error}") from None


def apply_configuration(group: FakeAutoScalingGroup, configuration: dict[str, Any]) -> None:
    """Point the group at a launch template or mixed instances policy.

    Uses moto's own (private) setter, so DescribeAutoScalingGroups shows the change.
    """
    configuration = copy.deepcopy(configuration)
    if "MixedInstancesPolicy" in configuration:
        group.mixed_instances_policy = configuration["MixedInstancesPolicy"]
        group._set_launch_configuration("", {}, group.mixed_instances_policy)
    elif "LaunchTemplate" in configuration:
        group.mixed_instances_policy = None
        group._set_launch_configuration("", configuration["LaunchTemplate"], None)


def irreversibility(group: FakeAutoScalingGroup, refresh: Refresh) -> str | None:
    """Why a rollback of ``refresh`` is impossible, or None if it is possible."""
    if not refresh.desired_configuration:
        return "no desired configuration was specified for the instance refresh"
    configurations = (
        ("previous", refresh.previous_configuration),
        ("desired", refresh.desired_configuration),
    )
    for which, configuration in configurations:
        spec = template_spec(configuration)
        if spec is None:
            return f"the {which} configuration does not use a launch template"
        version = spec.get("Version") or "$Default"  # no Version means $Default
        if version.lower() in ("$latest", "$default"):
            return f"the {which} configuration uses the launch template's {version} version"
        _, template_version = launch_template_version(group, spec)
        if template_version.image_id.startswith("resolve:ssm:"):
            return f"the {which} launch template version uses an SSM parameter as ImageId"
    return None
