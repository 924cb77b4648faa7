"""Turning what ``Verifier(keys)`` was given into a key resolver: a key, a key set, a
JWKS document, any resolver, or a plain function ``(header, claims) -> key material``.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from .errors import ConfigurationError
from .keys import Claims, Header, KeyMaterial, KeyResolver, KeySet, StaticKey

ResolverResult: TypeAlias = "StaticKey | KeyMaterial | Sequence[StaticKey | KeyMaterial] | None"
ResolverFunction: TypeAlias = Callable[
    [Header, Claims], "ResolverResult | Awaitable[ResolverResult]"
]


class CallableResolver:
    """Adapts ``fn(header, claims)`` returning key material, a ``StaticKey`` or a list.

    Raw material is turned into a key by its type (:meth:`StaticKey.infer`), and the
    keys built from str/bytes material are kept in a small LRU so a PEM is not parsed
    on every request. An ``async def`` resolver works only under ASGI.
    """

    _CACHE_SIZE = 64

    def __init__(self, fn: ResolverFunction) -> None:
        self._fn = fn
        self.supports_sync = not _is_async_callable(fn)
        self._built: OrderedDict[str | bytes, StaticKey] = OrderedDict()

    def resolve(self, header: Header, claims: Claims) -> Sequence[StaticKey]:
        result = self._fn(header, claims)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError("an async key resolver cannot serve a synchronous (WSGI) request")
        return self._keys(result)

    async def aresolve(self, header: Header, claims: Claims) -> Sequence[StaticKey]:
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


def as_resolver(keys: object) -> KeyResolver:
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
    if callable(keys):
        return CallableResolver(keys)
    if isinstance(keys, Iterable):
        return KeySet(keys)
    raise ConfigurationError(f"cannot use {type(keys).__name__} as keys")
