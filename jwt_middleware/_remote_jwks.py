"""Keys from a JWKS URL (or found through OIDC discovery): cached, rotated, flood-proof,
outage-tolerant, and never blocking the event loop.

The decisions live in the sans-IO ``KeyCache``; this
module only performs the fetch it asks for, with a blocking httpx client under WSGI and
an async one under ASGI, and hands the result back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from . import _documents, _fork
from ._key_cache import Fetch, KeyCache, Unavailable, Use, Wait
from ._key_resolver import Claims, JOSEHeader, KeyResolver
from ._keys import KeySet, StaticKey, configured_algorithms
from .errors import ConfigurationError, KeysUnavailable

if TYPE_CHECKING:
    import asyncio

    import httpx

logger = logging.getLogger("jwt_middleware")

DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_TTL = 24 * 3600.0  # how long a discovered jwks_uri is used before asking again


class IssuerMismatch(_documents.FetchError):
    """The discovery document's ``issuer`` is not the configured one (OIDC Discovery
    section 4.3 requires them to be identical)."""


class RemoteJWKSOptions(TypedDict, total=False):
    algorithms: Iterable[str] | None
    cache_ttl: float
    refresh_cooldown: float
    timeout: float
    max_stale: float
    max_bytes: int
    min_ttl: float
    max_ttl: float
    allow_redirects: bool
    ca_file: str | None
    auth_token_file: str | None
    http_client: httpx.Client | None
    async_http_client: httpx.AsyncClient | None
    clock: Callable[[], float]


class RemoteJWKS(KeyResolver):
    """A ``KeyResolver`` over a JWKS URL.

    - ``cache_ttl``: seconds keys stay fresh when the server sends no ``max-age``; a
      ``Cache-Control: max-age`` is honoured, clamped to ``[min_ttl, max_ttl]``.
    - ``refresh_cooldown``: at most one fetch per this many seconds, successful or not:
      unknown ``kid``s cannot force more, and a failing server is not hammered.
    - ``algorithms``: what the fetched keys may verify (keys that allow none are
      skipped); RSA keys published without ``alg`` then verify the PS* listed too.
    - ``max_stale``: when refreshing fails, expired keys keep serving this long.
    - ``timeout``, ``max_bytes``, ``allow_redirects``: how a fetch may go.
    - ``ca_file``: trust only this CA bundle (a cluster's own CA); ``auth_token_file``:
      send the file's token as ``Authorization: Bearer``, read anew on every fetch
      (Kubernetes rotates it in place). Both for ``providers.kubernetes``.
    - ``http_client`` / ``async_http_client``: your httpx clients (proxies, TLS);
      by default a short-lived client is made per fetch.

    A token whose ``kid`` is unknown triggers one refetch (rotation); still unknown, it
    is a 401. With no usable keys the answer is ``KeysUnavailable`` (a 503).
    """

    def __init__(self, url: str, **options: Unpack[RemoteJWKSOptions]) -> None:
        self._setup(_documents.check_url(url, "JWKS URL"), None, **options)

    @classmethod
    def discover(cls, issuer: str, **options: Unpack[RemoteJWKSOptions]) -> RemoteJWKS:
        """Keys of an OpenID provider: ``jwks_uri`` from ``{issuer}/.well-known/
        openid-configuration``, found on first use, whose ``issuer`` must equal ours."""
        resolver = cls.__new__(cls)
        resolver._setup(None, _documents.check_url(issuer, "issuer"), **options)
        return resolver

    def _setup(
        self,
        url: str | None,
        issuer: str | None,
        *,
        algorithms: Iterable[str] | None = None,
        cache_ttl: float = 300,
        refresh_cooldown: float = 30,
        timeout: float = 5.0,
        max_stale: float = 24 * 3600,
        max_bytes: int = 256 * 1024,
        min_ttl: float | None = None,
        max_ttl: float = 24 * 3600,
        allow_redirects: bool = False,
        ca_file: str | None = None,
        auth_token_file: str | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (
            ("cache_ttl", cache_ttl),
            ("refresh_cooldown", refresh_cooldown),
            ("timeout", timeout),
            ("max_ttl", max_ttl),
        ):
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds")
        if not isinstance(max_stale, int | float) or max_stale < 0:
            raise ConfigurationError("max_stale must be a non-negative number of seconds")
        if not isinstance(max_bytes, int) or max_bytes < 1024:
            raise ConfigurationError("max_bytes must be an int of at least 1024")
        self._algorithms = configured_algorithms(algorithms)
        self._jwks_url = url
        self._issuer = issuer
        self._discovered_at: float | None = None
        if auth_token_file is not None and allow_redirects:
            raise ConfigurationError("auth_token_file cannot go with allow_redirects")
        self._options = _documents.FetchOptions(
            timeout, max_bytes, allow_redirects, ca_file, auth_token_file
        )
        # httpx loads with the first remote key source, at start-up, not with the
        # package: most services hold their keys in memory.
        from . import _http

        _http.tls_context(ca_file)  # made now, on this thread; a bad CA file fails here

        self._fetch, self._afetch = _http.fetch, _http.afetch
        self._client = http_client
        self._async_client = async_http_client
        self._clock = clock
        self._cache = KeyCache(
            ttl=cache_ttl,
            min_ttl=refresh_cooldown if min_ttl is None else min_ttl,
            max_ttl=max_ttl,
            cooldown=refresh_cooldown,
            max_stale=max_stale,
        )
        # Single flight: threads wait on the condition, tasks on the in-flight task.
        self._done = threading.Condition()
        self._task: asyncio.Task[None] | None = None
        # Longest a fetch can take: discovery plus the JWKS, each with redirects.
        self._max_fetch_time = timeout * 2 * 4 + 1
        _fork.reset_after_fork(self)

    def _after_fork(self) -> None:
        """A forked worker starts with no fetch in flight and fresh locks (see _fork)."""
        self._cache.after_fork()
        self._done = threading.Condition()
        self._task = None

    @property
    def url(self) -> str | None:
        """The JWKS URL (for discovery: None until discovered)."""
        return self._jwks_url

    @property
    def generation(self) -> int:
        """Changes whenever a fetch replaces the keys (the token cache watches it)."""
        return self._cache.generation

    @property
    def fetch_count(self) -> int:
        """How many fetches were started (for tests and metrics)."""
        return self._cache.fetches

    # -- sync driver (WSGI) -----------------------------------------------------------

    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        kid = _kid(header)
        decision = self._cache.decide(kid, self._clock())
        if isinstance(decision, Fetch):
            self._refresh()
        elif isinstance(decision, Wait):
            with self._done:
                self._done.wait_for(lambda: not self._cache.in_flight, self._max_fetch_time)
        else:
            return _answer(decision)
        return _answer(self._cache.decide(kid, self._clock(), may_fetch=False))

    def prefetch(self) -> bool:
        """Fetch now unless fresh keys are cached; True when keys are usable after it."""
        if self._cache.is_fresh(self._clock()):
            return True
        if isinstance(self._cache.decide(None, self._clock()), Fetch):
            self._refresh()
        return self._cache.is_fresh(self._clock())

    def _refresh(self) -> None:
        flow = self._refresh_flow()
        try:
            url = next(flow)
            while True:
                url = flow.send(self._fetch(url, self._options, self._client))
        except StopIteration:
            pass
        except Exception as exc:  # a failed fetch is an outage, never the request's error
            self._failed(exc)
        finally:
            self._settle()
            with self._done:
                self._done.notify_all()

    # -- async driver (ASGI) ----------------------------------------------------------

    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        kid = _kid(header)
        decision = self._cache.decide(kid, self._clock())
        if isinstance(decision, Fetch):
            await self._start_async_refresh()
        elif isinstance(decision, Wait):
            await self._await_refresh()
        else:
            return _answer(decision)
        return _answer(self._cache.decide(kid, self._clock(), may_fetch=False))

    async def aprefetch(self) -> bool:
        if self._cache.is_fresh(self._clock()):
            return True
        if isinstance(self._cache.decide(None, self._clock()), Fetch):
            await self._start_async_refresh()
        return self._cache.is_fresh(self._clock())

    async def _start_async_refresh(self) -> None:
        import asyncio  # loaded already (this runs on its loop); not at package import

        task = asyncio.get_running_loop().create_task(self._arefresh())
        self._task = task
        # Shielded: a request that goes away does not cancel the fetch others wait for.
        await asyncio.shield(task)

    async def _await_refresh(self) -> None:
        import asyncio  # loaded already (this runs on its loop); not at package import

        task = self._task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(task)
            return
        # The fetch runs in a thread or another loop, so there is no event to share:
        # poll (in real time, not the cache's clock), never block this loop.
        deadline = time.monotonic() + self._max_fetch_time
        while self._cache.in_flight and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    async def _arefresh(self) -> None:
        flow = self._refresh_flow()
        try:
            url = next(flow)
            while True:
                url = flow.send(await self._afetch(url, self._options, self._async_client))
        except StopIteration:
            pass
        except Exception as exc:  # a failed fetch is an outage, never the request's error
            self._failed(exc)
        finally:
            self._settle()

    # -- pure steps shared by both drivers --------------------------------------------

    def _refresh_flow(self) -> Generator[str, _documents.Document, None]:
        """One refresh, as the drivers run it (httpx's ``auth_flow`` shape): it yields
        each URL to fetch and is sent the document; the drivers only do the I/O."""
        url = self._jwks_url
        if self._needs_discovery():
            url = self._accept_discovery((yield self._discovery_url))
        self._accept((yield _known(url)))

    @property
    def _discovery_url(self) -> str:
        return _known(self._issuer).rstrip("/") + DISCOVERY_PATH

    def _needs_discovery(self) -> bool:
        if self._issuer is None:
            return False
        return (
            self._jwks_url is None
            or self._discovered_at is None
            or self._clock() - self._discovered_at > DISCOVERY_TTL
        )

    def _accept_discovery(self, document: _documents.Document) -> str:
        named = document.body.get("issuer")
        if named != self._issuer:
            raise IssuerMismatch(
                f"the discovery document names issuer {str(named)[:200]!r}, configured "
                f"{self._issuer!r}: they must match exactly (a trailing slash counts)"
            )
        jwks_uri = document.body.get("jwks_uri")
        try:
            url = _documents.check_url(jwks_uri, "jwks_uri")  # type: ignore[arg-type]
        except ConfigurationError as exc:
            raise _documents.FetchError(str(exc)) from None
        self._jwks_url, self._discovered_at = url, self._clock()
        return url

    def _accept(self, document: _documents.Document) -> None:
        try:
            with _fork.unforkable():  # the keys are loaded inside OpenSSL
                keys = KeySet(document.body, skip_invalid=True, algorithms=self._algorithms)
        except ConfigurationError as exc:
            raise _documents.FetchError(f"no usable key in the JWKS: {exc}") from exc
        self._cache.succeeded(keys, document.max_age, self._clock())
        logger.info("fetched %d key(s) from %s", len(keys), self._jwks_url)

    def _failed(self, exc: Exception) -> None:
        where = self._jwks_url or self._issuer
        if isinstance(exc, IssuerMismatch):  # a configuration error: retrying will not help
            logger.error("fetching keys from %s failed: %s", where, exc)
        elif isinstance(exc, _documents.FetchError):
            logger.warning("fetching keys from %s failed: %s", where, exc)
        else:
            logger.exception("fetching keys from %s failed unexpectedly", where)
        self._cache.failed()

    def _settle(self) -> None:
        """Whatever ended the fetch (even a cancellation), free the single-flight slot."""
        if self._cache.in_flight:
            self._cache.failed()

    def __repr__(self) -> str:
        where = self._jwks_url or f"discovery from {self._issuer}"
        return f"RemoteJWKS({where!r})"


def _known(url: str | None) -> str:
    if url is None:
        raise _documents.FetchError("no URL to fetch")
    return url


def _kid(header: JOSEHeader) -> str | None:
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def _answer(decision: Any) -> Sequence[StaticKey]:
    if isinstance(decision, Use):
        return decision.keys
    if isinstance(decision, Unavailable):
        raise KeysUnavailable(retry_after=decision.retry_after)
    raise KeysUnavailable()  # a fetch still in flight after the longest it may take
