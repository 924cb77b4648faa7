"""Process state a fork must not carry into a child.

A pre-forking server (``gunicorn --preload``, ``uvicorn --workers``) builds the app
once and forks workers from it. What the child inherits mid-flight is a lie there: a
lock held by a thread that does not exist in the child, "a fetch is in flight" with no
fetch, a client bound to the parent's event loop. Objects that hold such state
register here and rebuild it in every child (as redis-py's pools check their pid).
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol


class ForkAware(Protocol):
    def _after_fork(self) -> None:
        """Called in a freshly forked child, before anything else runs there."""


_registered: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def reset_after_fork(obj: ForkAware) -> None:
    """Have ``obj._after_fork()`` run in every child forked from now on (held weakly)."""
    _registered.add(obj)


def _in_child() -> None:
    for obj in list(_registered):
        obj._after_fork()


os.register_at_fork(after_in_child=_in_child)
