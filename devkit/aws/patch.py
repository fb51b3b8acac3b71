"""Serve actions from moto's response classes with the project's stricter handlers, once per process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

_LOCK = threading.Lock()


def install_handlers(response_class: type, marker: str, handlers: Mapping[str, Callable[..., Any]]) -> bool:
    """Set ``handlers`` (method name → function) on ``response_class`` unless ``marker`` says it is done.

    Both ``mock_aws`` and ``ThreadedMotoServer`` dispatch to these methods, so the
    handlers answer over HTTP like moto's own. True when this call installed them.
    """
    with _LOCK:
        if getattr(response_class, marker, False):
            return False
        for name, handler in handlers.items():
            setattr(response_class, name, handler)
        setattr(response_class, marker, True)
        return True
