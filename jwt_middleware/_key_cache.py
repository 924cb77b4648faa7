"""The key cache behind ``RemoteJWKS``, as a sans-IO state machine.

It never fetches; it tells its driver what to do for a token's ``kid`` at time ``now``:

- ``Use`` these keys (possibly none: the ``kid`` is unknown and may not refetch);
- ``Fetch``: the caller has been given the one fetch slot (single flight) and must
  report back with ``KeyCache.succeeded`` or ``KeyCache.failed``;
- ``Wait`` for the fetch someone else is making, then decide again;
- ``Unavailable``: no usable keys and no fetch allowed yet (a 503).

Rules: fresh keys for ``ttl`` (the server's ``max-age`` clamped to ``[min_ttl,
max_ttl]``); a fetch at most once per ``cooldown``, whether it succeeded or not (an
unknown ``kid`` cannot force more); when fetches fail, the last good keys keep serving
until ``max_stale`` after they expired; while a refresh is in flight, requests whose
``kid`` the stale keys know do not wait for it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ._keys import KeySet, StaticKey


@dataclass(frozen=True, slots=True)
class Use:
    keys: Sequence[StaticKey]


@dataclass(frozen=True, slots=True)
class Fetch:
    pass


@dataclass(frozen=True, slots=True)
class Wait:
    pass


@dataclass(frozen=True, slots=True)
class Unavailable:
    retry_after: int


Decision = Use | Fetch | Wait | Unavailable


@dataclass(frozen=True, slots=True)
class _Snapshot:
    keys: KeySet
    expires_at: float


class KeyCache:
    def __init__(
        self, *, ttl: float, min_ttl: float, max_ttl: float, cooldown: float, max_stale: float
    ) -> None:
        self._ttl, self._min_ttl, self._max_ttl = ttl, min_ttl, max_ttl
        self._cooldown, self._max_stale = cooldown, max_stale
        self._snapshot: _Snapshot | None = None
        self._last_attempt: float | None = None
        self._in_flight = False
        self._lock = threading.Lock()  # decide-and-claim is atomic across threads
        self.fetches = 0
        self.failures = 0
        self.generation = 0  # +1 whenever fetched keys replace the cached ones

    def after_fork(self) -> None:
        """In a forked child: the parent's lock may be held and its fetch is not ours.
        Forget the attempt, so the child fetches at once instead of after a cooldown."""
        self._lock = threading.Lock()
        if self._in_flight:
            self._in_flight = False
            self._last_attempt = None

    @property
    def in_flight(self) -> bool:
        return self._in_flight

    def is_fresh(self, now: float) -> bool:
        snapshot = self._snapshot
        return snapshot is not None and now < snapshot.expires_at

    def decide(self, kid: str | None, now: float, *, may_fetch: bool = True) -> Decision:
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and now > snapshot.expires_at + self._max_stale:
                snapshot = None  # too old to trust, even during an outage
            keys = snapshot.keys.resolve({"kid": kid}, {}) if snapshot is not None else ()
            fresh = snapshot is not None and now < snapshot.expires_at
            if keys and fresh:
                return Use(keys)
            # Cold or stale: refresh. Fresh but the kid is unknown: maybe rotated, refetch
            # (a token without kid matching no single key gains nothing from a refetch).
            worth_fetching = not fresh or kid is not None
            if self._in_flight:
                if keys:
                    return Use(keys)  # stale but known: serve it, do not queue
                if may_fetch and worth_fetching:
                    return Wait()
            elif may_fetch and worth_fetching and self._cooldown_over(now):
                self._in_flight = True
                self._last_attempt = now
                self.fetches += 1
                return Fetch()
            if snapshot is not None:
                return Use(keys)  # () when the kid is unknown: a 401, not a fetch
            return Unavailable(self._retry_after(now))

    def succeeded(self, keys: KeySet, max_age: int | None, now: float) -> None:
        ttl = self._ttl if max_age is None else min(max(max_age, self._min_ttl), self._max_ttl)
        with self._lock:
            self._snapshot = _Snapshot(keys, now + ttl)
            self._in_flight = False
            self.generation += 1

    def failed(self) -> None:
        with self._lock:
            self._in_flight = False
            self.failures += 1

    def _cooldown_over(self, now: float) -> bool:
        return self._last_attempt is None or now - self._last_attempt >= self._cooldown

    def _retry_after(self, now: float) -> int:
        if self._last_attempt is None:
            return max(1, math.ceil(self._cooldown))
        return max(1, math.ceil(self._cooldown - (now - self._last_attempt)))
