"""Key files for the command line: generate them safely, and load whatever a user has.

``generate`` makes an HMAC secret of the hash's size, an RSA key (3072 bits by default)
or an EC key on the algorithm's curve, and names it by its RFC 7638 thumbprint unless a
``kid`` is given. ``load_key`` reads a PEM (private, public or certificate), a JWK or a
one-key JWKS, or a bare secret; the algorithm comes from the key unless one is asked for.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ._encoding import b64url_encode
from ._jwk import public_jwk as jwk_public
from ._jwk import thumbprint
from ._keys import (
    EC_ALGORITHMS,
    EDDSA_ALGORITHMS,
    HMAC_ALGORITHMS,
    MIN_RSA_BITS,
    PSS_ALGORITHMS,
    RSA_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
    StaticKey,
)
from .errors import ConfigurationError

_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class KeyFile:
    path: Path
    private: bool
    description: str


@dataclass(frozen=True)
class GeneratedKey:
    algorithm: str
    kid: str
    private_text: str  # PEM, or the oct JWK as JSON for HMAC
    public_jwks: dict[str, Any] | None  # None for HMAC: nothing is public


def generate(algorithm: str, *, kid: str | None = None, rsa_bits: int = 3072) -> GeneratedKey:
    if algorithm in HMAC_ALGORITHMS:
        secret = secrets.token_bytes(HMAC_ALGORITHMS[algorithm])
        kid = kid or secrets.token_hex(8)
        jwk = {"kty": "oct", "k": b64url_encode(secret), "alg": algorithm, "kid": kid, "use": "sig"}
        return GeneratedKey(algorithm, kid, json.dumps(jwk, indent=2) + "\n", None)
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if algorithm in RSA_ALGORITHMS | PSS_ALGORITHMS:
        if rsa_bits < MIN_RSA_BITS:
            raise ConfigurationError(f"RSA keys need at least {MIN_RSA_BITS} bits")
        private = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    elif algorithm in EC_ALGORITHMS:
        private = ec.generate_private_key(_CURVES[EC_ALGORITHMS[algorithm]])
    elif algorithm in EDDSA_ALGORITHMS:
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        supported = sorted(SUPPORTED_ALGORITHMS)
        raise ConfigurationError(f"cannot make keys for {algorithm!r}; choose one of {supported}")
    public_jwk = jwk_public(private.public_key())
    kid = kid or thumbprint(public_jwk)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    jwks = {"keys": [{**public_jwk, "alg": algorithm, "kid": kid, "use": "sig"}]}
    return GeneratedKey(algorithm, kid, pem, jwks)


def write(key: GeneratedKey, directory: Path, *, force: bool = False) -> list[KeyFile]:
    """Write the private key (mode 0600, created that way) and the public JWKS."""
    name = file_stem(key.kid)
    directory.mkdir(parents=True, exist_ok=True)
    if key.public_jwks is None:
        private_path = directory / f"{name}.jwk.json"
        files = [KeyFile(private_path, True, f"{key.algorithm} secret (JWK)")]
    else:
        private_path = directory / f"{name}.pem"
        files = [
            KeyFile(private_path, True, f"{key.algorithm} private key (PEM)"),
            KeyFile(directory / f"{name}.jwks.json", False, "public JWKS"),
        ]
    if not force:
        existing = [f.path for f in files if f.path.exists()]
        if existing:
            raise FileExistsError(f"{existing[0]} exists (use --force to replace it)")
    _write(private_path, key.private_text, 0o600, force)
    if key.public_jwks is not None:
        _write(files[1].path, json.dumps(key.public_jwks, indent=2) + "\n", 0o644, force)
    return files


def file_stem(kid: str) -> str:
    """The kid as a file name: unsafe characters replaced, and never a name that starts
    like an option or a hidden file (thumbprints may start with "-" or "_")."""
    name = _SAFE_NAME.sub("_", kid)
    return name if name and name[0] not in ".-" else f"key{name}"


def _write(path: Path, text: str, mode: int, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    descriptor = os.open(path, flags, mode)
    try:
        os.fchmod(descriptor, mode)  # also when replacing a file that had looser bits
        os.write(descriptor, text.encode("utf-8"))
    finally:
        os.close(descriptor)


def load_key(path: Path, *, algorithm: str | None = None, kid: str | None = None) -> StaticKey:
    """A key from a file; the algorithm from the key (a JWK's ``alg``, the PEM's type,
    HS256 for a bare secret) unless ``algorithm`` is given."""
    data = path.read_bytes()
    text = data.strip()
    if b"-----BEGIN" in text:
        return StaticKey(data, algorithm, kid) if algorithm else StaticKey.infer(data, kid)
    if text.startswith(b"{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"{path} looks like JSON but is not") from exc
        return StaticKey(_single_jwk(document, kid, path), algorithm, kid)
    if not text:
        raise ConfigurationError(f"{path} is empty")
    return StaticKey(text, algorithm or "HS256", kid)


def _single_jwk(document: Any, kid: str | None, path: Path) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ConfigurationError(f"{path} is not a JWK or JWKS")
    if "keys" not in document:
        return document
    keys = [
        k for k in document["keys"] if isinstance(k, dict) and (kid is None or k.get("kid") == kid)
    ]
    if len(keys) != 1:
        raise ConfigurationError(f"{path} holds {len(keys)} matching keys; pick one with --kid")
    return keys[0]
