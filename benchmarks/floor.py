"""The floor the issue measures against: split, three base64url decodes, two JSON
parses, the signature check with a pre-loaded key, and the claim checks, with nothing
else (no strictness, no error handling worth the name)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def signature_check(alg: str, key: Any) -> Callable[[bytes, bytes], bool]:
    """A check with a pre-loaded key: a secret, or a cryptography public key."""
    if alg == "HS256":
        return lambda data, sig: hmac.compare_digest(
            hmac.new(key, data, hashlib.sha256).digest(), sig
        )
    if alg == "RS256":
        public: rsa.RSAPublicKey = key

        def rsa_check(data: bytes, sig: bytes) -> bool:
            try:
                public.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                return False
            return True

        return rsa_check
    ec_public: ec.EllipticCurvePublicKey = key

    def ec_check(data: bytes, sig: bytes) -> bool:
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        try:
            ec_public.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    return ec_check


def floor_verify(token: str, check: Callable[[bytes, bytes], bool], audience: str) -> Any:
    header_segment, payload_segment, signature_segment = token.split(".")
    json.loads(_b64(header_segment))
    claims = json.loads(_b64(payload_segment))
    if not check(f"{header_segment}.{payload_segment}".encode(), _b64(signature_segment)):
        raise ValueError("bad signature")
    if claims["exp"] <= time.time() or claims["aud"] != audience:
        raise ValueError("bad claims")
    return claims
