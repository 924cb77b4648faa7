"""The resolvers built from what ``Verifier(keys)`` is given: a key, a key set, a JWKS
document, any resolver, a plain function ``(header, claims) -> key material``, or one
resolver per trusted issuer (``IssuerKeys``).
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

from ._key_resolver import Claims, JOSEHeader, KeyResolver
from ._keys import KeyMaterial, KeySet, StaticKey
from .errors import ConfigurationError, UntrustedIssuer

ResolverResult: TypeAlias = "StaticKey | KeyMaterial | Sequence[StaticKey | KeyMaterial] | None"
ResolverFunction: TypeAlias = Callable[
    [JOSEHeader, Claims], "ResolverResult | Awaitable[ResolverResult]"
]


class CallableResolver(KeyResolver):
    """Adapts ``fn(header, claims)`` returning key material, a ``StaticKey`` or a list.

    Raw material is turned into a key by its type (``StaticKey.infer``), and the
    keys built from str/bytes material are kept in a small LRU so a PEM is not parsed
    on every request. An ``async def`` resolver works only under ASGI.
    """

    _CACHE_SIZE = 64

    def __init__(self, fn: ResolverFunction) -> None:
        self._fn = fn
        self.supports_sync = not _is_async_callable(fn)
        self._built: OrderedDict[str | bytes, StaticKey] = OrderedDict()

    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        result = self._fn(header, claims)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError("an async key resolver cannot serve a synchronous (WSGI) request")
        return self._keys(result)

    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        result = self._fn(header, claims)
        if inspect.isawaitable(result):
            result = await result
        return self._keys(result)

    def _keys(self, result: Any) -> Sequence[StaticKey]:
        if result is None:
            return ()
        if isinstance(result, StaticKey | str | bytes | Mapping):
            return (self._key(result),)
        return tuple(self._key(item) for item in result)

    def _key(self, item: StaticKey | KeyMaterial) -> StaticKey:
        if isinstance(item, StaticKey):
            return item
        if isinstance(item, Mapping):
            return StaticKey.infer(item)
        key = self._built.get(item)
        if key is None:
            key = StaticKey.infer(item)
            self._built[item] = key
            if len(self._built) > self._CACHE_SIZE:
                self._built.popitem(last=False)
        else:
            self._built.move_to_end(item)
        return key


def _is_async_callable(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 (callable objects with async __call__)
    )


class ResolverLike(Protocol):
    """A resolver that does not subclass ``KeyResolver``: the two required methods."""

    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]: ...

    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]: ...


Keys: TypeAlias = (
    "KeyResolver | ResolverLike | StaticKey | KeySet | Mapping[str, Any] "
    "| Iterable[StaticKey | Mapping[str, Any]] | ResolverFunction"
)
"""What ``Verifier(keys)`` accepts."""


def as_resolver(keys: Keys | object) -> KeyResolver:
    """Turn whatever ``Verifier(keys)`` was given into a resolver, or refuse at start-up."""
    if isinstance(keys, StaticKey | KeySet):
        return keys
    if isinstance(keys, str | bytes):
        raise ConfigurationError(
            "wrap a secret or PEM in StaticKey(material, algorithm=...) so the algorithm "
            "is chosen by you, not by the token"
        )
    if isinstance(keys, Mapping):
        return KeySet(keys) if "keys" in keys else StaticKey(keys)
    if isinstance(keys, KeyResolver):
        return keys
    if callable(getattr(keys, "resolve", None)) and callable(getattr(keys, "aresolve", None)):
        return _DuckTypedResolver(keys)
    if callable(keys):
        return CallableResolver(keys)
    if isinstance(keys, Iterable):
        return KeySet(keys)
    raise ConfigurationError(f"cannot use {type(keys).__name__} as keys")


class IssuerKeys(KeyResolver):
    """``IssuerKeys({"https://idp-a/": RemoteJWKS.discover("https://idp-a/"), ...})``.

    The token's unverified ``iss`` picks the resolver by exact string match; an issuer
    not in the mapping is refused before any key lookup (and so before any network
    access). The ``Verifier`` then requires the verified ``iss``
    to be one of these issuers, so keys of one issuer never vouch for another.
    """

    def __init__(self, resolvers: Mapping[str, object]) -> None:
        if not isinstance(resolvers, Mapping) or not resolvers:
            raise ConfigurationError("IssuerKeys needs a mapping of issuer -> keys")
        for issuer in resolvers:
            if not isinstance(issuer, str) or not issuer:
                raise ConfigurationError("issuers are non-empty strings")
        self._resolvers: dict[str, KeyResolver] = {
            issuer: as_resolver(keys) for issuer, keys in resolvers.items()
        }
        self.issuers: frozenset[str] = frozenset(self._resolvers)
        self.supports_sync = all(resolver.supports_sync for resolver in self._resolvers.values())
        self._parts = tuple(self._resolvers.values())

    @property
    def generation(self) -> int | None:
        """Changes when any issuer's keys change (each part only grows, so their sum
        moves whenever one does); None when a part cannot tell (no token caching)."""
        total = 0
        for resolver in self._parts:
            part = resolver.generation
            if part is None:
                return None
            total += part
        return total

    def _pick(self, claims: Claims) -> KeyResolver:
        issuer = claims.get("iss")
        resolver = self._resolvers.get(issuer) if isinstance(issuer, str) else None
        if resolver is None:
            raise UntrustedIssuer("the token's iss is not a configured issuer")
        return resolver

    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        return self._pick(claims).resolve(header, claims)

    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        return await self._pick(claims).aresolve(header, claims)

    def prefetch(self) -> bool:
        return all([resolver.prefetch() for resolver in self._parts])  # noqa: C419 (all of them)

    async def aprefetch(self) -> bool:
        import asyncio  # loaded already (this runs on its loop); not at package import

        results = await asyncio.gather(*(resolver.aprefetch() for resolver in self._parts))
        return all(results)

    def __repr__(self) -> str:
        return f"IssuerKeys({sorted(self.issuers)!r})"


class _DuckTypedResolver(KeyResolver):
    """An object with ``resolve`` and ``aresolve`` that does not subclass
    ``KeyResolver``: its optional members are read once here (``generation`` on
    every call, since it moves), and the defaults stand in for those it lacks."""

    def __init__(self, resolver: Any) -> None:
        self._inner = resolver
        self.supports_sync = bool(getattr(resolver, "supports_sync", True))
        issuers = getattr(resolver, "issuers", None)
        self.issuers = None if issuers is None else frozenset(issuers)
        self._has_generation = hasattr(resolver, "generation")

    @property
    def generation(self) -> int | None:
        value: int | None = self._inner.generation if self._has_generation else None
        return value

    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        keys: Sequence[StaticKey] = self._inner.resolve(header, claims)
        return keys

    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        keys: Sequence[StaticKey] = await self._inner.aresolve(header, claims)
        return keys

    def prefetch(self) -> bool:
        prefetch = getattr(self._inner, "prefetch", None)
        return True if prefetch is None else bool(prefetch())

    async def aprefetch(self) -> bool:
        aprefetch = getattr(self._inner, "aprefetch", None)
        return True if aprefetch is None else bool(await aprefetch())

    def __repr__(self) -> str:
        return repr(self._inner)
