"""A bounded cache of verified tokens, so a token seen before skips parsing and the
signature check, and nothing else.

Keyed by the exact token string. An entry is used only inside its window: not before
the token's ``nbf``/``iat`` and not from its ``exp`` (or ``iat + max_age``) on, leeway
included, and never longer than ``max_age`` seconds after it was stored; outside it,
or once the key set has changed (the resolver's ``generation``), the entry is dropped
and the token verified afresh, which also says why it is refused. The verifier checks
the denylist on every request. At most ``max_entries`` entries, least recently used
evicted first: memory is bounded by the cap, not by traffic.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._verifier import VerifiedToken


class CachedToken(NamedTuple):
    """One verified token and when it may be served. (A NamedTuple rather than a slots
    class: storing new tokens was ~1 µs cheaper with it, reads cost the same.)"""

    token: VerifiedToken  # shared by every request that presents the token: read-only
    not_before: float  # the entry is usable from here ...
    until: float  # ... to here: the token's expiry or the cache's max_age, the earlier
    revocation: tuple[str, ...]  # denylist entries to check on every request
    generation: int  # of the key set it was verified with


class TokenCache:
    def __init__(self, max_entries: int = 10_000, max_age: float = 300.0) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("the token cache needs a positive max_entries")
        if not isinstance(max_age, int | float) or max_age <= 0:
            raise ConfigurationError("the token cache needs a positive max_age")
        self.max_entries = max_entries
        self.max_age = float(max_age)
        self._entries: OrderedDict[str, CachedToken] = OrderedDict()

    def get(self, token: str, generation: int | None, now: float) -> CachedToken | None:
        """The entry for ``token`` if it may be used now, else None (and it is dropped)."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry.generation != generation or not entry.not_before <= now < entry.until:
            self._entries.pop(token, None)
            return None
        try:
            self._entries.move_to_end(token)
        except KeyError:  # (not contextlib.suppress: this runs on every cached request)
            return entry  # evicted by another thread meanwhile: still a valid answer
        return entry

    def put(self, token: str, entry: CachedToken) -> None:
        entries = self._entries
        entries[token] = entry
        while len(entries) > self.max_entries:
            try:
                entries.popitem(last=False)
            except KeyError:  # emptied by another thread
                break

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
