"""Replay caches: each DPoP proof (by key thumbprint and ``jti``) is accepted once.

``MemoryReplayCache`` serves one process; ``RedisReplayCache`` every worker and machine
that share a Redis (``SET ... NX PX``: the check and the insert are one atomic step).
Entries live only as long as the proof could be accepted, so neither grows without
bound. A cache that cannot answer raises ``ReplayCacheUnavailable``: the request gets a
503, never a pass.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from . import _fork
from ._redis import RedisClients
from .errors import ConfigurationError, ReplayCacheUnavailable

if TYPE_CHECKING:
    import redis
    import redis.asyncio

logger = logging.getLogger("jwt_middleware")


@runtime_checkable
class ReplayCache(Protocol):
    """``first_use(key, ttl)``: True the first time ``key`` is seen within ``ttl``
    seconds (from now, by the cache's clock), False for a replay;
    ``ReplayCacheUnavailable`` when it cannot tell."""

    def first_use(self, key: str, ttl: float) -> bool: ...

    async def afirst_use(self, key: str, ttl: float) -> bool: ...


class MemoryReplayCache:
    """In this process only: a proof replayed to another worker or machine is not seen.
    Use ``RedisReplayCache`` for more than one process. At ``max_entries`` live proofs
    new ones are refused (503) rather than older ones forgotten (which would let them
    be replayed)."""

    def __init__(
        self, *, max_entries: int = 200_000, clock: Callable[[], float] = time.time
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive int")
        self._max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # key -> expires at, oldest first
        self._lock = threading.Lock()
        self._forked = False
        _fork.reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        if not self._forked:
            self._forked = True
            logger.warning(
                "MemoryReplayCache in a forked worker: a DPoP proof replayed to another "
                "worker is not detected; use RedisReplayCache with several workers"
            )

    def first_use(self, key: str, ttl: float) -> bool:
        now = self._clock()
        with self._lock:
            seen = self._seen
            self._drop_expired(now)
            previous = seen.get(key)
            if previous is not None and previous > now:
                return False
            if len(seen) >= self._max_entries:
                raise ReplayCacheUnavailable("the in-memory replay cache is full")
            seen.pop(key, None)  # an expired entry of the same key: to the back
            seen[key] = now + ttl
            return True

    async def afirst_use(self, key: str, ttl: float) -> bool:
        return self.first_use(key, ttl)

    def _drop_expired(self, now: float) -> None:
        """Proofs live about as long as each other, so the oldest entries expire first:
        dropped from the front, O(1) per entry, until one is still alive."""
        seen = self._seen
        while seen:
            key, until = next(iter(seen.items()))
            if until > now:
                return
            del seen[key]

    def __len__(self) -> int:
        return len(self._seen)

    def __repr__(self) -> str:
        return f"MemoryReplayCache(max_entries={self._max_entries})"


class RedisReplayCache:
    """In Redis, shared by every process and machine that use it (see ``RedisDenylist``
    for ``client_or_url`` and ``timeout``). Keys are ``prefix + key`` and expire with
    the proof's window; ``SET NX PX`` checks and claims one in a single atomic step."""

    def __init__(
        self,
        client_or_url: str | redis.Redis | redis.asyncio.Redis,
        *,
        prefix: str = "jwt-middleware:dpop:",
        timeout: float = 1.0,
    ) -> None:
        self._clients = RedisClients(client_or_url, timeout=timeout, owner="RedisReplayCache")
        if not prefix:
            raise ConfigurationError("a key prefix keeps the replay cache apart from other data")
        self._prefix = prefix

    def first_use(self, key: str, ttl: float) -> bool:
        try:
            client = self._clients.sync()
            return bool(client.set(self._prefix + key, b"1", nx=True, px=_milliseconds(ttl)))
        except self._clients.errors as exc:
            raise ReplayCacheUnavailable(f"Redis: {type(exc).__name__}") from exc

    async def afirst_use(self, key: str, ttl: float) -> bool:
        client = self._clients.aio()
        try:
            return bool(await client.set(self._prefix + key, b"1", nx=True, px=_milliseconds(ttl)))
        except self._clients.errors as exc:
            raise ReplayCacheUnavailable(f"Redis: {type(exc).__name__}") from exc

    def __repr__(self) -> str:
        return f"RedisReplayCache(prefix={self._prefix!r})"


def _milliseconds(ttl: float) -> int:
    return max(1000, math.ceil(ttl * 1000))
