"""One regression test per public JWT advisory class that applies to a verifier, each
naming the CVE or RFC section it guards. Every hostile token is refused by the Verifier
with an AuthError and, through both adapters, with a 401 (never a 500, never the app).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from jwt_middleware import AuthError, ConfigurationError, KeySet, StaticKey, Verifier

from .conftest import NOW, AdapterClient, Keys, TokenFactory, b64url, pem_public, sign_raw
from .docserver import DocumentServer

Adapter = Callable[..., AdapterClient]


def refused(verifier: Verifier, adapter: Adapter, token: str, *reasons: str) -> None:
    """Refused by the verifier (for one of ``reasons``, when given) and by both adapters."""
    with pytest.raises(AuthError) as caught:
        verifier.verify(token)
    if reasons:
        assert caught.value.reason in reasons, caught.value
    reply = adapter(verifier).get("/", [("Authorization", f"Bearer {token}")])
    assert reply.status in (400, 401), reply.body
    assert reply.json()["error"] in ("invalid_token", "invalid_request")


def hs(
    secret: bytes,
    header: dict[str, Any] | bytes,
    payload: dict[str, Any] | bytes,
    alg: str = "HS256",
) -> str:
    return sign_raw(header, payload, secret, alg)


def body(**claims: Any) -> dict[str, Any]:
    return {"sub": "mallory", "exp": NOW + 600, **claims}


@pytest.fixture
def rs_verifier(keys: Keys) -> Verifier:
    return Verifier(keys.verification_key("RS256"), clock=lambda: NOW)


class TestAlgNone:
    """CVE-2015-9235 (jsonwebtoken), CVE-2015-2951 (JWT.php); RFC 8725 section 3.1."""

    @pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "none "])
    @pytest.mark.parametrize("signature", ["", "AA", "c2ln"])
    def test_unsigned_tokens(
        self, adapter: Adapter, hs_verifier: Verifier, alg: str, signature: str
    ) -> None:
        head = b64url(json.dumps({"alg": alg}).encode())
        token = f"{head}.{b64url(json.dumps(body()).encode())}.{signature}"
        refused(hs_verifier, adapter, token, "disallowed_algorithm", "malformed")

    def test_none_cannot_be_configured(self, keys: Keys) -> None:
        with pytest.raises(ConfigurationError):
            Verifier(keys.verification_key("HS256"), algorithms=["none"])
        with pytest.raises(ConfigurationError):
            StaticKey(b"k" * 32, "none")


class TestKeyConfusion:
    """HS256 signed with the RSA/EC public key as the HMAC secret: CVE-2016-10555
    (jsonwebtoken), CVE-2017-11424 and CVE-2022-29217 (PyJWT), CVE-2016-5431 (php-jose)."""

    @staticmethod
    def forms(public_key: Any) -> dict[str, bytes]:
        return {
            "pem": public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "der": public_key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "openssh": public_key.public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            ),
        }

    @pytest.mark.parametrize("form", ["pem", "der", "openssh", "jwk"])
    @pytest.mark.parametrize("family", ["RS256", "ES256"])
    def test_forged_with_the_public_key(
        self, adapter: Adapter, keys: Keys, form: str, family: str
    ) -> None:
        private = keys.rsa if family == "RS256" else keys.ec256
        public = private.public_key()
        if form == "jwk":
            from jwt_middleware._jwk import public_jwk as _public_jwk

            secret = json.dumps(_public_jwk(public)).encode()
        else:
            secret = self.forms(public)[form]
        verifier = Verifier(StaticKey(pem_public(private), family), clock=lambda: NOW)
        refused(verifier, adapter, hs(secret, {"alg": "HS256"}, body()), "disallowed_algorithm")

    @pytest.mark.parametrize("form", ["pem", "der", "openssh"])
    def test_public_key_as_hmac_secret_fails_at_start(self, keys: Keys, form: str) -> None:
        with pytest.raises(ConfigurationError):
            StaticKey(self.forms(keys.rsa.public_key())[form], "HS256")

    def test_jwk_set_with_an_rsa_key_refuses_hs(self, adapter: Adapter, keys: Keys) -> None:
        from jwt_middleware._jwk import public_jwk as _public_jwk

        jwk = {**_public_jwk(keys.rsa.public_key()), "kid": "k"}
        verifier = Verifier(KeySet({"keys": [jwk]}), clock=lambda: NOW)
        token = hs(json.dumps(jwk).encode(), {"alg": "HS256", "kid": "k"}, body())
        refused(verifier, adapter, token, "disallowed_algorithm")


class TestPsychicSignatures:
    """CVE-2022-21449 (Java ECDSA accepted r = s = 0); also r or s equal to the order."""

    P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

    @pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
    def test_zero_signature(self, adapter: Adapter, keys: Keys, alg: str) -> None:
        size = {"ES256": 32, "ES384": 48, "ES512": 66}[alg]
        verifier = Verifier(keys.verification_key(alg), clock=lambda: NOW)
        head = b64url(json.dumps({"alg": alg}).encode())
        payload = b64url(json.dumps(body()).encode())
        refused(verifier, adapter, f"{head}.{payload}.{b64url(bytes(2 * size))}", "bad_signature")

    def test_order_as_signature(self, adapter: Adapter, keys: Keys) -> None:
        n = self.P256_ORDER.to_bytes(32, "big")
        verifier = Verifier(keys.verification_key("ES256"), clock=lambda: NOW)
        head = b64url(json.dumps({"alg": "ES256"}).encode())
        payload = b64url(json.dumps(body()).encode())
        refused(verifier, adapter, f"{head}.{payload}.{b64url(n + n)}", "bad_signature")


class TestCritBypass:
    """RFC 7515 section 4.1.11: unknown critical extensions must be refused
    (CVE-2021-29451 class: libraries that ignored crit)."""

    @pytest.mark.parametrize("crit", [["exp"], ["b64"], ["http://example.com/x"], [], "b64"])
    def test_crit(self, adapter: Adapter, hs_verifier: Verifier, keys: Keys, crit: Any) -> None:
        header = {"alg": "HS256", "crit": crit, "b64": False, "http://example.com/x": True}
        refused(
            hs_verifier, adapter, hs(keys.signing_material("HS256"), header, body()), "malformed"
        )


class TestJWEAndCompressionBombs:
    """CVE-2024-33664 (python-jose JWE zip bomb), CVE-2024-33663: a verifier of signed
    tokens never decompresses and never decrypts; oversized input is refused unparsed."""

    def test_jwe_compact_form(self, adapter: Adapter, hs_verifier: Verifier) -> None:
        header = b64url(json.dumps({"alg": "dir", "enc": "A256GCM", "zip": "DEF"}).encode())
        refused(hs_verifier, adapter, f"{header}..aXY.Y2lwaGVy.dGFn", "malformed")

    def test_zip_header_in_a_jws(self, adapter: Adapter, hs_verifier: Verifier, keys: Keys) -> None:
        token = hs(keys.signing_material("HS256"), {"alg": "HS256", "zip": "DEF"}, body())
        refused(hs_verifier, adapter, token, "malformed")

    def test_oversized_token(self, adapter: Adapter, hs_verifier: Verifier, keys: Keys) -> None:
        token = hs(keys.signing_material("HS256"), {"alg": "HS256"}, body(pad="x" * 17000))
        refused(hs_verifier, adapter, token, "too_large")


class TestKeyIdInjection:
    """kid used to build a path or a query (CVE-2018-1000531 class, and the SQL
    injection through kid of several frameworks): here kid is only a dictionary key."""

    @pytest.mark.parametrize(
        "kid",
        [
            "../../../../dev/null",
            "' OR '1'='1",
            "k1\r\nX: y",
            "/etc/passwd",
            "k1\x00",
            "${jndi:ldap://x}",
            "k" * 5000,
        ],
    )
    def test_hostile_kid(
        self, adapter: Adapter, keys: Keys, kid: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level("INFO", logger="jwt_middleware")
        verifier = Verifier(KeySet([keys.verification_key("HS256", kid="k1")]), clock=lambda: NOW)
        token = hs(keys.signing_material("HS256"), {"alg": "HS256", "kid": kid}, body())
        refused(verifier, adapter, token, "unknown_key", "malformed")
        assert "\r\nX: y" not in caplog.text


class TestKeysFromTheToken:
    """jku / x5u / embedded jwk / x5c: CVE-2018-0114 (node-jose trusted an embedded jwk),
    RFC 8725 section 3.10. Keys come from configuration only."""

    def test_embedded_jwk_signed_by_the_attacker(
        self, adapter: Adapter, keys: Keys, rs_verifier: Verifier
    ) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        from jwt_middleware._jwk import public_jwk as _public_jwk

        attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = attacker.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        header = {"alg": "RS256", "jwk": _public_jwk(attacker.public_key()), "x5c": ["AAAA"]}
        refused(rs_verifier, adapter, sign_raw(header, body(), pem, "RS256"), "bad_signature")

    def test_key_urls_are_never_fetched(
        self, adapter: Adapter, keys: Keys, docserver: DocumentServer
    ) -> None:
        from jwt_middleware import RemoteJWKS

        from .helpers import public_jwk

        docserver.serve("/jwks", {"keys": [public_jwk(keys, "RS256", "good")]})
        docserver.serve("/evil", {"keys": [public_jwk(keys, "ES256", "evil")]})
        verifier = Verifier(RemoteJWKS(docserver.url("/jwks")), clock=lambda: NOW)
        header = {
            "alg": "ES256",
            "kid": "evil",
            "jku": docserver.url("/evil"),
            "x5u": docserver.url("/evil"),
        }
        token = sign_raw(header, body(), keys.signing_material("ES256"), "ES256")
        refused(verifier, adapter, token, "unknown_key")
        assert docserver.count("/evil") == 0


class TestNonCanonicalEncoding:
    """Signature malleability through base64 (CVE-2023-48223 class, fast-jwt) and
    padding: only the one canonical unpadded base64url form is accepted."""

    def test_trailing_bits(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        token = make_token()
        head, payload, signature = token.split(".")
        assert len(signature) % 4 == 3  # 32 bytes: the last character carries 2 spare bits
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(signature[-1])
        for spare in (1, 2, 3):
            twin = signature[:-1] + alphabet[last | spare]
            assert base64.urlsafe_b64decode(twin + "=") == base64.urlsafe_b64decode(signature + "=")
            refused(hs_verifier, adapter, f"{head}.{payload}.{twin}", "malformed")

    @pytest.mark.parametrize("suffix", ["=", "==", " ", "\t"])
    def test_padding_and_spaces(
        self, hs_verifier: Verifier, make_token: TokenFactory, suffix: str
    ) -> None:
        with pytest.raises(AuthError):
            hs_verifier.verify(make_token() + suffix)


class TestDuplicateMembers:
    """RFC 7515 section 5.2 and RFC 8259 section 4: duplicate names make parsers
    disagree (CVE-2017-12973 class); refused even when validly signed."""

    @pytest.mark.parametrize(
        ("header", "payload"),
        [
            (b'{"alg":"HS256","alg":"none"}', json.dumps(body()).encode()),
            (b'{"alg":"HS256"}', b'{"sub":"alice","sub":"admin","exp":%d}' % (NOW + 600)),
            (b'{"alg":"HS256"}', b'{"sub":"a","exp":%d,"x":{"r":1,"r":2}}' % (NOW + 600)),
        ],
    )
    def test_duplicates(
        self, adapter: Adapter, hs_verifier: Verifier, keys: Keys, header: bytes, payload: bytes
    ) -> None:
        refused(
            hs_verifier, adapter, hs(keys.signing_material("HS256"), header, payload), "malformed"
        )


class TestHostileJSON:
    """Resource exhaustion through JSON (CVE-2020-10735 for huge ints; deep nesting)."""

    @pytest.mark.parametrize(
        "payload",
        [
            b'{"exp":%d,"x":' % (NOW + 600) + b"[" * 2000 + b"]" * 2000 + b"}",
            b'{"exp":' + b"9" * 4400 + b"}",
            b'{"exp":1e400}',
            b'{"exp":-1e400}',
            b'{"exp":NaN}',
            b'{"exp":' + b"1" * 300 + b"}",
        ],
        ids=["deep", "huge-int", "inf", "minus-inf", "nan", "300-digits"],
    )
    def test_refused_without_a_crash(
        self, adapter: Adapter, hs_verifier: Verifier, keys: Keys, payload: bytes
    ) -> None:
        refused(
            hs_verifier,
            adapter,
            hs(keys.signing_material("HS256"), {"alg": "HS256"}, payload),
            "malformed",
            "invalid_claims",
        )


class TestNumericDates:
    """RFC 7519 section 2 (NumericDate): strings, booleans and null are not dates
    (libraries that compared "9999999999" as text, or treated true as 1)."""

    @pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
    @pytest.mark.parametrize("value", ["9999999999", True, None, [1], {"t": 1}])
    def test_not_a_number(
        self, adapter: Adapter, hs_verifier: Verifier, keys: Keys, claim: str, value: Any
    ) -> None:
        token = hs(keys.signing_material("HS256"), {"alg": "HS256"}, body(**{claim: value}))
        refused(hs_verifier, adapter, token, "invalid_claims")


class TestAudienceAndIssuer:
    """RFC 7519 sections 4.1.1 and 4.1.3; audience confusion (CVE-2021-41106 class)."""

    @pytest.mark.parametrize(
        ("claims", "options"),
        [
            ({"aud": "API"}, {"audience": "api"}),
            ({"aud": ""}, {"audience": "api"}),
            ({"aud": []}, {"audience": "api"}),
            ({"aud": ["other"]}, {"audience": "api"}),
            ({"aud": {"api": True}}, {"audience": "api"}),
            ({"aud": "api"}, {}),
            ({"iss": "HTTPS://IDP/"}, {"issuer": "https://idp/"}),
            ({"iss": "https://idp"}, {"issuer": "https://idp/"}),
            ({"iss": ["https://idp/"]}, {"issuer": "https://idp/"}),
            ({}, {"issuer": "https://idp/"}),
        ],
    )
    def test_edges(
        self, adapter: Adapter, keys: Keys, claims: dict[str, Any], options: dict[str, Any]
    ) -> None:
        verifier = Verifier(keys.verification_key("HS256"), clock=lambda: NOW, **options)
        token = hs(keys.signing_material("HS256"), {"alg": "HS256"}, body(**claims))
        refused(verifier, adapter, token, "invalid_claims")


class TestTokenTypeConfusion:
    """RFC 8725 section 3.11 and RFC 9068: a refresh token, a DPoP proof or a security
    event token is not an access token."""

    @pytest.mark.parametrize(
        "typ", ["refresh+jwt", "dpop+jwt", "secevent+jwt", "application/logout+jwt", "id_token"]
    )
    def test_other_types(
        self, adapter: Adapter, hs_verifier: Verifier, keys: Keys, typ: str
    ) -> None:
        token = hs(keys.signing_material("HS256"), {"alg": "HS256", "typ": typ}, body())
        refused(hs_verifier, adapter, token, "wrong_token_type")


def test_hmac_helper_is_plain_hmac(keys: Keys) -> None:
    """The forging helper above really computes HMAC-SHA256 (so the refusals are the
    verifier's doing, not a broken forgery)."""
    token = hs(keys.signing_material("HS256"), {"alg": "HS256"}, body())
    head, payload, signature = token.split(".")
    secret = keys.signing_material("HS256")
    expected = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=") == expected
    Verifier(StaticKey(secret, "HS256"), clock=lambda: NOW).verify(token)
