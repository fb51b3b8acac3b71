"""The embedded AWS's own tests: the emulator against AWS's documented behaviour, not the function.

Most need only ``aws`` (tests/conftest.py). The few that check the emulator under a
deployed function (its shapes as the function reads them, a member role used by a hub)
use the integration tests' deployments, imported here rather than defined twice.
"""

from __future__ import annotations

from tests.integration.conftest import configure, hub, world

__all__ = ["configure", "hub", "world"]  # pytest finds fixtures by name in this module
