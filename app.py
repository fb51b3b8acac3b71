#!/usr/bin/env python3
"""CDK entry point (``cdk synth``, ``make synth``): see docs/DEPLOY.md for the options."""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.app import build_app
from infra.config import ConfigError


def main() -> int:
    app = cdk.App()
    try:
        build_app(app)
    except ConfigError as error:
        # The operator made a configuration mistake: say which, without a traceback
        # (the CLI then reports that the app failed, after this line).
        print(f"auto-rollback configuration error: {error}", file=sys.stderr)
        return 1
    # Synth (and so deploy) fails on any AWS Solutions finding that is not
    # acknowledged with a reason next to the resource it concerns.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
