#!/usr/bin/env python3
"""CDK entry point (``cdk synth``, ``make synth``): see docs/DEPLOY.md for the options."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.app import build_app

app = cdk.App()
build_app(app)
# Synth (and so deploy) fails on any AWS Solutions finding that is not
# acknowledged with a reason next to the resource it concerns.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
