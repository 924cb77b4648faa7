"""Minting tokens: short-lived access tokens, refresh tokens that rotate on every use,
reuse detection, and revocation, on the same keys and verifier as the middleware.

Access tokens follow RFC 9068 (JOSE ``typ`` ``at+jwt``); refresh tokens carry their own
``typ`` (``refresh+jwt``), which the middleware's default ``token_types`` refuses, so a
refresh token is never accepted as an access token. A pair shares a session id
(``sid``) with every pair refreshed from it: presenting a used refresh token again
revokes the whole session, access tokens included (a verifier with the same denylist
checks ``sid`` as well as ``jti``).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._claims import confirmation, scopes_of
from ._encoding import b64url_encode
from ._keys import EDDSA_ALGORITHMS, StaticKey
from ._responses import SCOPE_TOKEN
from ._revocation import Denylist, MemoryDenylist, session_entry, token_entry
from ._verifier import Verifier
from .errors import (
    BindingMismatch,
    ConfigurationError,
    ExpiredToken,
    InvalidClaims,
    RefreshTokenReused,
    RevokedToken,
    UnsupportedConfirmation,
    WrongTokenType,
)

ACCESS_TOKEN_TYPE = "at+jwt"
REFRESH_TOKEN_TYPE = "refresh+jwt"
RESERVED_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "scope", "ext", "cnf"}
)
"""Claims the issuer sets itself; ``claims=`` may not override them."""
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"

    def as_dict(self) -> dict[str, Any]:
        """The OAuth 2.0 token response body (RFC 6749 section 5.1)."""
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_expires_in": self.refresh_expires_in,
        }

    def __repr__(self) -> str:  # tokens are credentials: keep them out of logs
        return f"TokenPair(expires_in={self.expires_in}, token_type={self.token_type!r})"


class TokenIssuer:
    """Mints and rotates tokens with ``key``: a ``StaticKey`` holding an HMAC
    secret or a private key (PEM or JWK); ``algorithm`` is needed only when the key
    allows several.

    ``denylist`` records used refresh tokens and revocations; share it (a
    ``RedisDenylist`` across machines) with the ``Verifier`` of every service
    that accepts the access tokens. Without one, a ``MemoryDenylist`` is made.
    """

    def __init__(
        self,
        key: StaticKey,
        *,
        algorithm: str | None = None,
        issuer: str | None = None,
        audience: str | Iterable[str] | None = None,
        access_ttl: int = 900,
        refresh_ttl: int = 14 * 24 * 3600,
        denylist: Denylist | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(key, StaticKey) or not key.can_sign:
            raise ConfigurationError("TokenIssuer needs a StaticKey with a secret or private key")
        if algorithm is None and key.algorithms == EDDSA_ALGORITHMS:
            algorithm = "EdDSA"  # one algorithm, two names: the one every library knows
        if algorithm is None:
            if len(key.algorithms) != 1:
                raise ConfigurationError(
                    f"the key allows {sorted(key.algorithms)}: choose one with algorithm="
                )
            (algorithm,) = key.algorithms
        elif algorithm not in key.algorithms:
            raise ConfigurationError(f"the key cannot sign {algorithm}")
        for name, ttl in (("access_ttl", access_ttl), ("refresh_ttl", refresh_ttl)):
            if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds")
        if refresh_ttl <= access_ttl:
            raise ConfigurationError("refresh_ttl must be longer than access_ttl")
        if isinstance(audience, str):
            audience = (audience,)
        self._audience = list(audience) if audience is not None else None
        self._key, self._algorithm = key, algorithm
        self._issuer = issuer
        self.access_ttl, self.refresh_ttl = access_ttl, refresh_ttl
        self.denylist: Denylist = denylist if denylist is not None else MemoryDenylist(clock=clock)
        self._clock = clock
        # No token cache: refresh tokens are single-use, and revocation is checked here.
        common: dict[str, Any] = {
            "algorithms": [algorithm],
            "issuer": issuer,
            "clock": clock,
            "cache_size": 0,
        }
        self._refresh_verifier = Verifier(
            key,
            token_types=[REFRESH_TOKEN_TYPE],
            required_claims=("exp", "jti", "sid", "sub"),
            **common,
        )
        self._access_verifier = Verifier(
            key,
            token_types=[ACCESS_TOKEN_TYPE],
            required_claims=("exp", "jti"),
            audience=self._audience,
            **common,
        )

    # -- minting ----------------------------------------------------------------------

    def issue(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        ttl: int | None = None,
        dpop_jkt: str | None = None,
    ) -> str:
        """An access token for ``subject`` (``typ`` ``at+jwt``, RFC 9068). With
        ``dpop_jkt`` (the thumbprint ``DPoP.verify_proof`` or ``DPoPKey`` gives) it is
        bound to that DPoP key (``cnf.jkt``, RFC 9449 section 6): only requests with a
        proof signed by the key are accepted."""
        extra = _extra(claims)
        jkt = _thumbprint(dpop_jkt)
        if jkt is not None:
            extra["cnf"] = {"jkt": jkt}
        return self._access_token(subject, _scopes(scopes), extra, ttl, sid=None)

    def issue_pair(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        dpop_jkt: str | None = None,
    ) -> TokenPair:
        """An access token and a refresh token that starts a new session. With
        ``dpop_jkt`` both are bound to that DPoP key (RFC 9449 section 5, as public
        clients' refresh tokens must be): ``refresh`` then wants the same key."""
        sid, jkt = secrets.token_urlsafe(16), _thumbprint(dpop_jkt)
        return self._pair(subject, _scopes(scopes), _extra(claims), sid, jkt, jkt)

    def _pair(
        self,
        subject: str,
        scopes: tuple[str, ...],
        extra: dict[str, Any],
        sid: str,
        jkt: str | None = None,
        refresh_jkt: str | None = None,
    ) -> TokenPair:
        """``jkt`` binds the access token (``token_type`` then ``DPoP``, RFC 9449 section
        5), ``refresh_jkt`` the refresh token."""
        cnf = None if jkt is None else {"jkt": jkt}
        access = self._access_token(subject, scopes, {**extra, "cnf": cnf}, None, sid)
        now = int(self._clock())
        refresh_claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + self.refresh_ttl,
            "jti": secrets.token_urlsafe(16),
            "sid": sid,
            "scope": " ".join(scopes) or None,
            "ext": extra or None,
            "cnf": None if refresh_jkt is None else {"jkt": refresh_jkt},
        }
        refresh = self._sign(REFRESH_TOKEN_TYPE, refresh_claims)
        token_type = "Bearer" if jkt is None else "DPoP"
        return TokenPair(access, refresh, self.access_ttl, self.refresh_ttl, token_type)

    def _access_token(
        self,
        subject: str,
        scopes: tuple[str, ...],
        extra: dict[str, Any],
        ttl: int | None,
        sid: str | None,
    ) -> str:
        if not isinstance(subject, str) or not subject:
            raise ValueError("the subject is a non-empty string")
        lifetime = self.access_ttl if ttl is None else ttl
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
            raise ValueError("ttl must be a positive number of seconds")
        now = int(self._clock())
        audience = self._audience
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "aud": audience[0] if audience and len(audience) == 1 else audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(16),
            "sid": sid,
            "scope": " ".join(scopes) or None,
            **extra,  # cannot clash: _extra() refused reserved names
        }
        return self._sign(ACCESS_TOKEN_TYPE, claims)

    def _sign(self, typ: str, claims: dict[str, Any]) -> str:
        header: dict[str, Any] = {"alg": self._algorithm, "typ": typ}
        if self._key.kid is not None:
            header["kid"] = self._key.kid
        payload = {name: value for name, value in claims.items() if value is not None}
        signing_input = f"{_segment(header)}.{_segment(payload)}"
        signature = self._key.sign(self._algorithm, signing_input.encode("ascii"))
        return f"{signing_input}.{b64url_encode(signature)}"

    # -- refresh and revocation (sync and async share every step but the denylist) ----

    def refresh(self, refresh_token: str, *, dpop_jkt: str | None = None) -> TokenPair:
        """A new pair for a valid, unused refresh token; the old one is used up. A used
        one presented again revokes its whole session and raises
        ``RefreshTokenReused``. ``dpop_jkt``: the key of the token request's DPoP proof
        (``DPoP.verify_proof``); a DPoP-bound refresh token needs its own key
        (``BindingMismatch`` otherwise, checked before the token is used up, so a
        thief without the key cannot spend it), and the new access token is bound to
        the proof's key (the refresh token keeps its binding)."""
        claims, sid, jti = self._verified_refresh(refresh_token)
        jkt = _refresh_binding(claims, _thumbprint(dpop_jkt))
        if self.denylist.is_revoked(session_entry(sid)):
            raise RevokedToken("the session was revoked")
        if not self.denylist.revoke(token_entry(jti), claims["exp"]):
            self.denylist.revoke(session_entry(sid), self._clock() + self.refresh_ttl)
            raise RefreshTokenReused()
        return self._successor(claims, sid, jkt)

    async def arefresh(self, refresh_token: str, *, dpop_jkt: str | None = None) -> TokenPair:
        claims, sid, jti = self._verified_refresh(refresh_token)
        jkt = _refresh_binding(claims, _thumbprint(dpop_jkt))
        if await self.denylist.ais_revoked(session_entry(sid)):
            raise RevokedToken("the session was revoked")
        if not await self.denylist.arevoke(token_entry(jti), claims["exp"]):
            await self.denylist.arevoke(session_entry(sid), self._clock() + self.refresh_ttl)
            raise RefreshTokenReused()
        return self._successor(claims, sid, jkt)

    def revoke(self, token: str, *, session: bool = False) -> bool:
        """Revoke a token issued here until it expires; with ``session=True`` also every
        token of its session (logout). False when it had expired already."""
        claims = self._verified_any(token)
        return claims is not None and self.revoke_claims(claims, session=session)

    async def arevoke(self, token: str, *, session: bool = False) -> bool:
        claims = self._verified_any(token)
        return claims is not None and await self.arevoke_claims(claims, session=session)

    def revoke_claims(self, claims: Mapping[str, Any], *, session: bool = True) -> bool:
        """Revoke by *verified* claims, e.g. the middleware's ``jwt.claims`` in a logout
        view (the app never sees the raw token). With ``session``, the whole session."""
        entries = self._entries(claims, session)
        for entry, until in entries:
            self.denylist.revoke(entry, until)
        return bool(entries)

    async def arevoke_claims(self, claims: Mapping[str, Any], *, session: bool = True) -> bool:
        entries = self._entries(claims, session)
        for entry, until in entries:
            await self.denylist.arevoke(entry, until)
        return bool(entries)

    def _verified_refresh(self, token: str) -> tuple[dict[str, Any], str, str]:
        # Bound refresh tokens are checked against the proof's key by the caller.
        claims = dict(self._refresh_verifier._verify_shared(token).claims)
        sid = claims["sid"]
        if not isinstance(sid, str):
            raise InvalidClaims("sid is not a string")
        return claims, sid, claims["jti"]

    def _successor(self, claims: dict[str, Any], sid: str, jkt: str | None) -> TokenPair:
        extra = claims.get("ext")
        bound = confirmation(claims)
        return self._pair(
            claims["sub"],
            scopes_of(claims),
            extra if isinstance(extra, dict) else {},
            sid,
            jkt,
            None if bound is None else bound.get("jkt"),
        )

    def _verified_any(self, token: str) -> dict[str, Any] | None:
        """An access or refresh token issued here, or None when it has expired."""
        try:
            try:
                # Revoking needs no proof of possession: a DPoP-bound token is fine here.
                return dict(self._access_verifier._verify_shared(token).claims)
            except WrongTokenType:
                return self._refresh_verifier.verify(token)
        except ExpiredToken:
            return None

    def _entries(self, claims: Mapping[str, Any], session: bool) -> list[tuple[str, float]]:
        jti, sid, exp = claims.get("jti"), claims.get("sid"), claims.get("exp")
        entries: list[tuple[str, float]] = []
        if isinstance(jti, str) and isinstance(exp, int | float):
            entries.append((token_entry(jti), float(exp)))
        if session and isinstance(sid, str):
            entries.append((session_entry(sid), self._clock() + self.refresh_ttl))
        return entries


