"""DPoP (RFC 9449) at a resource server: the ``DPoP`` option and its proof checks.

``DPoP.check_proof`` is pure: given the proof header's value, the request's method
and URI, the access token and the time, it answers the proof's key thumbprint and the
replay-cache entry, or raises ``InvalidDPoPProof`` with the failed check as its reason
(``UseDPoPNonce`` when a server nonce is wanted). The policy then compares the
thumbprint with the token's ``cnf.jkt`` and asks the replay cache, the only I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import struct
import time
from collections.abc import Iterable
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from . import _compact
from ._encoding import b64url_encode
from ._jwk import PRIVATE_MEMBERS, required_members, thumbprint
from ._keys import (
    EC_ALGORITHMS,
    EDDSA_ALGORITHMS,
    HMAC_ALGORITHMS,
    PSS_ALGORITHMS,
    RSA_ALGORITHMS,
    StaticKey,
)
from ._replay import MemoryReplayCache, ReplayCache
from ._resource import normalize_resource
from .errors import ConfigurationError, InvalidDPoPProof, MalformedToken, UseDPoPNonce

ASYMMETRIC_ALGORITHMS = frozenset(
    RSA_ALGORITHMS | PSS_ALGORITHMS | set(EC_ALGORITHMS) | EDDSA_ALGORITHMS
)
DEFAULT_ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "EdDSA")
_MAX_JTI = 256
_MAX_RSA_MODULUS_CHARS = 1366  # base64url of 8192 bits: past that a proof costs too much
_WEBSOCKET_SCHEMES = {"ws": "http", "wss": "https"}
_KEY_CACHE = 512  # proof keys built, by thumbprint (clients reuse one key per session)


class CheckedProof(NamedTuple):
    """A proof that passed every check but the key binding and the replay cache."""

    jkt: str  # RFC 7638 thumbprint of its jwk
    replay_key: str  # what the replay cache stores: one per key and jti
    ttl: float  # seconds until the proof stops being acceptable (the entry's life)
    fresh_nonce: str | None  # a newer nonce for the DPoP-Nonce header (rotation)


class DPoPNonces:
    """Server-provided nonces (RFC 9449 section 9), derived and not stored: a nonce is
    an HMAC of its time window under ``secret``, so every worker and machine given the
    same secret issues and accepts the same ones. A nonce is good for its ``lifetime``
    window and the next; during that next one, answers carry the new nonce in
    ``DPoP-Nonce`` so clients rotate before theirs goes stale."""

    def __init__(self, secret: str | bytes, *, lifetime: int = 300) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not isinstance(key, bytes) or len(key) < 32:
            raise ConfigurationError("the DPoP nonce secret needs at least 32 bytes")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 10:
            raise ConfigurationError("the nonce lifetime is an int of at least 10 seconds")
        self._key = key
        self.lifetime = lifetime

    def current(self, now: float) -> str:
        return self._nonce(int(now // self.lifetime))

    def check(self, nonce: object, now: float) -> bool | None:
        """True: the current nonce; False: the previous one (good, but rotate);
        None: not a nonce of ours, or too old."""
        if not isinstance(nonce, str) or len(nonce) != 43 or not nonce.isascii():
            return None  # (compare_digest takes ASCII text only)
        window = int(now // self.lifetime)
        if hmac.compare_digest(nonce, self._nonce(window)):
            return True
        if hmac.compare_digest(nonce, self._nonce(window - 1)):
            return False
        return None

    def _nonce(self, window: int) -> str:
        mac = hmac.new(
            self._key, b"jwt-middleware dpop nonce" + struct.pack(">q", window), "sha256"
        )
        return b64url_encode(mac.digest()[:32])

    def __repr__(self) -> str:
        return f"DPoPNonces(lifetime={self.lifetime})"


class DPoP:
    """Accept DPoP-bound access tokens (RFC 9449): ``Authorization: DPoP <token>`` with
    one ``DPoP`` proof header, for the middleware's ``dpop=`` option.

    - ``required``: refuse bearer tokens altogether (otherwise both are accepted, but a
      DPoP-bound token sent as ``Bearer`` is always refused);
    - ``algorithms``: proof algorithms accepted (asymmetric only);
    - ``max_age``: how long after its ``iat`` a proof is accepted; ``clock_skew``: how
      far ahead of our clock its ``iat`` may be;
    - ``replay``: where used proofs are remembered (``MemoryReplayCache`` by default,
      for one process; ``RedisReplayCache`` for several workers or machines);
    - ``nonces``: a ``DPoPNonces`` to require server nonces;
    - ``max_proof_bytes``: larger proofs are refused before parsing.
    """

    def __init__(
        self,
        *,
        required: bool = False,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        max_age: float = 60,
        clock_skew: float = 10,
        replay: ReplayCache | None = None,
        nonces: DPoPNonces | None = None,
        max_proof_bytes: int = 8192,
    ) -> None:
        algs = (algorithms,) if isinstance(algorithms, str) else tuple(algorithms)
        if not algs:
            raise ConfigurationError("name at least one DPoP proof algorithm")
        for alg in algs:
            if alg.lower() == "none" or alg in HMAC_ALGORITHMS:
                raise ConfigurationError(f"{alg} cannot sign a DPoP proof: it must be asymmetric")
            if alg not in ASYMMETRIC_ALGORITHMS:
                raise ConfigurationError(f"unsupported DPoP proof algorithm {alg!r}")
        for name, value in (("max_age", max_age), ("clock_skew", clock_skew)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigurationError(f"{name} must be a non-negative number of seconds")
            if not math.isfinite(value):
                raise ConfigurationError(f"{name} must be finite")
        if max_age == 0:
            raise ConfigurationError("max_age must be positive")
        if replay is not None and not isinstance(replay, ReplayCache):
            raise ConfigurationError(
                "replay must be a MemoryReplayCache, RedisReplayCache or alike"
            )
        if nonces is not None and not isinstance(nonces, DPoPNonces):
            raise ConfigurationError("nonces must be a DPoPNonces")
        if isinstance(max_proof_bytes, bool) or not isinstance(max_proof_bytes, int):
            raise ConfigurationError("max_proof_bytes must be an int")
        if max_proof_bytes < 256:
            raise ConfigurationError("max_proof_bytes must be at least 256")
        self.required = bool(required)
        self.algorithms = tuple(dict.fromkeys(algs))
        self._accepted = frozenset(self.algorithms)
        self.max_age, self.clock_skew = max_age, clock_skew
        self.replay: ReplayCache = replay if replay is not None else MemoryReplayCache()
        self.nonces = nonces
        self.max_proof_bytes = max_proof_bytes
        self._keys: dict[tuple[str, str], StaticKey] = {}
        self._headers: dict[bytes, tuple[str, str, StaticKey]] = {}  # checked, by segment

    def verify_proof(
        self,
        proof: str,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        now: float | None = None,
    ) -> str:
        """Check a proof as a token endpoint does before binding a token to its key
        (``access_token=None``: no ``ath``), the replay cache included; answer the key's
        thumbprint for ``TokenIssuer.issue(dpop_jkt=...)``. Raises ``InvalidDPoPProof``
        (``UseDPoPNonce``) or ``ReplayCacheUnavailable``."""
        checked = self.check_proof(
            proof,
            method=method,
            uri=url,
            access_token=access_token,
            now=time.time() if now is None else now,
        )
        self.claim(checked)
        return checked.jkt

    def claim(self, proof: CheckedProof) -> None:
        """Take the proof's replay entry; ``dpop_replay`` when it was taken before."""
        _first_use(self.replay.first_use(proof.replay_key, proof.ttl))

    async def aclaim(self, proof: CheckedProof) -> None:
        _first_use(await self.replay.afirst_use(proof.replay_key, proof.ttl))

    def check_proof(
        self, proof: str, *, method: str, uri: str, access_token: str | None, now: float
    ) -> CheckedProof:
        """Every check of RFC 9449 section 4.3 but the replay cache (the caller's I/O) and
        the token's binding. ``uri``: the request URI (its query is ignored);
        ``access_token`` None: a proof without ``ath`` (at a token endpoint)."""
        if len(proof) > self.max_proof_bytes:
            raise InvalidDPoPProof("dpop_too_large", "the DPoP proof exceeds max_proof_bytes")
        try:
            segments = _compact.split(proof, self.max_proof_bytes)
            checked = self._headers.get(segments.header)
            if checked is None:
                checked = self._check_header(_compact.decode_object(segments.header, "header"))
                if len(self._headers) >= _KEY_CACHE:
                    self._headers.clear()
                self._headers[segments.header] = checked
            claims = _compact.decode_object(segments.payload, "payload")
            signature = _compact.decode_signature(segments.signature)
        except MalformedToken:
            raise InvalidDPoPProof(
                "dpop_malformed", "the DPoP proof is not a compact JWS"
            ) from None
        alg, jkt, key = checked
        if not key.verify(alg, segments.signing_input, signature, admit=True):
            raise InvalidDPoPProof("dpop_signature", "the DPoP proof's signature is invalid")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI:
            raise InvalidDPoPProof("dpop_jti", "the DPoP proof has no usable jti")
        if claims.get("htm") != method:
            raise InvalidDPoPProof("dpop_htm", "the DPoP proof is for another method")
        htu = claims.get("htu")
        if not isinstance(htu, str) or (
            htu != uri and _comparable_uri(htu) != _comparable_uri(uri)  # the same, or alike
        ):
            raise InvalidDPoPProof("dpop_htu", "the DPoP proof is for another URI")
        iat = claims.get("iat")
        if type(iat) is not int and type(iat) is not float:  # exact types: bool is not
            raise InvalidDPoPProof("dpop_iat", "the DPoP proof's iat is not a number")
        if not now - self.max_age <= iat <= now + self.clock_skew:
            raise InvalidDPoPProof("dpop_iat", "the DPoP proof is too old or from the future")
        fresh_nonce = self._check_nonce(claims.get("nonce"), now)
        ath = claims.get("ath")
        if access_token is not None and (
            not isinstance(ath, str)
            or not hmac.compare_digest(
                ath.encode("ascii", "replace"), access_token_hash(access_token).encode("ascii")
            )
        ):
            raise InvalidDPoPProof("dpop_ath", "the DPoP proof is for another access token")
        replay_key = b64url_encode(hashlib.sha256(f"{jkt}.{jti}".encode()).digest())
        return CheckedProof(jkt, replay_key, max(1.0, iat + self.max_age - now), fresh_nonce)

    def _check_header(self, header: dict[str, Any]) -> tuple[str, str, StaticKey]:
        """The header's algorithm, key thumbprint and key, or the refusal. A client
        signs every proof with one key, so its header segment repeats: the caller keeps
        the answer by segment (the bytes are all that is checked here)."""
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower().removeprefix("application/") != "dpop+jwt":
            raise InvalidDPoPProof("dpop_typ", "the DPoP proof's typ is not dpop+jwt")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._accepted:
            raise InvalidDPoPProof("dpop_alg", "the DPoP proof's alg is not accepted")
        if "crit" in header:
            raise InvalidDPoPProof("dpop_malformed", "the DPoP proof names critical extensions")
        jkt, key = self._key(header.get("jwk"), alg)
        return alg, jkt, key

    def _key(self, jwk: Any, alg: str) -> tuple[str, StaticKey]:
        """The proof's public key, and its thumbprint. Built once per thumbprint and
        algorithm: the thumbprint covers exactly the members the key is built from."""
        if not isinstance(jwk, dict):
            raise InvalidDPoPProof("dpop_jwk", "the DPoP proof has no jwk")
        if not PRIVATE_MEMBERS.isdisjoint(jwk):
            raise InvalidDPoPProof("dpop_jwk", "the DPoP proof's jwk holds private material")
        members = required_members(jwk)
        if members is None:
            raise InvalidDPoPProof("dpop_jwk", "the DPoP proof's jwk is not an RSA, EC or OKP key")
        if members["kty"] == "RSA" and len(members["n"]) > _MAX_RSA_MODULUS_CHARS:
            raise InvalidDPoPProof("dpop_jwk", "the DPoP proof's RSA key is too large")
        jkt = thumbprint(members)
        key = self._keys.get((jkt, alg))
        if key is None:
            try:
                key = StaticKey(members, alg)
            except ConfigurationError:
                raise InvalidDPoPProof(
                    "dpop_jwk", "the DPoP proof's jwk is not a usable key for its alg"
                ) from None
            if len(self._keys) >= _KEY_CACHE:
                self._keys.clear()
            self._keys[jkt, alg] = key
        return jkt, key

    def _check_nonce(self, nonce: object, now: float) -> str | None:
        nonces = self.nonces
        if nonces is None:
            return None
        state = nonces.check(nonce, now)
        if state is None:
            raise UseDPoPNonce(nonces.current(now), "the DPoP proof lacks the current nonce")
        return None if state else nonces.current(now)

    def challenge_algs(self) -> str:
        return " ".join(self.algorithms)

    def __repr__(self) -> str:
        return (
            f"DPoP(required={self.required}, algorithms={list(self.algorithms)}, "
            f"max_age={self.max_age}, replay={self.replay!r}, nonces={self.nonces!r})"
        )


def _first_use(first: bool) -> None:
    if not first:
        raise InvalidDPoPProof("dpop_replay", "the DPoP proof was used before")


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the access token's ASCII (RFC 9449 section 4.2)."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def _comparable_uri(uri: str) -> str:
    """RFC 3986 normalised (dot segments removed too), without query and fragment (RFC
    9449 section 4.3); a websocket URI as the HTTP URI of its handshake."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "\x00invalid"
    scheme = _WEBSOCKET_SCHEMES.get(parts.scheme.lower(), parts.scheme)
    path = _remove_dot_segments(parts.path) if "." in parts.path else parts.path
    return normalize_resource(urlunsplit((scheme, parts.netloc, path, "", "")))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on whole segments."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)
