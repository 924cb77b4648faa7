"""RFC known-answer vectors (tests/rfc_jose_vectors.json, a copy of the public RFC data).

RFC 7515 A.1-A.3 and RFC 7519 3.1 carry JSON claims and must verify with a clock before
their exp; every other vector (non-JSON payloads, alg "none", an unknown crit) must be
refused with a 401, never a 500, through both adapters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jwt_middleware import AuthError, StaticKey, Verifier

from .conftest import AdapterClient

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "rfc_jose_vectors.json").read_text()
)
BEFORE_EXP = 1300819380 - 60
VERIFYING = {"rfc7515-A.1-HS256", "rfc7515-A.2-RS256", "rfc7515-A.3-ES256", "rfc7519-3.1-HS256-JWT"}
FALLBACK_KEY = StaticKey(b"a fallback key for the vectors that carry none", "HS256")


def vector_key(vector: dict[str, Any]) -> Any:
    """The vector's own key, bound to the vector's algorithm (PS384 must be asked for:
    an RSA key does PKCS#1 v1.5 unless told otherwise); an HMAC key for the unsigned
    vectors, which carry none."""
    jwk, alg = vector.get("jwk"), vector.get("alg")
    if not jwk:
        return FALLBACK_KEY
    return StaticKey(jwk, alg if alg and alg.lower() != "none" else None)


def test_every_vector_is_classified() -> None:
    assert {v["name"] for v in VECTORS} >= VERIFYING
    assert len(VECTORS) >= 12


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vector: dict[str, Any], adapter: Any) -> None:
    verifier = Verifier(vector_key(vector), clock=lambda: BEFORE_EXP)
    client: AdapterClient = adapter(verifier)
    reply = client.get("/", [("Authorization", f"Bearer {vector['token']}")])
    if vector["name"] in VERIFYING:
        assert verifier.verify(vector["token"]) == vector["expected_payload"]
        assert reply.status == 200
        assert reply.json()["claims"] == vector["expected_payload"]
    else:
        with pytest.raises(AuthError):
            verifier.verify(vector["token"])
        assert reply.status == 401
        assert reply.json()["error"] == "invalid_token"


@pytest.mark.parametrize("name", sorted(VERIFYING))
def test_verifying_vectors_expire_on_time(name: str) -> None:
    vector = next(v for v in VECTORS if v["name"] == name)
    verifier = Verifier(vector_key(vector), clock=lambda: 1300819380)
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(vector["token"])
