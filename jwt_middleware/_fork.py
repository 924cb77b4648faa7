"""Process state a fork must not carry into a child.

A pre-forking server (``gunicorn --preload``, ``uvicorn --workers``) builds the app
once and forks workers from it. What the child inherits mid-flight is a lie there: a
lock held by a thread that does not exist in the child, "a fetch is in flight" with no
fetch, a client bound to the parent's event loop. Objects that hold such state
register here and rebuild it in every child (as redis-py's pools check their pid).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator
from typing import Protocol


class ForkAware(Protocol):
    def _after_fork(self) -> None:
        """Called in a freshly forked child, before anything else runs there."""


_registered: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def reset_after_fork(obj: ForkAware) -> None:
    """Have ``obj._after_fork()`` run in every child forked from now on (held weakly)."""
    _registered.add(obj)


# Held around work a fork must not cut in two: inside OpenSSL (key parsing), where a
# lock held by a thread that the child does not have would hang the child. A fork waits
# for the section to end (they are short: no network waits inside).
_quiet = threading.RLock()


@contextlib.contextmanager
def unforkable() -> Iterator[None]:
    with _quiet:
        yield


def _before() -> None:
    _quiet.acquire()


def _in_parent() -> None:
    _quiet.release()


def _in_child() -> None:
    global _quiet
    _quiet = threading.RLock()  # the parent's holder does not exist here
    for obj in list(_registered):
        obj._after_fork()


os.register_at_fork(before=_before, after_in_parent=_in_parent, after_in_child=_in_child)
