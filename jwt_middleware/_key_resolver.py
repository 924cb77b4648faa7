"""The key resolver protocol: what ``Verifier(keys)`` asks of whatever finds its keys."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ._keys import StaticKey

JOSEHeader: TypeAlias = Mapping[str, Any]
"""A token's decoded (and not yet verified) JOSE header."""
Claims: TypeAlias = Mapping[str, Any]
"""A token's decoded claims: unverified when a resolver sees them."""


class KeyResolver(ABC):
    """Finds the candidate keys for a token from its (unverified) header and claims.

    Subclass it for a key source of your own: ``resolve`` serves WSGI, ``aresolve``
    ASGI, and only keys whose ``kid`` matches may be returned (the verifier never tries
    a whole key set in turn). An object with just ``resolve`` and ``aresolve`` works
    too; the members below then take their defaults.

    The optional members, and what their defaults mean:

    - ``generation`` (``None``): a number that changes whenever the keys do. The
      verified-token cache needs it to drop tokens when a key goes; a resolver that
      leaves it ``None`` is **not cached** (every request checks the signature), and
      the ``Verifier`` says so in a log line at start-up.
    - ``supports_sync`` (``True``): ``False`` for a resolver that can only run on an
      event loop; the WSGI adapter then refuses it at start-up.
    - ``issuers`` (``None``): the issuers this resolver holds keys for; when set,
      the verified ``iss`` must be one of them.
    - ``prefetch`` / ``aprefetch``: load keys ahead of the first request (the
      adapters' warm start, which runs only for resolvers that override one of them);
      the defaults have nothing to load.
    """

    __slots__ = ()

    supports_sync: bool = True
    issuers: frozenset[str] | None = None

    @property
    def generation(self) -> int | None:
        """Changes whenever the keys do; None: cannot tell (no verified-token cache)."""
        return None

    @abstractmethod
    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        """The candidate keys for a token (blocking: WSGI)."""

    @abstractmethod
    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        """The candidate keys for a token (on the event loop: ASGI)."""

    def prefetch(self) -> bool:
        """Load the keys now; True when they are ready."""
        return True

    async def aprefetch(self) -> bool:
        """Load the keys now, without blocking the loop; True when they are ready."""
        return True


def fetches_keys(resolver: KeyResolver) -> bool:
    """True when ``resolver`` has keys to load ahead of time (it overrides a prefetch)."""
    kind = type(resolver)
    return kind.prefetch is not KeyResolver.prefetch or kind.aprefetch is not KeyResolver.aprefetch
