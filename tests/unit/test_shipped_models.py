"""The service models the function ships are exactly the pinned botocore's (``make models``)."""

from __future__ import annotations

from scripts import models


def test_the_shipped_models_are_the_pinned_botocores_without_documentation() -> None:
    # Given the models in lambda/auto_rollback/models and the botocore of constraints.txt
    # When they are compared, then they are the same: a botocore upgrade cannot leave them stale
    assert models.main(["--check"]) == 0


def test_stripping_keeps_everything_but_documentation() -> None:
    shape = {"type": "structure", "documentation": "<p>x</p>", "members": {"A": {"shape": "S", "documentation": "y"}}}
    assert models.stripped(shape) == {"type": "structure", "members": {"A": {"shape": "S"}}}
