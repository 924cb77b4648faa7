"""Every supported algorithm, both directions, against PyJWT and joserfc, with keys
exchanged as PEM and as JWKS; plus the RFC vectors for the algorithms python-jose lacks."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet as JoseRFCKeySet
from joserfc.jwk import import_key

from jwt_middleware import (
    SUPPORTED_ALGORITHMS,
    ConfigurationError,
    DisallowedAlgorithm,
    KeySet,
    StaticKey,
    TokenIssuer,
    Verifier,
)
from jwt_middleware._jwk import public_jwk as _public_jwk

ALGORITHMS = sorted(SUPPORTED_ALGORITHMS)
PYJWT_ALGORITHMS = set(pyjwt.algorithms.get_default_algorithms())


def needs_pyjwt(alg: str) -> None:
    if alg not in PYJWT_ALGORITHMS:
        pytest.skip(f"PyJWT does not know {alg} (RFC 9864's name for EdDSA) yet")


VECTORS = json.loads((Path(__file__).parent / "rfc_jose_vectors.json").read_text())


class KeyMaterial:
    """One private key per algorithm family, its public half as PEM and as JWK."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = {
            256: ec.generate_private_key(ec.SECP256R1()),
            384: ec.generate_private_key(ec.SECP384R1()),
            512: ec.generate_private_key(ec.SECP521R1()),
        }
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.secret = b"s3cret-" * 10  # 70 bytes: enough for HS512

    def private(self, alg: str) -> Any:
        if alg.startswith(("RS", "PS")):
            return self.rsa
        if alg.startswith("ES"):
            return self.ec[int(alg[2:])]
        return self.ed

    def private_pem(self, alg: str) -> bytes:
        if alg.startswith("HS"):
            return self.secret
        return bytes(
            self.private(alg).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def public_pem(self, alg: str) -> bytes:
        if alg.startswith("HS"):
            return self.secret
        return bytes(
            self.private(alg)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def public_jwks(self, alg: str, kid: str = "k1") -> dict[str, Any]:
        if alg.startswith("HS"):
            import base64

            k = base64.urlsafe_b64encode(self.secret).rstrip(b"=").decode()
            jwk: dict[str, Any] = {"kty": "oct", "k": k}
        else:
            jwk = _public_jwk(self.private(alg).public_key())
        return {"keys": [{**jwk, "alg": alg, "kid": kid, "use": "sig"}]}


@pytest.fixture(scope="module")
def material() -> KeyMaterial:
    return KeyMaterial()


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "interop", "iat": now, "exp": now + 300, "aud": "api"}


def our_verifiers(material: KeyMaterial, alg: str) -> dict[str, Verifier]:
    return {
        "pem": Verifier(StaticKey(material.public_pem(alg), alg), audience="api"),
        "jwks": Verifier(KeySet(material.public_jwks(alg)), audience="api"),
    }


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_pyjwt_tokens_verify_here(material: KeyMaterial, alg: str) -> None:
    needs_pyjwt(alg)
    token = pyjwt.encode(claims(), material.private_pem(alg), algorithm=alg, headers={"kid": "k1"})
    for verifier in our_verifiers(material, alg).values():
        assert verifier.verify(token)["sub"] == "interop"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_joserfc_tokens_verify_here(material: KeyMaterial, alg: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc: "EdDSA is deprecated via RFC 9864"
        key = import_key(material.private_pem(alg), "oct" if alg.startswith("HS") else None)
        token = joserfc_jwt.encode({"alg": alg, "kid": "k1"}, claims(), key, algorithms=[alg])
    for verifier in our_verifiers(material, alg).values():
        assert verifier.verify(token)["sub"] == "interop"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_our_tokens_verify_there(material: KeyMaterial, alg: str) -> None:
    issuer = TokenIssuer(StaticKey(material.private_pem(alg), alg, kid="k1"), audience="api")
    token = issuer.issue("interop", scopes=["read"])
    if alg in PYJWT_ALGORITHMS:
        decoded = pyjwt.decode(token, material.public_pem(alg), algorithms=[alg], audience="api")
        assert decoded["sub"] == "interop"
        jwk_set = pyjwt.PyJWKSet.from_dict(material.public_jwks(alg))
        assert pyjwt.decode(token, jwk_set.keys[0].key, algorithms=[alg], audience="api")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key_set = JoseRFCKeySet.import_key_set(material.public_jwks(alg))
        token_there = joserfc_jwt.decode(token, key_set, algorithms=[alg])
    assert token_there.claims["sub"] == "interop"
    assert token_there.header["typ"] == "at+jwt"


def test_rsa_key_does_pkcs1_or_pss_as_configured_never_both(material: KeyMaterial) -> None:
    rs = pyjwt.encode(claims(), material.private_pem("RS256"), algorithm="RS256")
    ps = pyjwt.encode(claims(), material.private_pem("PS256"), algorithm="PS256")
    default = Verifier(StaticKey.infer(material.public_pem("RS256")), audience="api")
    default.verify(rs)
    with pytest.raises(DisallowedAlgorithm):
        default.verify(ps)
    pss = Verifier(KeySet(material.public_jwks("PS256")), audience="api")
    pss.verify(ps)
    with pytest.raises(DisallowedAlgorithm):
        pss.verify(rs)
    assert StaticKey(material.public_pem("PS384"), "PS384").algorithms == {"PS384"}


def test_ed25519_keys_issue_eddsa_by_default(material: KeyMaterial) -> None:
    token = TokenIssuer(StaticKey.infer(material.private_pem("EdDSA"))).issue("a")
    assert pyjwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_eddsa_binding(material: KeyMaterial) -> None:
    # EdDSA (RFC 8037) and Ed25519 (RFC 9864) name one algorithm: both are accepted
    assert StaticKey.infer(material.public_pem("EdDSA")).algorithms == {"EdDSA", "Ed25519"}
    assert StaticKey(material.public_pem("EdDSA"), "Ed25519").algorithms == {"Ed25519"}
    with pytest.raises(ConfigurationError):
        StaticKey(material.public_pem("EdDSA"), "ES256")
    with pytest.raises(ConfigurationError):
        StaticKey(material.public_pem("EdDSA"), "HS256")
    with pytest.raises(ConfigurationError):
        StaticKey(material.public_pem("RS256"), "EdDSA")


@pytest.mark.parametrize("name", ["rfc7520-4.2-PS384", "rfc8037-A.4-EdDSA-Ed25519"])
def test_rfc_vectors_of_the_new_algorithms(name: str) -> None:
    """The JWS signature of each RFC example checks out; as tokens they are still
    refused, because their payloads are not JSON claims sets."""
    vector = next(v for v in VECTORS if v["name"] == name)
    key = StaticKey(vector["jwk"], vector["alg"])
    signing_input, _, signature = vector["token"].rpartition(".")
    import base64

    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    assert key.verify(vector["alg"], signing_input.encode(), raw)
    assert not key.verify(vector["alg"], signing_input.encode() + b"x", raw)
    from jwt_middleware import MalformedToken

    with pytest.raises(MalformedToken):
        Verifier(key).verify(vector["token"])
