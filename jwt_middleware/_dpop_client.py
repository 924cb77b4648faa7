"""The client's side of DPoP: a key pair that signs proofs (RFC 9449 section 4.2).

For tests, the command line (``jwt-middleware dpop-proof``) and Python clients; the
key's ``thumbprint`` is what ``TokenIssuer.issue(dpop_jkt=...)`` binds a token to.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from ._dpop import access_token_hash
from ._encoding import b64url_encode
from ._jwk import public_jwk, thumbprint
from ._keys import EC_ALGORITHMS, EDDSA_ALGORITHMS
from .errors import ConfigurationError


class DPoPKey:
    """A private key (PEM or JWK, RSA/EC/Ed25519) that makes DPoP proofs.

    ``DPoPKey.generate()`` makes a fresh P-256 key (ES256), as most clients use."""

    def __init__(self, private_key: str | bytes | dict[str, Any], algorithm: str | None = None):
        from . import _jose

        if isinstance(private_key, dict):
            loaded = _jose.load_jwk(private_key)
        else:
            raw = private_key.encode("utf-8") if isinstance(private_key, str) else private_key
            loaded = _jose.load_pem(raw)
        if loaded.private_key is None:
            raise ConfigurationError("a DPoP key must be a private key")
        if algorithm is None:
            if loaded.kty == "EC":
                algorithm = next(a for a, c in EC_ALGORITHMS.items() if c == loaded.curve)
            elif loaded.kty == "OKP":
                algorithm = "EdDSA"
            else:
                algorithm = "PS256"
        self.algorithm = algorithm
        if loaded.kty == "OKP" and algorithm not in EDDSA_ALGORITHMS:
            raise ConfigurationError(f"an Ed25519 key cannot sign {algorithm}")
        signer = _jose.private_key(loaded, algorithm)
        if signer is None:
            raise ConfigurationError(f"this key cannot sign {algorithm}")
        self._signer = signer
        self.public_jwk: dict[str, Any] = public_jwk(loaded.public_key)
        self.thumbprint = thumbprint(self.public_jwk)

    @classmethod
    def generate(cls) -> DPoPKey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(pem, "ES256")

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
    ) -> str:
        """A proof for one request: ``method`` and ``url`` (query and fragment are
        dropped, as RFC 9449 says), bound to ``access_token`` when given (``ath``)."""
        from . import _jose

        header = {"typ": "dpop+jwt", "alg": self.algorithm, "jwk": self.public_jwk}
        claims: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url.partition("#")[0].partition("?")[0],
            "iat": int(time.time() if iat is None else iat),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        signing_input = f"{_segment(header)}.{_segment(claims)}"
        signature = _jose.sign(self._signer, signing_input.encode("ascii"))
        return f"{signing_input}.{b64url_encode(signature)}"

    def __repr__(self) -> str:  # never the private key
        return f"DPoPKey(algorithm={self.algorithm!r}, thumbprint={self.thumbprint!r})"


def _segment(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))
