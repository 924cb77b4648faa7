"""The one place that talks to python-jose (and, for key classification, to cryptography).

python-jose builds key objects and checks signatures; everything around it (parsing,
algorithm choice, claim checks) is ours, because its convenience API leaves too many
decisions to the token. This module turns key material into a ``LoadedKey``, a
python-jose ``Key`` per algorithm plus the facts ``keys`` needs to refuse unsafe
bindings (key type, curve, size), and maps python-jose and cryptography errors to
``ConfigurationError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import (
    load_der_public_key,
    load_pem_private_key,
    load_pem_public_key,
    load_ssh_public_key,
)
from jose import jwk
from jose.backends.base import Key
from jose.backends.native import HMACKey
from jose.exceptions import JOSEError

from ._encoding import b64url_decode, b64url_encode
from .errors import ConfigurationError

JoseKey = Key
"""python-jose's key class, named here so no other module imports python-jose."""

_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclass(frozen=True, slots=True)
class LoadedKey:
    """Asymmetric material loaded once: its type, and the public key that verifies."""

    kty: str  # "RSA" or "EC"
    public_key: Any  # a cryptography public key object
    curve: str | None  # JWK crv name for EC keys
    size_bits: int
    private_key: Any | None  # the cryptography private key, when the material had one


def looks_asymmetric(secret: bytes) -> bool:
    """True when bytes given as an HMAC secret are really public-key material: a PEM
    block, an OpenSSH public key, a DER key or certificate, or a JWK of a key pair.
    Each form is parsed, not guessed from a prefix: random secrets may start with "{"."""
    if b"-----BEGIN" in secret:
        return True
    # cryptography.x509 costs more to import than python-jose: loaded with the first key.
    from cryptography.x509 import load_der_x509_certificate

    parsers = (load_der_public_key, load_ssh_public_key, load_der_x509_certificate)
    for parser in parsers:
        try:
            parser(secret)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        return True
    try:
        jwk_dict = json.loads(secret)
    except ValueError:  # includes UnicodeDecodeError
        return False
    return isinstance(jwk_dict, dict) and jwk_dict.get("kty") in ("RSA", "EC", "OKP")


def load_pem(material: bytes) -> LoadedKey:
    """Load a PEM public key, private key or certificate."""
    try:
        if b"-----BEGIN CERTIFICATE-----" in material:
            from cryptography.x509 import load_pem_x509_certificate

            public: Any = load_pem_x509_certificate(material).public_key()
            private: Any = None
        else:
            try:
                public = load_pem_public_key(material)
                private = None
            except ValueError:
                private = load_pem_private_key(material, password=None)
                public = private.public_key()
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            "key material is not a readable unencrypted PEM key or certificate"
        ) from exc
    return _describe(public, private)


def load_jwk(jwk_dict: dict[str, Any]) -> LoadedKey:
    """Load an RSA or EC JWK through python-jose (the algorithm only picks its key class)."""
    kty = jwk_dict.get("kty")
    if kty == "RSA" and "n" in jwk_dict and "e" in jwk_dict:
        key_class_algorithm: str | None = "RS256"
    elif kty == "EC":
        key_class_algorithm = _EC_KEY_CLASS_ALGORITHM.get(str(jwk_dict.get("crv")))
    elif kty == "OKP" and jwk_dict.get("crv") == "Ed25519":
        key_class_algorithm = "EdDSA"
    else:
        key_class_algorithm = None
    if key_class_algorithm is None:
        raise ConfigurationError(
            "unsupported or incomplete JWK (RSA, EC P-256/384/521, OKP Ed25519)"
        )
    try:
        key = jwk.construct(jwk_dict, key_class_algorithm)
    except (JOSEError, ValueError, TypeError, KeyError) as exc:
        raise ConfigurationError("JWK material is broken") from exc
    prepared = key.prepared_key  # type: ignore[attr-defined]
    if hasattr(prepared, "public_bytes"):
        return _describe(prepared, None)
    return _describe(prepared.public_key(), prepared)


_EC_KEY_CLASS_ALGORITHM = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


def _describe(public: Any, private: Any | None) -> LoadedKey:
    if isinstance(public, ed25519.Ed25519PublicKey):
        return LoadedKey("OKP", public, "Ed25519", 256, private)
    if isinstance(public, rsa.RSAPublicKey):
        return LoadedKey("RSA", public, None, public.key_size, private)
    if isinstance(public, ec.EllipticCurvePublicKey):
        curve = _CURVE_NAMES.get(public.curve.name)
        if curve is None:
            raise ConfigurationError("unsupported elliptic curve")
        return LoadedKey("EC", public, curve, public.key_size, private)
    raise ConfigurationError("unsupported key type (RSA, EC and Ed25519 keys are supported)")