def _thumbprint(dpop_jkt: object) -> str | None:
    if dpop_jkt is None:
        return None
    if not isinstance(dpop_jkt, str) or not _THUMBPRINT.fullmatch(dpop_jkt):
        raise ValueError("dpop_jkt is a JWK SHA-256 thumbprint (43 base64url chars)")
    return dpop_jkt


def _refresh_binding(claims: dict[str, Any], proof_jkt: str | None) -> str | None:
    """The key the new access token is bound to: the proof's. A bound refresh token
    needs a proof by its own key (RFC 9449 section 5)."""
    bound = confirmation(claims)
    jkt = None if bound is None else bound.get("jkt")
    if bound is not None and jkt is None:
        raise UnsupportedConfirmation("a refresh token bound to a certificate")
    if jkt is not None:
        if proof_jkt is None:
            raise BindingMismatch("dpop_downgrade")
        if not hmac.compare_digest(jkt.encode(), proof_jkt.encode()):
            raise BindingMismatch("dpop_key_mismatch")
    return proof_jkt


def _segment(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    if isinstance(scopes, str):
        scopes = scopes.split()
    result = tuple(scopes)
    if not all(isinstance(s, str) and SCOPE_TOKEN.fullmatch(s) for s in result):
        raise ValueError("scopes are RFC 6749 scope tokens (no spaces, quotes or backslashes)")
    return result


def _extra(claims: Mapping[str, Any] | None) -> dict[str, Any]:
    extra = dict(claims or {})
    clash = RESERVED_CLAIMS.intersection(extra)
    if clash:
        raise ValueError(f"claims may not set {sorted(clash)}: the issuer sets them")
    return extra
