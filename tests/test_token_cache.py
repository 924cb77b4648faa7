"""The verified-token cache: hits skip the signature, never the time checks or the
denylist; rotation, eviction and the cap hold. No timing assertions."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from jwt_middleware import (
    ExpiredToken,
    KeySet,
    MemoryDenylist,
    NotYetValid,
    RemoteJWKS,
    RevokedToken,
    StaticKey,
    UnknownKey,
    Verifier,
)
from jwt_middleware._token_cache import TokenCache

from .conftest import NOW, AdapterClient, FakeClock, Keys, TokenFactory
from .docserver import DocumentServer
from .helpers import public_jwk


class CountingKeys:
    """A key set that counts lookups: a lookup means the token was verified afresh."""

    generation = 0
    supports_sync = True

    def __init__(self, key: StaticKey) -> None:
        self.key, self.lookups = key, 0

    def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
        self.lookups += 1
        return (self.key,)

    async def aresolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
        return self.resolve(header, claims)


@pytest.fixture
def counting(keys: Keys) -> CountingKeys:
    return CountingKeys(keys.verification_key("HS256"))


def test_a_seen_token_skips_verification(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock)
    token = make_token()
    first = verifier.verify(token)
    for _ in range(5):
        assert verifier.verify(token) == first
    assert counting.lookups == 1


@pytest.mark.anyio
async def test_async_uses_the_same_cache(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock)
    token = make_token()
    await verifier.averify(token)
    verifier.verify(token)
    await verifier.averify(token)
    assert counting.lookups == 1


def test_expiry_while_cached(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock, leeway=5)
    token = make_token(exp=NOW + 10, kid=None, iss="https://idp/")
    verifier.verify(token)
    clock.advance(14)
    verifier.verify(token)
    clock.advance(1)  # exp + leeway
    with pytest.raises(ExpiredToken) as caught:
        verifier.verify(token)
    assert caught.value.issuer == "https://idp/"  # context, as on first sight
    assert len(verifier.cache) == 0  # dropped
    with pytest.raises(ExpiredToken):
        verifier.verify(token)


def test_max_age_while_cached(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock, max_age=60)
    token = make_token(iat=NOW)
    verifier.verify(token)
    clock.advance(60)
    with pytest.raises(ExpiredToken):
        verifier.verify(token)


def test_nbf_still_checked(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock)
    token = make_token(nbf=NOW)
    verifier.verify(token)
    clock.now = NOW - 11  # a clock set back, past the default clock_skew
    with pytest.raises(NotYetValid):
        verifier.verify(token)


def test_revocation_while_cached(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    denylist = MemoryDenylist(clock=clock)
    verifier = Verifier(counting, clock=clock, denylist=denylist)
    token, session_token = make_token(jti="j1"), make_token(jti="j2", sid="s1")
    verifier.verify(token)
    verifier.verify(session_token)
    denylist.revoke("jti:j1", NOW + 3600)
    denylist.revoke("sid:s1", NOW + 3600)
    with pytest.raises(RevokedToken):
        verifier.verify(token)
    with pytest.raises(RevokedToken):
        verifier.verify(session_token)
    assert counting.lookups == 2


def test_revocation_while_cached_through_the_middleware(
    adapter: Callable[..., AdapterClient],
    counting: CountingKeys,
    clock: FakeClock,
    make_token: TokenFactory,
) -> None:
    denylist = MemoryDenylist(clock=clock)
    client = adapter(Verifier(counting, clock=clock, denylist=denylist))
    token = make_token(jti="j1")
    headers = [("Authorization", f"Bearer {token}")]
    assert client.get("/", headers).status == 200
    assert client.get("/", headers).status == 200
    denylist.revoke("jti:j1", NOW + 3600)
    assert client.get("/", headers).status == 401
    assert counting.lookups == 1


def test_key_rotation_while_cached(
    keys: Keys, docserver: DocumentServer, clock: FakeClock, make_token: TokenFactory
) -> None:
    docserver.serve("/jwks", {"keys": [public_jwk(keys, "RS256", "old")]})
    verifier = Verifier(RemoteJWKS(docserver.url("/jwks"), clock=clock), clock=clock)
    token = make_token("RS256", kid="old")
    verifier.verify(token)
    verifier.verify(token)  # cached
    docserver.serve("/jwks", {"keys": [public_jwk(keys, "ES256", "new")]})  # old key gone
    clock.advance(301)  # the cached keys expire; the next lookup refetches
    verifier.verify(make_token("ES256", kid="new"))
    with pytest.raises(UnknownKey):
        verifier.verify(token)  # the key set changed: verified afresh, and refused


def test_cache_ttl_reverifies(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock, cache_ttl=30)
    token = make_token()
    verifier.verify(token)
    clock.advance(29)
    verifier.verify(token)
    clock.advance(1)
    verifier.verify(token)
    assert counting.lookups == 2


def test_eviction_at_the_cap_least_recently_used_first(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock, cache_size=3)
    tokens = [make_token(jti=str(i)) for i in range(4)]
    for token in tokens[:3]:
        verifier.verify(token)
    verifier.verify(tokens[0])  # now the most recently used
    verifier.verify(tokens[3])  # evicts tokens[1]
    assert counting.lookups == 4
    verifier.verify(tokens[0])
    verifier.verify(tokens[2])
    assert counting.lookups == 4
    verifier.verify(tokens[1])
    assert counting.lookups == 5


def test_no_growth_past_the_cap(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock, cache_size=100)
    for _ in range(1000):
        verifier.verify(make_token(jti=secrets.token_hex(8)))
    assert verifier.cache is not None and len(verifier.cache) == 100


def test_the_app_cannot_change_cached_claims(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock)
    token = make_token(role="user")
    verifier.verify(token)["role"] = "admin"
    verifier.verify(token)["role"] = "root"
    assert verifier.verify(token)["role"] == "user"


def test_the_app_cannot_change_the_cached_header(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock)
    token = make_token(kid=None)
    verifier.verify_token(token).header["kid"] = "changed"
    verifier.verify_token(token).header["alg"] = "none"
    assert verifier.verify_token(token).header == {"alg": "HS256", "typ": "JWT"}


def test_failures_are_not_cached(
    counting: CountingKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    verifier = Verifier(counting, clock=clock)
    token = make_token(nbf=NOW + 30)
    with pytest.raises(NotYetValid):
        verifier.verify(token)
    assert len(verifier.cache) == 0  # type: ignore[arg-type]
    clock.advance(30)
    verifier.verify(token)


def test_off_and_uncacheable(keys: Keys) -> None:
    assert Verifier(keys.verification_key("HS256"), cache_size=0).cache is None
    assert Verifier(lambda h, c: keys.verification_key("HS256")).cache is None
    assert Verifier(KeySet([keys.verification_key("HS256")])).cache is not None


@pytest.mark.parametrize("options", [{"max_entries": 0}, {"max_entries": True}, {"max_age": 0}])
def test_bad_cache_options(options: dict[str, Any]) -> None:
    from jwt_middleware import ConfigurationError

    with pytest.raises(ConfigurationError):
        TokenCache(**options)