def hmac_key(secret: bytes, algorithm: str) -> Key:
    """A python-jose HMAC key; the caller has already checked length and shape.

    python-jose's own stdlib-backed class rather than the one ``jwk.construct`` picks
    when cryptography is installed: that one builds a cffi HMAC object per check and
    costs about 1 µs more per token for the same OpenSSL HMAC and constant-time
    comparison."""
    try:
        return HMACKey(secret, algorithm)
    except (JOSEError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"python-jose cannot build a {algorithm} key") from exc


def public_key(loaded: LoadedKey, algorithm: str) -> Key:
    """A python-jose verification key for ``algorithm`` over an already loaded key."""
    return _construct(loaded.public_key, algorithm)


def private_key(loaded: LoadedKey, algorithm: str) -> Key | None:
    """A python-jose signing key for ``algorithm``, when the material was private."""
    return None if loaded.private_key is None else _construct(loaded.private_key, algorithm)


def _construct(material: Any, algorithm: str) -> Key:
    try:
        return jwk.construct(material, algorithm)
    except (JOSEError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"python-jose cannot build a {algorithm} key") from exc


def sign(key: Key, signing_input: bytes) -> bytes:
    """A JWS signature (ECDSA as raw r || s, as RFC 7518 section 3.4 wants)."""
    return key.sign(signing_input)


def verify_signature(key: Key, signing_input: bytes, signature: bytes) -> bool:
    """Check a JWS signature; never raises for a bad signature, only answers False."""
    try:
        return bool(key.verify(signing_input, signature))
    except (JOSEError, ValueError, TypeError):
        return False


# -- algorithms python-jose lacks, added through its own extension point -------------

_PSS_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "PS256": hashes.SHA256,
    "PS384": hashes.SHA384,
    "PS512": hashes.SHA512,
}


class RSAPSSKey(Key):
    """RSASSA-PSS (RFC 7518 section 3.5): MGF1 with the same hash, salt as long as it."""

    def __init__(self, key: Any, algorithm: str) -> None:
        if algorithm not in _PSS_HASHES:
            raise JOSEError(f"{algorithm} is not an RSA-PSS algorithm")
        self._algorithm = algorithm
        self._hash = _PSS_HASHES[algorithm]()
        self._padding = padding.PSS(
            mgf=padding.MGF1(self._hash), salt_length=self._hash.digest_size
        )
        if isinstance(key, dict):
            loaded = load_jwk(key)
            key = loaded.private_key or loaded.public_key
        if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            raise JOSEError("RSA-PSS needs an RSA key")
        self.prepared_key = key

    def sign(self, msg: bytes) -> bytes:
        if not isinstance(self.prepared_key, rsa.RSAPrivateKey):
            raise JOSEError("a public key cannot sign")
        return self.prepared_key.sign(msg, self._padding, self._hash)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        public = self.prepared_key
        if isinstance(public, rsa.RSAPrivateKey):
            public = public.public_key()
        try:
            public.verify(sig, msg, self._padding, self._hash)
        except InvalidSignature:
            return False
        return True


class Ed25519Key(Key):
    """EdDSA with Ed25519 (RFC 8037): JWK ``OKP`` / ``crv`` ``Ed25519``."""

    def __init__(self, key: Any, algorithm: str) -> None:
        if algorithm not in ("EdDSA", "Ed25519"):
            raise JOSEError(f"{algorithm} is not EdDSA")
        self._algorithm = algorithm
        if isinstance(key, dict):
            key = _okp_from_jwk(key)
        if not isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            raise JOSEError("EdDSA needs an Ed25519 key")
        self.prepared_key = key

    def sign(self, msg: bytes) -> bytes:
        if not isinstance(self.prepared_key, ed25519.Ed25519PrivateKey):
            raise JOSEError("a public key cannot sign")
        return self.prepared_key.sign(msg)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        public = self.prepared_key
        if isinstance(public, ed25519.Ed25519PrivateKey):
            public = public.public_key()
        try:
            public.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        public = self.prepared_key
        if isinstance(public, ed25519.Ed25519PrivateKey):
            public = public.public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw), "alg": self._algorithm}


def _okp_from_jwk(jwk_dict: dict[str, Any]) -> Any:
    if jwk_dict.get("kty") != "OKP" or jwk_dict.get("crv") != "Ed25519":
        raise JOSEError("not an Ed25519 JWK")
    try:
        if "d" in jwk_dict:
            private = ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk_dict["d"]))
            x = jwk_dict.get("x")
            expected = private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            if x is not None and b64url_decode(x) != expected:
                raise JOSEError("the Ed25519 JWK's x does not match its d")
            return private
        return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk_dict["x"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise JOSEError("broken Ed25519 JWK") from exc


for _algorithm in _PSS_HASHES:
    jwk.register_key(_algorithm, RSAPSSKey)
jwk.register_key("EdDSA", Ed25519Key)
jwk.register_key("Ed25519", Ed25519Key)  # RFC 9864's fully specified name
