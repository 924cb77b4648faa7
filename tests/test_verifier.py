"""The Verifier on its own: configuration checks, sync/async parity, error context."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_middleware import (
    AuthError,
    BadSignature,
    ConfigurationError,
    DisallowedAlgorithm,
    ExpiredToken,
    KeySet,
    UnknownKey,
    Verifier,
)

from .conftest import NOW, Keys, TokenFactory, b64url, sign_raw, tampered


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"leeway": -1}, id="negative-leeway"),
        pytest.param({"leeway": float("nan")}, id="nan-leeway"),
        pytest.param({"leeway": "5"}, id="string-leeway"),
        pytest.param({"max_age": 0}, id="zero-max-age"),
        pytest.param({"issuer": ""}, id="empty-issuer"),
        pytest.param({"issuer": []}, id="no-issuers"),
        pytest.param({"audience": ["api", 3]}, id="audience-not-string"),
        pytest.param({"algorithms": ["none"]}, id="alg-none"),
        pytest.param({"algorithms": ["HS256", "XS1"]}, id="unknown-alg"),
        pytest.param({"algorithms": []}, id="no-algs"),
        pytest.param({"max_token_bytes": True}, id="bool-size"),
        pytest.param({"max_token_bytes": 10}, id="tiny-size"),
        pytest.param({"required_claims": "exp"}, id="claims-as-string"),
    ],
)
def test_unsafe_configuration_fails_at_start(keys: Keys, options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(keys.verification_key("HS256"), **options)


def test_returns_claims(hs_verifier: Verifier, make_token: TokenFactory) -> None:
    claims = hs_verifier.verify(make_token(scope="a b", custom={"x": [1]}))
    assert claims["custom"] == {"x": [1]} and claims["sub"] == "alice"


def test_clock_is_injectable(keys: Keys, make_token: TokenFactory) -> None:
    now = [NOW]
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: now[0])
    token = make_token(exp=NOW + 10)
    verifier.verify(token)
    now[0] = NOW + 10
    with pytest.raises(ExpiredToken):
        verifier.verify(token)


CASES = [
    pytest.param(lambda mk: mk(), None, id="valid"),
    pytest.param(lambda mk: mk(exp=NOW - 1), ExpiredToken, id="expired"),
    pytest.param(lambda mk: mk(kid="other"), UnknownKey, id="unknown-kid"),
    pytest.param(lambda mk: mk("ES256", kid="hs"), DisallowedAlgorithm, id="wrong-family"),
    pytest.param(lambda mk: tampered(mk(kid="hs")), BadSignature, id="bad-signature"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("build", "error"), CASES)
async def test_sync_and_async_agree(
    keys: Keys, make_token: TokenFactory, build: Any, error: type[AuthError] | None
) -> None:
    verifier = Verifier(KeySet([keys.verification_key("HS256", kid="hs")]), clock=lambda: NOW)
    token = build(make_token)
    if error is None:
        assert verifier.verify(token) == await verifier.averify(token)
        return
    with pytest.raises(error):
        verifier.verify(token)
    with pytest.raises(error):
        await verifier.averify(token)


@pytest.mark.anyio
async def test_async_resolver_is_awaited(keys: Keys, make_token: TokenFactory) -> None:
    calls = []

    async def resolver(header: Any, claims: Any) -> Any:
        calls.append(header.get("kid"))
        return keys.verification_key("ES384")

    verifier = Verifier(resolver, clock=lambda: NOW)
    assert not verifier.supports_sync
    assert (await verifier.averify(make_token("ES384", kid="k")))["sub"] == "alice"
    assert calls == ["k"]
    with pytest.raises(TypeError):
        verifier.verify(make_token("ES384", kid="k"))


def test_errors_carry_unverified_kid_and_issuer(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    with pytest.raises(ExpiredToken) as caught:
        hs_verifier.verify(make_token(kid="k9", iss="https://idp/", exp=NOW - 1))
    assert (caught.value.kid, caught.value.issuer) == ("k9", "https://idp/")
    assert "eyJ" not in str(caught.value)


@pytest.mark.parametrize("signature", [b"", b"\x00", b"\x00" * 64, b"\xff" * 64, b"\x01" * 600])
@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "ES512"])
def test_garbage_signatures_are_bad_signatures(keys: Keys, alg: str, signature: bytes) -> None:
    """python-jose exceptions never escape, whatever the signature bytes."""
    verifier = Verifier(keys.verification_key(alg), clock=lambda: NOW)
    head, body = b64url(b'{"alg":"%s"}' % alg.encode()), b64url(b'{"exp":%d}' % (NOW + 9))
    token = f"{head}.{body}.{b64url(signature) or 'AA'}"
    with pytest.raises(BadSignature):
        verifier.verify(token)


def test_psychic_ecdsa_signature(keys: Keys) -> None:
    """CVE-2022-21449: r = s = 0 must never verify."""
    verifier = Verifier(keys.verification_key("ES256"), clock=lambda: NOW)
    head, body = b64url(b'{"alg":"ES256"}'), b64url(b'{"exp":%d}' % (NOW + 9))
    with pytest.raises(BadSignature):
        verifier.verify(f"{head}.{body}.{b64url(bytes(64))}")


def test_ec_signature_from_another_curve(keys: Keys) -> None:
    token = sign_raw({"alg": "ES256"}, {"exp": NOW + 9}, keys.signing_material("ES256"), "ES256")
    verifier = Verifier(keys.verification_key("ES384"), clock=lambda: NOW)
    with pytest.raises(DisallowedAlgorithm):
        verifier.verify(token)


class BrokenPrefetch:
    supports_sync = True
    generation = 0

    def resolve(self, header: Any, claims: Any) -> Any:
        return ()

    async def aresolve(self, header: Any, claims: Any) -> Any:
        return ()

    def prefetch(self) -> bool:
        raise OSError("key store down")

    async def aprefetch(self) -> bool:
        raise OSError("key store down")


@pytest.mark.anyio
async def test_prefetch_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    verifier = Verifier(BrokenPrefetch())
    assert verifier.can_prefetch
    assert verifier.prefetch() is False
    assert await verifier.aprefetch() is False
    assert "loading keys at start-up failed" in caplog.text


def test_checked_headers_are_remembered_boundedly(keys: Keys) -> None:
    """Tokens of one issuer share a header segment, decoded and checked once; a flood
    of distinct headers keeps the memory small."""
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: NOW, cache_size=0)
    material = keys.signing_material("HS256")
    for i in range(200):
        token = sign_raw({"alg": "HS256", "x": i}, {"exp": NOW + 60}, material, "HS256")
        assert verifier.verify(token) == {"exp": NOW + 60}
    assert 0 < len(verifier._checked_headers) <= 64


def test_refused_headers_are_not_remembered(keys: Keys) -> None:
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: NOW, cache_size=0)
    material = keys.signing_material("HS256")
    token = sign_raw({"alg": "HS256", "typ": "evil"}, {"exp": NOW + 60}, material, "HS256")
    for _ in range(2):
        with pytest.raises(AuthError, match="typ"):
            verifier.verify(token)
    assert verifier._checked_headers == {}


def test_a_remembered_header_is_never_handed_out(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    """The app may change the header it is given; the next token must not see that."""
    verifier = Verifier(hs_verifier.resolver, clock=lambda: NOW, cache_size=0)
    first = verifier.verify_token(make_token(sub="a"))
    first.header["alg"] = "none"
    first.header["kid"] = "planted"
    assert verifier.verify_token(make_token(sub="b")).header == {"alg": "HS256", "typ": "JWT"}


@pytest.mark.anyio
async def test_verify_and_averify_return_the_callers_own_copies(
    make_token: TokenFactory, hs_verifier: Verifier
) -> None:
    token = make_token(scope="a b")
    hs_verifier.verify(token)["sub"] = "mallory"
    (await hs_verifier.averify(token))["scope"] = "admin"
    verified = await hs_verifier.averify_token(token)
    assert verified.claims["sub"] == "alice" and verified.scopes == ("a", "b")


def test_needs_io_only_for_keys_or_denylists_that_wait(keys: Keys) -> None:
    """The ASGI adapter skips its awaits when nothing can wait; anything that may
    fetch or ask a server keeps them."""
    from jwt_middleware import IssuerKeys, MemoryDenylist, RedisDenylist, RemoteJWKS

    key = keys.verification_key("HS256")
    assert not Verifier(key)._needs_io
    assert not Verifier(KeySet([key]))._needs_io
    assert not Verifier(key, denylist=MemoryDenylist())._needs_io
    assert Verifier(key, denylist=RedisDenylist("redis://127.0.0.1:1"))._needs_io
    assert Verifier(RemoteJWKS("https://idp.example/jwks"))._needs_io
    assert Verifier(IssuerKeys({"https://idp/": key}))._needs_io
    assert Verifier(lambda header, claims: key)._needs_io
