"""Denylists: revoked tokens (by ``jti``) and sessions (by ``sid``), until they expire.

Two implementations of one small protocol: ``MemoryDenylist`` for one process and
``RedisDenylist`` for many processes and machines. Entries live exactly as long as
the token they revoke could still be used, so neither grows without bound. A denylist
that cannot be asked raises ``DenylistUnavailable``: the request gets a 503, never
a pass.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from . import _fork
from ._redis import RedisClients
from .errors import ConfigurationError, DenylistUnavailable

if TYPE_CHECKING:
    import redis
    import redis.asyncio


# Deny an entry, or keep the longer of two lives, in one atomic step. A script rather
# than SET NX + PEXPIRE GT, which needs Redis 7.0: this runs on any Redis since 2.6.
_REVOKE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
"""


def token_entry(jti: str) -> str:
    return "jti:" + jti


def session_entry(sid: str) -> str:
    return "sid:" + sid


@runtime_checkable
class Denylist(Protocol):
    def revoke(self, entry: str, expires_at: float) -> bool:
        """Deny ``entry`` until ``expires_at`` (epoch seconds); True if it was not denied
        yet. Atomic: of two concurrent calls for one entry, one gets True."""

    def is_revoked(self, *entries: str) -> bool:
        """True when any of ``entries`` is denied."""

    async def arevoke(self, entry: str, expires_at: float) -> bool: ...

    async def ais_revoked(self, *entries: str) -> bool: ...


class MemoryDenylist:
    """A denylist in this process's memory: for one process, tests and development.

    Memory is bounded by the revocations still live: expired entries are swept whenever
    the table has doubled since the last sweep.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._entries: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sweep_at = 1024
        _fork.reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # the parent's may have been held at the fork

    def revoke(self, entry: str, expires_at: float) -> bool:
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self._sweep_at:
                self._sweep(now)
            current = self._entries.get(entry)
            if current is not None and current > now:
                self._entries[entry] = max(current, expires_at)
                return False
            if expires_at > now:
                self._entries[entry] = expires_at
            return True

    def is_revoked(self, *entries: str) -> bool:
        now = self._clock()
        with self._lock:
            return any(self._entries.get(entry, 0.0) > now for entry in entries)

    async def arevoke(self, entry: str, expires_at: float) -> bool:
        return self.revoke(entry, expires_at)

    async def ais_revoked(self, *entries: str) -> bool:
        return self.is_revoked(*entries)

    def __len__(self) -> int:
        return len(self._entries)

    def _sweep(self, now: float) -> None:
        self._entries = {k: v for k, v in self._entries.items() if v > now}
        self._sweep_at = max(1024, 2 * len(self._entries))


class RedisDenylist:
    """A denylist in Redis, shared by every process and machine that uses the server.

    ``client_or_url``: a ``redis://`` / ``rediss://`` / ``unix://`` URL, or a
    ``redis.Redis`` (used under WSGI) or ``redis.asyncio.Redis`` (used under ASGI)
    client. With a URL, both kinds are made as needed, with ``timeout`` for connecting
    and for each command. Keys are ``prefix + entry`` and expire with the token.
    """

    def __init__(
        self,
        client_or_url: str | redis.Redis | redis.asyncio.Redis,
        *,
        prefix: str = "jwt-middleware:denylist:",
        timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clients = RedisClients(client_or_url, timeout=timeout, owner="RedisDenylist")
        self._errors = self._clients.errors
        self._prefix = prefix
        self._clock = clock
        if not prefix:
            raise ConfigurationError("a key prefix keeps the denylist apart from other data")

    @property
    def prefix(self) -> str:
        return self._prefix

    # -- sync (WSGI) ------------------------------------------------------------------

    def revoke(self, entry: str, expires_at: float) -> bool:
        ttl_ms = self._ttl_ms(expires_at)
        if ttl_ms <= 0:
            return True
        client = self._client()
        try:
            return bool(client.register_script(_REVOKE)(keys=[self._prefix + entry], args=[ttl_ms]))
        except self._errors as exc:
            raise DenylistUnavailable(f"Redis: {type(exc).__name__}") from exc

    def is_revoked(self, *entries: str) -> bool:
        if not entries:
            return False
        try:
            return bool(self._client().exists(*(self._prefix + e for e in entries)))
        except self._errors as exc:
            raise DenylistUnavailable(f"Redis: {type(exc).__name__}") from exc

    # -- async (ASGI) -----------------------------------------------------------------

    async def arevoke(self, entry: str, expires_at: float) -> bool:
        ttl_ms = self._ttl_ms(expires_at)
        if ttl_ms <= 0:
            return True
        script = self._aclient().register_script(_REVOKE)
        try:
            return bool(await script(keys=[self._prefix + entry], args=[ttl_ms]))
        except self._errors as exc:
            raise DenylistUnavailable(f"Redis: {type(exc).__name__}") from exc

    async def ais_revoked(self, *entries: str) -> bool:
        if not entries:
            return False
        try:
            return bool(await self._aclient().exists(*(self._prefix + e for e in entries)))
        except self._errors as exc:
            raise DenylistUnavailable(f"Redis: {type(exc).__name__}") from exc

    # -- clients ----------------------------------------------------------------------

    def _ttl_ms(self, expires_at: float) -> int:
        return math.ceil((expires_at - self._clock()) * 1000)

    def _client(self) -> redis.Redis:
        return self._clients.sync()

    def _aclient(self) -> redis.asyncio.Redis:
        return self._clients.aio()

    def __repr__(self) -> str:
        return f"RedisDenylist(prefix={self._prefix!r})"


def denylist_entries(claims: dict[str, Any]) -> tuple[str, ...]:
    """The entries that revoke a token: its ``jti`` and its session ``sid``."""
    jti, sid = claims.get("jti"), claims.get("sid")
    entries = []
    if isinstance(jti, str):
        entries.append(token_entry(jti))
    if isinstance(sid, str):
        entries.append(session_entry(sid))
    return tuple(entries)
