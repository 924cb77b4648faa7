"""Keys and key sets: the resolvers over keys held in memory.

The algorithm a token may use comes from the key, never from the token (RFC 8725
section 3.1): an ``oct`` key verifies HS*, an RSA key RS*, an EC key the one ES*
of its curve, and a configured algorithm or a JWK's ``alg`` narrows that to one.
Unsafe bindings fail at construction with ``ConfigurationError``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from . import _jose
from ._encoding import b64url_decode
from ._key_resolver import Claims, JOSEHeader, KeyResolver
from .errors import ConfigurationError

logger = logging.getLogger("jwt_middleware")

HMAC_ALGORITHMS: Mapping[str, int] = {"HS256": 32, "HS384": 48, "HS512": 64}
"""HMAC algorithms and the smallest secret (bytes) each accepts: the hash size."""
RSA_ALGORITHMS: frozenset[str] = frozenset({"RS256", "RS384", "RS512"})
PSS_ALGORITHMS: frozenset[str] = frozenset({"PS256", "PS384", "PS512"})
"""RSA-PSS: an RSA key does these only when its JWK ``alg`` or the configuration says so."""
EDDSA_ALGORITHMS: frozenset[str] = frozenset({"EdDSA", "Ed25519"})
"""Ed25519 signatures: ``EdDSA`` (RFC 8037) and its fully specified name ``Ed25519``
(RFC 9864). Two names of one algorithm, so an Ed25519 key accepts both."""
EC_ALGORITHMS: Mapping[str, str] = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
"""ECDSA algorithms and the one curve each is bound to (RFC 7518 section 3.4)."""
SUPPORTED_ALGORITHMS: frozenset[str] = (
    frozenset(HMAC_ALGORITHMS)
    | RSA_ALGORITHMS
    | PSS_ALGORITHMS
    | frozenset(EC_ALGORITHMS)
    | EDDSA_ALGORITHMS
)
_SUPPORTED_CURVES = {"EC": frozenset(EC_ALGORITHMS.values()), "OKP": frozenset({"Ed25519"})}
MIN_RSA_BITS = 2048  # RFC 7518 section 3.3

KeyMaterial: TypeAlias = "str | bytes | Mapping[str, Any]"


class _UnsupportedKey(ConfigurationError):
    """A well-formed key this library does not verify with (skipped inside key sets)."""


class StaticKey(KeyResolver):
    """One verification key, built once.

    ``material`` is an HMAC secret (str or bytes), a PEM public key, private key or
    certificate, or a JWK (dict, or its JSON text). A secret or PEM needs
    ``algorithm``; a JWK takes it from its ``alg`` or, without one, allows the
    algorithms of its key type. ``kid`` defaults to the JWK's ``kid``.
    """

    __slots__ = ("_signers", "_verifiers", "admissible", "algorithms", "kid")

    kid: str | None
    algorithms: frozenset[str]
    admissible: frozenset[str]
    """What the key may verify when configuration asks for it: for an RSA key whose
    algorithm was not pinned (a JWK without ``alg``, an inferred PEM), RS* and PS*,
    while ``algorithms`` (what it verifies by default) is RS* alone."""
    generation = 0  # a static key never changes (see the Verifier's token cache)

    def __init__(
        self, material: KeyMaterial, algorithm: str | None = None, kid: str | None = None
    ) -> None:
        self._load(material, algorithm, kid, infer=False)

    @classmethod
    def infer(cls, material: KeyMaterial, kid: str | None = None) -> StaticKey:
        """A key whose algorithms follow from the material alone (PEM type, JWK, secret)."""
        key = cls.__new__(cls)
        key._load(material, None, kid, infer=True)
        return key

    def _load(
        self, material: KeyMaterial, algorithm: str | None, kid: str | None, *, infer: bool
    ) -> None:
        if algorithm is not None and algorithm not in SUPPORTED_ALGORITHMS:
            raise ConfigurationError(
                f"unknown or unsupported algorithm {algorithm!r}; "
                f"supported: {', '.join(sorted(SUPPORTED_ALGORITHMS))}"
            )
        jwk = _as_jwk(material)
        if jwk is not None and "keys" in jwk and "kty" not in jwk:
            raise ConfigurationError("this is a key set (JWKS), not one key: use KeySet")
        if jwk is not None:
            algorithm, kid = _check_jwk_metadata(jwk, algorithm, kid)
        elif algorithm is None and not infer:
            raise ConfigurationError(
                "an algorithm is required for a secret or PEM key, "
                "e.g. StaticKey(secret, algorithm='HS256')"
            )
        if kid is not None and not isinstance(kid, str):
            raise ConfigurationError("kid must be a string")
        self.kid = kid
        self._verifiers, self._signers, default = _build_keys(material, jwk, algorithm)
        self.admissible = frozenset(self._verifiers)
        self.algorithms = frozenset(default)

    def narrowed(self, algorithms: frozenset[str]) -> StaticKey:
        """This key for the configured ``algorithms`` only: an unpinned RSA key admits
        the PS* among them too (oidc-provider and Authlib publish RSA keys without
        ``alg`` and sign PS256 with them). ``ConfigurationError`` when none fit."""
        allowed = self.admissible & algorithms  # a pinned key admits its own alg only
        if not allowed:
            raise _UnsupportedKey(f"the key allows none of {', '.join(sorted(algorithms))}")
        key = StaticKey.__new__(StaticKey)
        key.kid = self.kid
        key._verifiers = {alg: v for alg, v in self._verifiers.items() if alg in allowed}
        key._signers = {alg: s for alg, s in self._signers.items() if alg in allowed}
        key.admissible = key.algorithms = frozenset(allowed)
        return key

    @property
    def can_sign(self) -> bool:
        """True when the material was a secret or a private key."""
        return bool(self._signers)

    def sign(self, algorithm: str, signing_input: bytes) -> bytes:
        signer = self._signers.get(algorithm)
        if signer is None:
            raise ConfigurationError(f"this key cannot sign with {algorithm} (no private key?)")
        return _jose.sign(signer, signing_input)

    def verify(
        self, algorithm: str, signing_input: bytes, signature: bytes, *, admit: bool = False
    ) -> bool:
        """Check a signature made with ``algorithm``; False when the key does not allow
        it (with ``admit``, when it is not even ``admissible``)."""
        if not admit and algorithm not in self.algorithms:
            return False
        key = self._verifiers.get(algorithm)
        return key is not None and _jose.verify_signature(key, signing_input, signature)

    # A single key is its own resolver.
    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        token_kid = header.get("kid")
        if self.kid is not None and token_kid is not None and token_kid != self.kid:
            return ()
        return (self,)

    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        return self.resolve(header, claims)

    def __repr__(self) -> str:
        return f"StaticKey(kid={self.kid!r}, algorithms={sorted(self.algorithms)!r})"


def _as_jwk(material: KeyMaterial) -> dict[str, Any] | None:
    if isinstance(material, Mapping):
        return dict(material)
    text = material.strip() if isinstance(material, str) else None
    if text is not None and text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError("key material looks like JSON but is not") from exc
        if isinstance(parsed, dict):
            return parsed
        raise ConfigurationError("a JWK must be a JSON object")
    if not isinstance(material, str | bytes):
        raise ConfigurationError("key material must be str, bytes or a JWK mapping")
    return None


def _check_jwk_metadata(
    jwk: dict[str, Any], algorithm: str | None, kid: str | None
) -> tuple[str | None, str | None]:
    if jwk.get("use", "sig") != "sig":
        raise _UnsupportedKey("the JWK is for encryption (use != 'sig')")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and "verify" not in key_ops:
        raise _UnsupportedKey("the JWK's key_ops do not include 'verify'")
    jwk_alg = jwk.get("alg")
    if jwk_alg is not None:
        if jwk_alg not in SUPPORTED_ALGORITHMS:
            raise _UnsupportedKey(f"unsupported JWK alg {jwk_alg!r}")
        if algorithm is not None and algorithm != jwk_alg:
            raise ConfigurationError(f"algorithm {algorithm!r} contradicts the JWK's alg")
    jwk_kid = jwk.get("kid")
    if kid is not None and jwk_kid is not None and kid != jwk_kid:
        raise ConfigurationError("kid contradicts the JWK's kid")
    return algorithm or jwk_alg, kid if kid is not None else jwk_kid


_Keys = dict[str, _jose.JoseKey]


def _build_keys(
    material: KeyMaterial, jwk: dict[str, Any] | None, algorithm: str | None
) -> tuple[_Keys, _Keys, Iterable[str]]:
    """Verification keys per admissible algorithm, signing keys when private, and the
    algorithms allowed by default."""
    if jwk is not None:
        kty = jwk.get("kty")
        if kty == "oct":
            keys, signers = _hmac_keys(_jwk_secret(jwk), algorithm)
            return keys, signers, keys
        if kty not in ("RSA", "EC", "OKP"):
            raise _UnsupportedKey(f"unsupported JWK key type {kty!r}")
        curves = _SUPPORTED_CURVES.get(kty)
        if curves is not None and jwk.get("crv") not in curves:
            raise _UnsupportedKey(f"unsupported {kty} curve {jwk.get('crv')!r}")
        return _asymmetric_keys(_jose.load_jwk(jwk), algorithm)
    if isinstance(material, str):
        raw = material.encode("utf-8")
    elif isinstance(material, bytes):
        raw = material
    else:
        raise ConfigurationError("key material must be str, bytes or a JWK mapping")
    is_pem = b"-----BEGIN" in raw
    if algorithm in HMAC_ALGORITHMS or (algorithm is None and not is_pem):
        keys, signers = _hmac_keys(raw, algorithm)
        return keys, signers, keys
    if not is_pem:
        raise ConfigurationError(f"{algorithm} keys are given as PEM or as a JWK")
    return _asymmetric_keys(_jose.load_pem(raw), algorithm)


def _jwk_secret(jwk: Mapping[str, Any]) -> bytes:
    k = jwk.get("k")
    if not isinstance(k, str):
        raise ConfigurationError("an oct JWK needs its secret in 'k'")
    try:
        return b64url_decode(k)
    except ValueError as exc:
        raise ConfigurationError("the oct JWK's 'k' is not base64url") from exc


def _hmac_keys(secret: bytes, algorithm: str | None) -> tuple[_Keys, _Keys]:
    if algorithm is not None and algorithm not in HMAC_ALGORITHMS:
        raise ConfigurationError(f"{algorithm} needs an RSA or EC key, not a shared secret")
    if _jose.looks_asymmetric(secret):
        raise ConfigurationError(
            "public-key material (PEM, DER, OpenSSH or JWK) cannot be an HMAC secret"
        )
    wanted = [algorithm] if algorithm else list(HMAC_ALGORITHMS)
    allowed = [alg for alg in wanted if len(secret) >= HMAC_ALGORITHMS[alg]]
    if not allowed:
        need = HMAC_ALGORITHMS[wanted[0]]
        raise ConfigurationError(
            f"the HMAC secret has {len(secret)} bytes; {wanted[0]} needs at least {need}"
        )
    keys = {alg: _jose.hmac_key(secret, alg) for alg in allowed}
    return keys, keys  # a shared secret both signs and verifies


def _asymmetric_keys(
    loaded: _jose.LoadedKey, algorithm: str | None
) -> tuple[_Keys, _Keys, Iterable[str]]:
    allowed: list[str]
    if loaded.kty == "RSA":
        if loaded.size_bits < MIN_RSA_BITS:
            raise ConfigurationError(
                f"RSA keys need at least {MIN_RSA_BITS} bits; this one has {loaded.size_bits}"
            )
        # PKCS#1 v1.5 by default; PSS only when asked for, never both at once.
        family, allowed = sorted(RSA_ALGORITHMS), sorted(RSA_ALGORITHMS | PSS_ALGORITHMS)
    elif loaded.kty == "OKP":
        family = allowed = sorted(EDDSA_ALGORITHMS)
    else:
        family = allowed = [alg for alg, curve in EC_ALGORITHMS.items() if curve == loaded.curve]
    if algorithm is not None:
        if algorithm not in allowed:
            raise ConfigurationError(
                f"{algorithm} cannot be used with this {loaded.kty} key "
                f"(it allows {', '.join(allowed)})"
            )
        family = allowed = [algorithm]
    # Unpinned, the key can verify every allowed algorithm once configuration asks.
    verifiers = {alg: _jose.public_key(loaded, alg) for alg in allowed}
    signers = {alg: signer for alg in family if (signer := _jose.private_key(loaded, alg))}
    return verifiers, signers, family


class KeySet(KeyResolver):
    """A static JWKS (``{"keys": [...]}``) or a list of keys, selected by ``kid``.

    ``algorithms`` narrows the keys to those algorithms, and lets RSA keys without
    ``alg`` verify the PS* among them; keys that allow none of them are skipped.

    JWKs for encryption or of unsupported types are skipped with a log line; broken
    material and ambiguous sets (several keys, some without ``kid``; a repeated
    ``kid`` for the same algorithm) are configuration errors, or, with
    ``skip_invalid=True`` (documents fetched at run time), skipped with a log line too.
    A set left with no usable key is always an error.
    """

    generation = 0  # a static set never changes

    def __init__(
        self,
        keys: Mapping[str, Any] | Iterable[StaticKey | Mapping[str, Any]],
        *,
        skip_invalid: bool = False,
        algorithms: Iterable[str] | None = None,
    ) -> None:
        wanted = configured_algorithms(algorithms)
        loaded: list[StaticKey] = []
        for index, entry in enumerate(_jwks_entries(keys)):
            try:
                key = _entry_key(entry, index)
                loaded.append(key if wanted is None else key.narrowed(wanted))
            except _UnsupportedKey as exc:
                logger.warning("skipping key #%d: %s", index, exc)
            except ConfigurationError as exc:
                if not skip_invalid:
                    raise
                logger.warning("skipping key #%d: %s", index, exc)
        if len(loaded) > 1 and any(key.kid is None for key in loaded):
            if not skip_invalid:
                raise ConfigurationError("in a set of several keys every key needs a kid")
            logger.warning("skipping keys without a kid in a set of several keys")
            loaded = [key for key in loaded if key.kid is not None]
        self._by_kid: dict[str | None, tuple[StaticKey, ...]] = {}
        kept: list[StaticKey] = []
        for key in loaded:
            same_kid = self._by_kid.get(key.kid, ())
            if any(other.algorithms & key.algorithms for other in same_kid):
                if not skip_invalid:
                    raise ConfigurationError(f"two keys share kid {key.kid!r} and an algorithm")
                logger.warning("skipping a second key with kid %r", key.kid)
                continue
            self._by_kid[key.kid] = (*same_kid, key)
            kept.append(key)
        if not kept:
            raise ConfigurationError("the key set holds no usable verification key")
        self._keys = tuple(kept)

    @property
    def keys(self) -> tuple[StaticKey, ...]:
        return self._keys

    def resolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        kid = header.get("kid")
        if kid is None:
            return self._keys if len(self._keys) == 1 else ()
        return self._by_kid.get(kid, ())

    async def aresolve(self, header: JOSEHeader, claims: Claims) -> Sequence[StaticKey]:
        return self.resolve(header, claims)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeySet({list(self._keys)!r})"


def configured_algorithms(algorithms: Iterable[str] | None) -> frozenset[str] | None:
    """The algorithms a user configured (one name or several), checked; None for none."""
    if algorithms is None:
        return None
    chosen = frozenset((algorithms,) if isinstance(algorithms, str) else algorithms)
    if not chosen or not chosen <= SUPPORTED_ALGORITHMS:
        raise ConfigurationError(
            f"unknown or unsupported algorithms {sorted(chosen - SUPPORTED_ALGORITHMS)!r}; "
            f"supported: {', '.join(sorted(SUPPORTED_ALGORITHMS))}"
        )
    return chosen


def _entry_key(entry: object, index: int) -> StaticKey:
    if isinstance(entry, StaticKey):
        return entry
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"key #{index} is neither a StaticKey nor a JWK")
    return StaticKey(entry)


def _jwks_entries(keys: Mapping[str, Any] | Iterable[Any]) -> list[Any]:
    if isinstance(keys, Mapping):
        entries = keys.get("keys")
        if not isinstance(entries, list):
            raise ConfigurationError("a JWKS document is a JSON object with a 'keys' list")
        return entries
    if isinstance(keys, str | bytes):
        raise ConfigurationError("KeySet takes a JWKS document or a list of keys")
    return list(keys)
