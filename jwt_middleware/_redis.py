"""Redis clients for the shared stores (denylist, DPoP replay cache), made once.

A ``redis://`` URL, or a client the caller made: ``redis.Redis`` for WSGI,
``redis.asyncio.Redis`` for ASGI. From a URL both kinds are made on first use, with
one immediate retry and no backoff, so a Redis that is down fails closed at once
rather than after redis-py's default backoff holds every request for seconds.
Fork-safe: a forked worker makes its own clients from the URL.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import _fork
from .errors import ConfigurationError

if TYPE_CHECKING:
    import asyncio

    import redis
    import redis.asyncio

# One immediate retry: enough for a connection the server closed (a restart).
_RETRIES = 1


class RedisClients:
    """The sync and async clients one store uses; ``errors`` are what a call to a
    Redis that is down or unreachable raises."""

    def __init__(
        self,
        client_or_url: str | redis.Redis | redis.asyncio.Redis,
        *,
        timeout: float,
        owner: str,
    ) -> None:
        try:
            import redis
            import redis.asyncio
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ConfigurationError(
                f"{owner} needs the redis package: pip install 'jwt-middleware[redis]'"
            ) from exc
        self.errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._owner = owner
        self._timeout = timeout
        self._url: str | None = None
        self._sync: redis.Redis | None = None
        self._async: redis.asyncio.Redis | None = None
        self._async_by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, redis.asyncio.Redis
        ] = weakref.WeakKeyDictionary()
        if isinstance(client_or_url, str):
            if urlsplit(client_or_url).scheme not in ("redis", "rediss", "unix"):
                raise ConfigurationError("a Redis URL starts with redis://, rediss:// or unix://")
            self._url = client_or_url
        elif isinstance(client_or_url, redis.asyncio.Redis):
            self._async = client_or_url
        elif isinstance(client_or_url, redis.Redis):
            self._sync = client_or_url
        else:
            raise ConfigurationError(f"{owner} takes a Redis URL or a redis client")
        _fork.reset_after_fork(self)

    def _after_fork(self) -> None:
        """Clients made from the URL belong to the parent (its sockets, its event loops):
        a forked worker makes its own. Clients given to us are the caller's to manage
        (redis-py's own pools reconnect after a fork)."""
        if self._url is not None:
            self._sync = None
        self._async_by_loop = weakref.WeakKeyDictionary()

    def sync(self) -> redis.Redis:
        if self._sync is None:
            if self._url is None:
                raise ConfigurationError(f"this {self._owner} has only an async client")
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._sync = redis.Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=Retry(NoBackoff(), _RETRIES),
            )
        return self._sync

    def aio(self) -> redis.asyncio.Redis:
        if self._async is not None:
            return self._async
        if self._url is None:
            raise ConfigurationError(f"this {self._owner} has only a sync client")
        import asyncio  # loaded already (this runs on its loop); not at package import

        # asyncio clients belong to one event loop: keep one per loop.
        loop = asyncio.get_running_loop()
        client = self._async_by_loop.get(loop)
        if client is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry as AsyncRetry
            from redis.backoff import NoBackoff

            client = redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=AsyncRetry(NoBackoff(), _RETRIES),
            )
            self._async_by_loop[loop] = client
        return client
