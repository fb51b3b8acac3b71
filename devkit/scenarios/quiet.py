"""Silence the function's log lines while it runs in this process and in its children.

The function logs JSON lines to stdout, as in Lambda; a tool that prints a table
(``make bench``) must keep them out of it without sparing their cost.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: the function logs JSON lines to stdout, as in Lambda.

    Done at the descriptor level so Powertools' handlers (bound to stdout when
    created) and child processes are silenced too, while their cost is still paid.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        os.dup2(devnull.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
