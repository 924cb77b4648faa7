"""Denylists: one contract, run against MemoryDenylist and a real Redis."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from jwt_middleware import (
    ConfigurationError,
    DenylistUnavailable,
    MemoryDenylist,
    RedisDenylist,
    RevokedToken,
    Verifier,
)

from .conftest import NOW, AdapterClient, FakeClock, Keys, TokenFactory


@pytest.fixture(params=["memory", "redis"])
def denylist(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryDenylist(clock=clock)
    else:
        url = request.getfixturevalue("redis_url")
        yield RedisDenylist(url, prefix=request.getfixturevalue("redis_prefix"), clock=clock)


def test_revoke_once(denylist: Any) -> None:
    assert not denylist.is_revoked("jti:a")
    assert denylist.revoke("jti:a", NOW + 60) is True
    assert denylist.revoke("jti:a", NOW + 60) is False
    assert denylist.is_revoked("jti:a")
    assert denylist.is_revoked("jti:zz", "jti:a")
    assert not denylist.is_revoked("jti:b", "sid:a")
    assert not denylist.is_revoked()


def test_already_expired_is_not_stored(denylist: Any) -> None:
    assert denylist.revoke("jti:old", NOW - 1) is True
    assert not denylist.is_revoked("jti:old")


@pytest.mark.anyio
async def test_async(denylist: Any) -> None:
    assert await denylist.arevoke("jti:x", NOW + 60) is True
    assert await denylist.arevoke("jti:x", NOW + 60) is False
    assert await denylist.ais_revoked("jti:y", "jti:x")
    assert not await denylist.ais_revoked("jti:y")


def test_one_winner_among_concurrent_revocations(denylist: Any) -> None:
    """What refresh-token reuse detection rests on."""
    barrier = threading.Barrier(16)

    def revoke(_: int) -> bool:
        barrier.wait(timeout=5)
        return bool(denylist.revoke("jti:race", NOW + 60))

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sorted(pool.map(revoke, range(16))) == [False] * 15 + [True]


def test_memory_entries_expire_with_the_token() -> None:
    clock = FakeClock()
    denylist = MemoryDenylist(clock=clock)
    denylist.revoke("jti:a", NOW + 10)
    clock.advance(9)
    assert denylist.is_revoked("jti:a")
    clock.advance(1)
    assert not denylist.is_revoked("jti:a")
    assert denylist.revoke("jti:a", NOW + 60) is True  # a fresh entry again


def test_memory_does_not_grow_past_the_live_entries() -> None:
    clock = FakeClock()
    denylist = MemoryDenylist(clock=clock)
    for i in range(10_000):
        denylist.revoke(f"jti:{i}", clock.now + 5)
        clock.advance(1)
    assert len(denylist) < 2100  # swept whenever it doubles; only ~5 are live


def test_redis_keys_expire_with_the_token(redis_url: str, redis_prefix: str) -> None:
    denylist = RedisDenylist(redis_url, prefix=redis_prefix)
    client = redis.Redis.from_url(redis_url)
    denylist.revoke("jti:short", time.time() + 0.6)
    denylist.revoke("jti:long", time.time() + 3600)
    assert 0 < client.pttl(redis_prefix + "jti:short") <= 600
    assert 3_590_000 < client.pttl(redis_prefix + "jti:long") <= 3_600_000
    deadline = time.monotonic() + 5
    while denylist.is_revoked("jti:short") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not denylist.is_revoked("jti:short")
    assert denylist.is_revoked("jti:long")


def test_redis_revoking_again_keeps_the_longer_life(redis_url: str, redis_prefix: str) -> None:
    denylist = RedisDenylist(redis_url, prefix=redis_prefix)
    client = redis.Redis.from_url(redis_url)
    denylist.revoke("sid:s", time.time() + 60)
    denylist.revoke("sid:s", time.time() + 600)
    assert client.pttl(redis_prefix + "sid:s") > 500_000
    denylist.revoke("sid:s", time.time() + 10)
    assert client.pttl(redis_prefix + "sid:s") > 500_000


@pytest.mark.anyio
async def test_redis_given_clients(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio

    sync = RedisDenylist(redis.Redis.from_url(redis_url), prefix=redis_prefix)
    asynchronous = RedisDenylist(redis.asyncio.Redis.from_url(redis_url), prefix=redis_prefix)
    assert sync.revoke("jti:c", time.time() + 60)
    assert await asynchronous.ais_revoked("jti:c")
    with pytest.raises(ConfigurationError):
        sync._aclient()
    with pytest.raises(ConfigurationError):
        asynchronous.is_revoked("jti:c")


@pytest.mark.parametrize("bad", ["http://127.0.0.1:6379", "", 42])
def test_bad_redis_configuration(bad: Any) -> None:
    with pytest.raises(ConfigurationError):
        RedisDenylist(bad)


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_redis_fails_closed() -> None:
    denylist = RedisDenylist(f"redis://127.0.0.1:{closed_port()}/0", timeout=0.3)
    with pytest.raises(DenylistUnavailable):
        denylist.is_revoked("jti:a")
    with pytest.raises(DenylistUnavailable):
        denylist.revoke("jti:a", time.time() + 60)
    with pytest.raises(DenylistUnavailable):
        asyncio.run(denylist.ais_revoked("jti:a"))


def test_unreachable_redis_is_a_503(
    adapter: Callable[..., AdapterClient], keys: Keys, make_token: TokenFactory
) -> None:
    denylist = RedisDenylist(f"redis://127.0.0.1:{closed_port()}/0", timeout=0.3)
    verifier = Verifier(keys.verification_key("HS256"), denylist=denylist, clock=lambda: NOW)
    client = adapter(verifier)
    reply = client.get("/", [("Authorization", f"Bearer {make_token(jti='j1')}")])
    assert reply.status == 503
    assert reply.json()["error"] == "temporarily_unavailable"
    assert reply.header("Retry-After") == "5"


def test_verifier_checks_jti_and_sid(
    denylist: Any, keys: Keys, make_token: TokenFactory, clock: FakeClock
) -> None:
    verifier = Verifier(keys.verification_key("HS256"), denylist=denylist, clock=clock)
    token = make_token(jti="j1", sid="s1")
    verifier.verify(token)
    denylist.revoke("sid:s1", NOW + 3600)
    with pytest.raises(RevokedToken):
        verifier.verify(token)
    other = make_token(jti="j2")
    denylist.revoke("jti:j2", NOW + 3600)
    with pytest.raises(RevokedToken):
        verifier.verify(other)
    verifier.verify(make_token(jti="j3"))


def test_denylist_must_fit_the_protocol(keys: Keys) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(keys.verification_key("HS256"), denylist=object())  # type: ignore[arg-type]
