"""TokenIssuer: minting, refresh with rotation and reuse detection, revocation, interop."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt as pyjwt
import pytest
from jose import jwk as jose_jwk

from jwt_middleware import (
    ConfigurationError,
    ExpiredToken,
    MemoryDenylist,
    RedisDenylist,
    RefreshTokenReused,
    RevokedToken,
    StaticKey,
    TokenIssuer,
    Verifier,
    WrongTokenType,
)
from jwt_middleware._compact import parse

from .conftest import NOW, AdapterClient, FakeClock, Keys, pem_private, pem_public
from .helpers import bearer

Adapter = Callable[..., AdapterClient]
ISS, AUD = "https://auth.example/", "orders-api"


@pytest.fixture
def issuer(keys: Keys, clock: FakeClock) -> TokenIssuer:
    return TokenIssuer(
        StaticKey(keys.secret, "HS256", kid="hs1"), issuer=ISS, audience=AUD, clock=clock
    )


def verifier_for(issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> Verifier:
    return Verifier(
        StaticKey(keys.secret, "HS256", kid="hs1"),
        issuer=ISS,
        audience=AUD,
        denylist=issuer.denylist,
        clock=clock,
    )


class TestIssue:
    def test_access_token(self, issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> None:
        token = issuer.issue(
            "alice",
            scopes=["orders:read", "orders:write"],
            claims={"tenant": "t1", "roles": ["admin"]},
        )
        parsed = parse(token, 8192)
        assert parsed.header == {"alg": "HS256", "typ": "at+jwt", "kid": "hs1"}
        claims = verifier_for(issuer, keys, clock).verify(token)
        assert claims["iss"] == ISS and claims["aud"] == AUD and claims["sub"] == "alice"
        assert claims["iat"] == claims["nbf"] == NOW and claims["exp"] == NOW + 900
        assert claims["scope"] == "orders:read orders:write"
        assert claims["tenant"] == "t1" and claims["roles"] == ["admin"]
        assert len(claims["jti"]) >= 20 and "sid" not in claims
        assert issuer.issue("alice") != issuer.issue("alice")  # a fresh jti each time

    def test_ttl_override(self, issuer: TokenIssuer) -> None:
        assert parse(issuer.issue("a", ttl=60), 8192).claims["exp"] == NOW + 60

    @pytest.mark.parametrize(
        "claim", ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "scope"]
    )
    def test_reserved_claims_cannot_be_overridden(self, issuer: TokenIssuer, claim: str) -> None:
        with pytest.raises(ValueError, match=claim):
            issuer.issue("alice", claims={claim: "evil"})

    @pytest.mark.parametrize(
        ("subject", "scopes"), [("", ()), (None, ()), ("a", ["a b"]), ("a", ['a"b'])]
    )
    def test_bad_arguments(self, issuer: TokenIssuer, subject: Any, scopes: Any) -> None:
        with pytest.raises(ValueError, match=r"subject|scope"):
            issuer.issue(subject, scopes=scopes)

    def test_pair(self, issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> None:
        pair = issuer.issue_pair("alice", scopes=["read"])
        assert (pair.token_type, pair.expires_in, pair.refresh_expires_in) == (
            "Bearer",
            900,
            14 * 24 * 3600,
        )
        access, refresh = parse(pair.access_token, 8192), parse(pair.refresh_token, 8192)
        assert refresh.header["typ"] == "refresh+jwt"
        assert access.claims["sid"] == refresh.claims["sid"]
        assert refresh.claims["exp"] == NOW + 14 * 24 * 3600
        assert "aud" not in refresh.claims
        assert set(pair.as_dict()) == {
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "refresh_expires_in",
        }
        assert pair.access_token not in repr(pair)

    def test_refresh_token_is_not_an_access_token(
        self, adapter: Adapter, issuer: TokenIssuer, keys: Keys, clock: FakeClock
    ) -> None:
        pair = issuer.issue_pair("alice")
        client = adapter(verifier_for(issuer, keys, clock))
        assert client.get("/", bearer(pair.access_token)).status == 200
        reply = client.get("/", bearer(pair.refresh_token))
        assert reply.status == 401
        assert reply.json()["error"] == "invalid_token"
        with pytest.raises(WrongTokenType):
            verifier_for(issuer, keys, clock).verify(pair.refresh_token)


class TestKeys:
    @pytest.mark.parametrize("alg", ["HS256", "HS512", "RS256", "RS512", "ES256", "ES384", "ES512"])
    def test_every_algorithm_signs_and_verifies(
        self, keys: Keys, alg: str, clock: FakeClock
    ) -> None:
        issuer = TokenIssuer(StaticKey(keys.signing_material(alg), alg), clock=clock)
        verifier = Verifier(keys.verification_key(alg), clock=clock)
        assert verifier.verify(issuer.issue("bob"))["sub"] == "bob"

    def test_private_jwk(self, keys: Keys, clock: FakeClock) -> None:
        private_jwk = {
            **jose_jwk.construct(pem_private(keys.ec256), "ES256").to_dict(),
            "kid": "ec1",
        }
        issuer = TokenIssuer(StaticKey(private_jwk), clock=clock)
        token = issuer.issue("carol")
        assert parse(token, 8192).header["kid"] == "ec1"
        assert Verifier(keys.verification_key("ES256"), clock=clock).verify(token)

    def test_public_key_cannot_sign(self, keys: Keys) -> None:
        with pytest.raises(ConfigurationError, match="private"):
            TokenIssuer(StaticKey(pem_public(keys.rsa), "RS256"))

    def test_several_algorithms_need_a_choice(self, keys: Keys) -> None:
        key = StaticKey.infer(pem_private(keys.rsa))
        with pytest.raises(ConfigurationError, match="algorithm="):
            TokenIssuer(key)
        TokenIssuer(key, algorithm="RS384")
        with pytest.raises(ConfigurationError):
            TokenIssuer(key, algorithm="ES256")

    @pytest.mark.parametrize(
        "options", [{"access_ttl": 0}, {"refresh_ttl": 600}, {"access_ttl": 1.5}]
    )
    def test_bad_lifetimes(self, keys: Keys, options: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            TokenIssuer(StaticKey(keys.secret, "HS256"), **options)


class TestRefresh:
    def test_rotation(self, issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> None:
        first = issuer.issue_pair("alice", scopes=["read"], claims={"tenant": "t1"})
        clock.advance(600)
        second = issuer.refresh(first.refresh_token)
        assert second.refresh_token != first.refresh_token
        claims = verifier_for(issuer, keys, clock).verify(second.access_token)
        assert (claims["sub"], claims["scope"], claims["tenant"]) == ("alice", "read", "t1")
        assert claims["iat"] == NOW + 600
        first_access = parse(first.access_token, 8192).claims
        assert claims["sid"] == first_access["sid"]
        third = issuer.refresh(second.refresh_token)
        assert third.access_token

    def test_reuse_revokes_the_whole_session(
        self, issuer: TokenIssuer, keys: Keys, clock: FakeClock
    ) -> None:
        verifier = verifier_for(issuer, keys, clock)
        stolen = issuer.issue_pair("alice")
        legit = issuer.refresh(stolen.refresh_token)  # the client rotates
        verifier.verify(legit.access_token)
        with pytest.raises(RefreshTokenReused):
            issuer.refresh(stolen.refresh_token)  # the thief replays the old one
        with pytest.raises(RevokedToken):
            verifier.verify(legit.access_token)
        with pytest.raises(RevokedToken):
            issuer.refresh(legit.refresh_token)
        other = issuer.issue_pair("alice")  # other sessions are untouched
        verifier.verify(other.access_token)
        issuer.refresh(other.refresh_token)

    def test_concurrent_replays_let_one_through(self, issuer: TokenIssuer) -> None:
        pair = issuer.issue_pair("alice")
        barrier = threading.Barrier(12)

        def refresh(_: int) -> str:
            barrier.wait(timeout=5)
            try:
                issuer.refresh(pair.refresh_token)
            except (RefreshTokenReused, RevokedToken):  # the replay, or its aftermath
                return "refused"
            return "ok"

        with ThreadPoolExecutor(max_workers=12) as pool:
            assert sorted(pool.map(refresh, range(12))) == ["ok"] + ["refused"] * 11

    def test_expired_refresh_token(self, issuer: TokenIssuer, clock: FakeClock) -> None:
        pair = issuer.issue_pair("alice")
        clock.advance(14 * 24 * 3600)
        with pytest.raises(ExpiredToken):
            issuer.refresh(pair.refresh_token)

    def test_access_token_cannot_refresh(self, issuer: TokenIssuer) -> None:
        with pytest.raises(WrongTokenType):
            issuer.refresh(issuer.issue("alice"))

    def test_foreign_refresh_token(self, issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> None:
        other = TokenIssuer(
            StaticKey(keys.signing_material("HS512")[:40], "HS256"), issuer=ISS, clock=clock
        )
        from jwt_middleware import BadSignature

        with pytest.raises(BadSignature):
            issuer.refresh(other.issue_pair("mallory").refresh_token)

    @pytest.mark.anyio
    async def test_async(self, issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> None:
        pair = issuer.issue_pair("alice")
        second = await issuer.arefresh(pair.refresh_token)
        with pytest.raises(RefreshTokenReused):
            await issuer.arefresh(pair.refresh_token)
        with pytest.raises(RevokedToken):
            await verifier_for(issuer, keys, clock).averify(second.access_token)


class TestRevoke:
    def test_logout(self, issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> None:
        verifier = verifier_for(issuer, keys, clock)
        pair = issuer.issue_pair("alice")
        unrelated = issuer.issue("alice")
        assert issuer.revoke(pair.refresh_token, session=True)
        with pytest.raises(RevokedToken):
            verifier.verify(pair.access_token)
        with pytest.raises(RevokedToken):
            issuer.refresh(pair.refresh_token)
        verifier.verify(unrelated)

    def test_logout_by_verified_claims(
        self, issuer: TokenIssuer, keys: Keys, clock: FakeClock
    ) -> None:
        verifier = verifier_for(issuer, keys, clock)
        pair = issuer.issue_pair("alice")
        claims = verifier.verify(pair.access_token)  # what the middleware hands the app
        assert issuer.revoke_claims(claims)
        with pytest.raises(RevokedToken):
            verifier.verify(pair.access_token)
        with pytest.raises(RevokedToken):
            issuer.refresh(pair.refresh_token)
        assert not issuer.revoke_claims({})

    def test_revoke_one_access_token(
        self, issuer: TokenIssuer, keys: Keys, clock: FakeClock
    ) -> None:
        verifier = verifier_for(issuer, keys, clock)
        pair = issuer.issue_pair("alice")
        assert issuer.revoke(pair.access_token)
        with pytest.raises(RevokedToken):
            verifier.verify(pair.access_token)
        issuer.refresh(pair.refresh_token)  # the session itself lives on

    def test_revoking_an_expired_token_is_a_no_op(
        self, issuer: TokenIssuer, clock: FakeClock
    ) -> None:
        token = issuer.issue("alice", ttl=60)
        clock.advance(61)
        assert issuer.revoke(token) is False

    @pytest.mark.anyio
    async def test_async(self, issuer: TokenIssuer, keys: Keys, clock: FakeClock) -> None:
        token = issuer.issue("alice")
        assert await issuer.arevoke(token)
        with pytest.raises(RevokedToken):
            verifier_for(issuer, keys, clock).verify(token)
        pair = issuer.issue_pair("bob")
        assert await issuer.arevoke_claims(parse(pair.access_token, 8192).claims)
        with pytest.raises(RevokedToken):
            await issuer.arefresh(pair.refresh_token)


class TestAcrossMachines:
    """Two services ("machines"), each with its own verifier, middleware and Redis
    client, sharing one Redis: a revocation through one is seen by the other at once."""

    def test_revoked_on_one_rejected_by_the_other(
        self, adapter: Adapter, keys: Keys, redis_url: str, redis_prefix: str
    ) -> None:
        def machine() -> tuple[TokenIssuer, AdapterClient]:
            denylist = RedisDenylist(redis_url, prefix=redis_prefix)
            key = StaticKey(keys.secret, "HS256")
            token_issuer = TokenIssuer(key, issuer=ISS, audience=AUD, denylist=denylist)
            verifier = Verifier(key, issuer=ISS, audience=AUD, denylist=denylist)
            return token_issuer, adapter(verifier)

        (issuer_a, client_a), (issuer_b, client_b) = machine(), machine()
        pair = issuer_a.issue_pair("alice")
        assert client_a.get("/", bearer(pair.access_token)).status == 200
        assert client_b.get("/", bearer(pair.access_token)).status == 200
        issuer_a.revoke(pair.refresh_token, session=True)  # logout on machine A
        assert client_b.get("/", bearer(pair.access_token)).status == 401
        with pytest.raises(RevokedToken):
            issuer_b.refresh(pair.refresh_token)
        # reuse detected on B revokes the session for A too
        fresh = issuer_a.issue_pair("bob")
        issuer_b.refresh(fresh.refresh_token)
        with pytest.raises(RefreshTokenReused):
            issuer_a.refresh(fresh.refresh_token)
        assert client_a.get("/", bearer(fresh.access_token)).status == 401


class TestInterop:
    """Other services consume these tokens with PyJWT."""

    @pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "ES512"])
    def test_pyjwt_verifies_our_tokens(self, keys: Keys, alg: str) -> None:
        issuer = TokenIssuer(StaticKey(keys.signing_material(alg), alg), issuer=ISS, audience=AUD)
        token = issuer.issue("dave", scopes=["read"], claims={"email": "d@example.com"})
        public = (
            keys.signing_material(alg)
            if alg.startswith("HS")
            else pem_public({"RS256": keys.rsa, "ES256": keys.ec256, "ES512": keys.ec521}[alg])
        )
        claims = pyjwt.decode(token, public, algorithms=[alg], audience=AUD, issuer=ISS)
        assert (claims["sub"], claims["scope"], claims["email"]) == (
            "dave",
            "read",
            "d@example.com",
        )
        assert pyjwt.get_unverified_header(token)["typ"] == "at+jwt"

    def test_payload_is_compact_json(self, issuer: TokenIssuer) -> None:
        payload = parse(issuer.issue("a"), 8192).signing_input.split(b".")[1]
        import base64

        text = base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)).decode()
        assert json.loads(text)["sub"] == "a" and ", " not in text


def test_default_denylist_is_in_memory(keys: Keys) -> None:
    assert isinstance(TokenIssuer(StaticKey(keys.secret, "HS256")).denylist, MemoryDenylist)
