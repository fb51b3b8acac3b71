"""Independent AWS reads at the same time, so the critical path waits for the slowest, not for their sum.

One small pool per container, made on first use and kept by warm invocations.
boto3's clients are thread-safe; sessions are not, and none is made in a worker.
With tracing on, the X-Ray SDK's Lambda context gives each worker thread the
invocation's trace (it reads ``_X_AMZN_TRACE_ID``), so the calls stay traced.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cache
from typing import Any

#: More than the reads any one step makes at once (at most one per linked group, plus two).
MAX_WORKERS = 8
#: Names the pool's threads, so tools that count the function's calls can tell them from others.
THREAD_NAME_PREFIX = "auto-rollback-read"


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix=THREAD_NAME_PREFIX)


def start[T](call: Callable[[], T]) -> Future[T]:
    """Run ``call`` in the background; ``settle`` the future before using what it returns."""
    return _pool().submit(call)


def wait_all(*futures: Future[Any]) -> None:
    """Wait for every future; each one's failure stays in it, for its own caller to meet."""
    wait(futures)


def settle(*futures: Future[Any]) -> None:
    """Wait for every future, then raise the first failure, if any.

    Waiting for all first means no read is still running when the invocation fails
    (and Lambda freezes the container), and the calls an invocation made are all
    made before it returns.
    """
    wait(futures)
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
