"""The key cache's decisions, without any I/O."""

from __future__ import annotations

import pytest

from jwt_middleware import KeySet
from jwt_middleware._key_cache import Fetch, KeyCache, Unavailable, Use, Wait

from .conftest import Keys


@pytest.fixture
def cache() -> KeyCache:
    return KeyCache(ttl=300, min_ttl=30, max_ttl=86400, cooldown=30, max_stale=600)


@pytest.fixture
def key_set(keys: Keys) -> KeySet:
    return KeySet(
        [keys.verification_key("HS256", kid="a"), keys.verification_key("RS256", kid="b")]
    )


def test_cold_cache_fetches_once_then_waits(cache: KeyCache) -> None:
    assert cache.decide("a", 0) == Fetch()
    assert cache.in_flight
    assert cache.decide("a", 0) == Wait()
    assert cache.decide("a", 0, may_fetch=False) == Unavailable(30)


def test_success_serves_fresh_keys(cache: KeyCache, key_set: KeySet) -> None:
    cache.decide("a", 0)
    cache.succeeded(key_set, None, 0)
    decision = cache.decide("a", 299)
    assert isinstance(decision, Use) and [k.kid for k in decision.keys] == ["a"]
    assert cache.decide(None, 10) == Use(())  # several keys and no kid: nothing to refetch


def test_unknown_kid_refetches_once_per_cooldown(cache: KeyCache, key_set: KeySet) -> None:
    cache.decide("a", 0)
    cache.succeeded(key_set, None, 0)
    assert cache.decide("zzz", 10) == Use(())
    assert cache.decide("zzz", 30) == Fetch()
    cache.succeeded(key_set, None, 30)
    assert cache.decide("yyy", 59) == Use(())
    assert cache.fetches == 2


def test_failure_within_cooldown_is_unavailable(cache: KeyCache) -> None:
    cache.decide("a", 0)
    cache.failed()
    assert cache.decide("a", 12) == Unavailable(18)
    assert cache.decide("a", 30) == Fetch()


def test_stale_keys_serve_while_refreshing_and_after_failure(
    cache: KeyCache, key_set: KeySet
) -> None:
    cache.decide("a", 0)
    cache.succeeded(key_set, None, 0)
    assert cache.decide("a", 400) == Fetch()  # expired: refresh
    stale = cache.decide("a", 400)
    assert isinstance(stale, Use) and stale.keys  # in flight: do not queue, serve stale
    cache.failed()
    assert isinstance(cache.decide("a", 410), Use)
    assert cache.decide("a", 901) == Fetch()  # past ttl + max_stale: like a cold cache
    cache.failed()
    assert cache.decide("a", 901) == Unavailable(30)


@pytest.mark.parametrize(
    ("max_age", "fresh_until"), [(None, 300), (0, 30), (60, 60), (10**9, 86400)]
)
def test_ttl(cache: KeyCache, key_set: KeySet, max_age: int | None, fresh_until: int) -> None:
    cache.decide("a", 0)
    cache.succeeded(key_set, max_age, 0)
    assert cache.is_fresh(fresh_until - 1)
    assert not cache.is_fresh(fresh_until)
