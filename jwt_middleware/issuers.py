"""One key resolver per trusted issuer, chosen by the token's ``iss``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from .errors import ConfigurationError, UntrustedIssuer
from .keys import Claims, Header, KeyResolver, StaticKey
from .resolvers import as_resolver


class IssuerKeys:
    """``IssuerKeys({"https://idp-a/": RemoteJWKS.discover("https://idp-a/"), ...})``.

    The token's unverified ``iss`` picks the resolver by exact string match; an issuer
    not in the mapping is refused before any key lookup (and so before any network
    access). The :class:`~jwt_middleware.Verifier` then requires the verified ``iss``
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
        self.issuers = frozenset(self._resolvers)
        self.supports_sync = all(
            getattr(resolver, "supports_sync", True) for resolver in self._resolvers.values()
        )
        self._parts = tuple(self._resolvers.values())

    @property
    def generation(self) -> int | None:
        """Changes when any issuer's keys change (each part only grows, so their sum
        moves whenever one does); None when a part cannot tell (no token caching)."""
        total = 0
        for resolver in self._parts:
            part = getattr(resolver, "generation", None)
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

    def resolve(self, header: Header, claims: Claims) -> Sequence[StaticKey]:
        return self._pick(claims).resolve(header, claims)

    async def aresolve(self, header: Header, claims: Claims) -> Sequence[StaticKey]:
        return await self._pick(claims).aresolve(header, claims)

    def prefetch(self) -> bool:
        results = [getattr(r, "prefetch", _ready)() for r in self._resolvers.values()]
        return all(results)

    async def aprefetch(self) -> bool:
        results = await asyncio.gather(
            *(getattr(r, "aprefetch", _aready)() for r in self._resolvers.values())
        )
        return all(results)

    def __repr__(self) -> str:
        return f"IssuerKeys({sorted(self.issuers)!r})"


def _ready() -> bool:
    return True


async def _aready() -> bool:
    return True
