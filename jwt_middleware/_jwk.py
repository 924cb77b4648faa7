"""Public JWKs and their RFC 7638 thumbprints (DPoP's ``jkt``, key ids).

``thumbprint`` takes a JWK a client sent (a DPoP proof's ``jwk``) as readily as one we
made, so every member it reads is checked to be a string first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ._encoding import b64url_encode

REQUIRED_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
"""RFC 7638 section 3.2: the members a key type's thumbprint covers."""

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
"""Members that only a private (or symmetric) key has."""


def required_members(jwk: Mapping[str, Any]) -> dict[str, str] | None:
    """The members the thumbprint covers, or None when the key type is not one of
    RSA/EC/OKP or one of them is missing or not a string."""
    kty = jwk.get("kty")
    names = REQUIRED_MEMBERS.get(kty) if isinstance(kty, str) else None
    if names is None:
        return None
    members = {name: jwk.get(name) for name in names}
    if not all(isinstance(value, str) and value for value in members.values()):
        return None
    return members  # type: ignore[return-value]


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: base64url SHA-256 of the required members, sorted, without white
    space. ``ValueError`` for a JWK whose required members are missing or not strings."""
    members = required_members(jwk)
    if members is None:
        raise ValueError("not an RSA, EC or OKP public JWK")
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_jwk(public: Any) -> dict[str, Any]:
    """The JWK of a cryptography public key (RSA, EC P-256/384/521, Ed25519)."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
    ec_numbers = public.public_numbers()
    size = (public.curve.key_size + 7) // 8
    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[public.curve.name]
    return {
        "kty": "EC",
        "crv": crv,
        "x": _b64_int(ec_numbers.x, size),
        "y": _b64_int(ec_numbers.y, size),
    }


def _b64_int(value: int, size: int | None = None) -> str:
    length = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(length, "big"))
