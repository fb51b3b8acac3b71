"""Fixtures shared by every test directory.

``aws`` is one moto server for the whole session (per xdist worker), reset before
each test that uses it, so tests are independent and fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.aws.aws_server import AwsEmulator, running_emulator

EVENTS_DIR = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from tests/events/ (the shapes AWS documents)."""
    data: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return data


@pytest.fixture(scope="session")
def aws_session() -> Iterator[AwsEmulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def aws(aws_session: AwsEmulator) -> AwsEmulator:
    aws_session.reset()
    return aws_session
