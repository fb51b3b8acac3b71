"""Fixtures shared by every test directory.

``aws`` is one moto server for the whole session (per xdist worker), reset before
each test that uses it, so tests are independent and fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devkit.aws.aws_server import AwsEmulator, running_emulator
from devkit.scenarios.events import sample as load_event

__all__ = ["load_event"]  # a sample event from events/ (the shapes AWS documents)


@pytest.fixture(scope="session")
def aws_session() -> Iterator[AwsEmulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def aws(aws_session: AwsEmulator) -> AwsEmulator:
    aws_session.reset()
    return aws_session


@pytest.fixture(scope="session")
def spoke_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The spoke template exactly as the hub stack hands it to the StackSet (synthesized once per session).

    Here rather than beside ``hub`` so that one synthesis serves every directory that deploys a hub.
    """
    from devkit.template.hub import hub_templates  # CDK starts Node: only for the tests that need it

    return hub_templates(tmp_path_factory.mktemp("hub")).spoke
