"""Errors raised while authenticating a request.

::

    Exception
    ├── ConfigurationError (ValueError)   unsafe or impossible setup; raised at start-up
    └── AuthError                         the request is not let through
        ├── MissingToken                  401, no token anywhere we look
        ├── InvalidRequest                400, malformed credentials or a token in the URL
        │   └── InsecureTransport         a token sent over plain http (require_https)
        ├── InvalidToken                  401, the token is not acceptable
        │   ├── MalformedToken            not a compact JWS carrying a JSON claims set
        │   │   └── TokenTooLarge         over max_token_bytes, refused before parsing
        │   ├── UnsupportedConfirmation   a cnf claim (DPoP, mTLS) that nothing here checks
        │   ├── BindingMismatch           sender-constrained token without its key or certificate
        │   ├── InvalidDPoPProof          the DPoP proof is refused (error invalid_dpop_proof)
        │   │   └── UseDPoPNonce          the proof lacks the server's current nonce
        │   ├── DisallowedAlgorithm       alg "none", not allowed, or not the key's
        │   ├── UnknownKey                no configured key matches the token
        │   ├── UntrustedIssuer           iss is not one of the configured issuers' keys
        │   ├── BadSignature              the signature does not verify
        │   ├── ExpiredToken              past exp (or max_age)
        │   ├── NotYetValid               before nbf, or iat in the future
        │   ├── InvalidClaims             iss, aud, required or ill-typed claims
        │   │   └── ClaimsRejected        a profile's or validator's check; its own reason
        │   ├── WrongTokenType            JOSE header typ not accepted
        │   ├── RevokedToken              its jti or session (sid) is on the denylist
        │   ├── RefreshTokenReused        a refresh token presented twice: session revoked
        │   └── VerificationFailed        an unexpected failure; fail closed
        ├── InsufficientUserAuthentication 401, RFC 9470 step-up: acr or auth_time too weak
        ├── InsufficientScope             403, valid token without a required scope
        ├── CSRFFailed                    403, cookie-borne token on a cross-site request
        └── TemporarilyUnavailable        503, infrastructure (never the client's fault)
            ├── KeysUnavailable           keys could not be obtained
            ├── DenylistUnavailable       the denylist could not be asked; fail closed
            └── ReplayCacheUnavailable    DPoP proofs cannot be checked for replay

Every ``AuthError`` knows its HTTP ``status``, its RFC 6750 ``error`` code (``None``
when the challenge carries none), a stable ``reason`` code for logs and metrics, and a
fixed public ``description``. Neither the message nor the description ever contains
text from the request: the description is what the client sees, the message (``str()``)
is for the operator's logs and may be more specific, yet it never holds a token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

# RFC 6750 section 3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
__all__ = [
    "AuthError",
    "BadSignature",
    "BindingMismatch",
    "CSRFFailed",
    "ClaimsRejected",
    "ConfigurationError",
    "DenylistUnavailable",
    "DisallowedAlgorithm",
    "ExpiredToken",
    "InsecureTransport",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "InvalidClaims",
    "InvalidDPoPProof",
    "InvalidRequest",
    "InvalidToken",
    "KeysUnavailable",
    "MalformedToken",
    "MissingToken",
    "NotYetValid",
    "RefreshTokenReused",
    "ReplayCacheUnavailable",
    "RevokedToken",
    "TemporarilyUnavailable",
    "TokenTooLarge",
    "UnknownKey",
    "UnsupportedConfirmation",
    "UntrustedIssuer",
    "UseDPoPNonce",
    "VerificationFailed",
    "WrongTokenType",
]

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class ConfigurationError(ValueError):
    """The middleware, verifier or a key is configured in an unsafe or impossible way."""


class AuthError(Exception):
    """Base class: the request is rejected with ``status``."""

    status: ClassVar[int] = 401
    error: ClassVar[str | None] = "invalid_token"
    reason: ClassVar[str] = "invalid_token"
    description: ClassVar[str] = "The access token is invalid"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.description)
        # Filled in by the verifier from the (unverified) token, for logs and metrics.
        self.kid: str | None = None
        self.issuer: str | None = None

    @property
    def body_error(self) -> str:
        """The ``error`` member of the JSON body: the challenge's code or our own name."""
        return self.error or "missing_token"


class MissingToken(AuthError):
    error = None
    reason = "missing"
    description = "Authentication is required"


class InvalidRequest(AuthError):
    status = 400
    error = "invalid_request"
    reason = "invalid_request"
    description = "The request carries malformed or misplaced credentials"


class InvalidToken(AuthError):
    pass


class InsecureTransport(InvalidRequest):
    """``require_https``: the token came over plain http. It crossed the network in
    clear, so it is refused unverified (and should be revoked by its owner)."""

    reason = "insecure_transport"
    description = "Credentials must be sent over HTTPS"


class MalformedToken(InvalidToken):
    reason = "malformed"
    description = "The access token is malformed"


class TokenTooLarge(MalformedToken):
    reason = "too_large"
    description = "The access token is too large"

    def __init__(self, message: str | None = "the token exceeds max_token_bytes") -> None:
        super().__init__(message)


class UnsupportedConfirmation(InvalidToken):
    """The token is sender-constrained (``cnf``: DPoP ``jkt``, mTLS ``x5t#S256``) and
    the proof cannot be checked here: refused rather than taken as a bearer token."""

    reason = "unsupported_confirmation"
    description = "The access token is bound to a key whose proof is not checked here"


class BindingMismatch(InvalidToken):
    """A sender-constrained token without what it is bound to: a DPoP-bound token sent
    as a bearer token, a DPoP proof signed by another key, an unbound token under the
    DPoP scheme, no client certificate or another one. ``reason`` says which."""

    _DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "dpop_downgrade": "A DPoP-bound access token must be sent with the DPoP scheme",
        "dpop_required": "Only DPoP-bound access tokens are accepted",
        "dpop_unbound": "The access token is not bound to a DPoP key",
        "dpop_key_mismatch": "The access token is bound to another DPoP key",
        "certificate_missing": "The access token is bound to a client certificate",
        "certificate_mismatch": "The access token is bound to another client certificate",
    }

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason  # type: ignore[misc]  # per refusal, not per class
        self.description = self._DESCRIPTIONS[reason]  # type: ignore[misc]
        super().__init__(message or self.description)


class InvalidDPoPProof(InvalidToken):
    """The ``DPoP`` proof (RFC 9449 section 4.3) is refused; ``reason`` is the check
    that failed (``dpop_missing``, ``dpop_malformed``, ``dpop_typ``, ``dpop_alg``,
    ``dpop_jwk``, ``dpop_signature``, ``dpop_htm``, ``dpop_htu``, ``dpop_iat``,
    ``dpop_ath``, ``dpop_jti``, ``dpop_replay``, ``dpop_too_large``)."""

    error = "invalid_dpop_proof"
    reason = "dpop_invalid"
    description = "The DPoP proof is invalid"

    def __init__(self, reason: str = "dpop_invalid", message: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason  # type: ignore[misc]  # per refusal, not per class


class UseDPoPNonce(InvalidDPoPProof):
    """RFC 9449 section 9: the proof must carry the server's current nonce, sent in
    the ``DPoP-Nonce`` header of this answer (``nonce``)."""

    error = "use_dpop_nonce"
    description = "A DPoP proof with the server's nonce is required"

    def __init__(self, nonce: str, message: str | None = None) -> None:
        super().__init__("dpop_nonce", message)
        self.nonce = nonce


class DisallowedAlgorithm(InvalidToken):
    reason = "disallowed_algorithm"
    description = "The access token is signed with an algorithm that is not accepted"


class UnknownKey(InvalidToken):
    reason = "unknown_key"
    description = "The access token is signed with an unknown key"


class UntrustedIssuer(InvalidToken):
    reason = "untrusted_issuer"
    description = "The access token comes from an issuer that is not trusted"


class BadSignature(InvalidToken):
    reason = "bad_signature"
    description = "The access token signature is invalid"


class ExpiredToken(InvalidToken):
    reason = "expired"
    description = "The access token expired"


class NotYetValid(InvalidToken):
    reason = "not_yet_valid"
    description = "The access token is not valid yet"


class InvalidClaims(InvalidToken):
    reason = "invalid_claims"
    description = "The access token claims are not accepted"


class ClaimsRejected(InvalidClaims):
    """A claim check refused the token: a provider profile's (``token_use``, tenant,
    repository...) or a ``Verifier(validators=...)`` callable's. ``reason`` is that
    check's own stable code, for logs and metrics."""

    reason = "claims_rejected"

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"the claims were refused ({reason})")
        self.reason = reason  # type: ignore[misc]  # per refusal, not per class


class WrongTokenType(InvalidToken):
    reason = "wrong_token_type"
    description = "The token is not an access token"


class RevokedToken(InvalidToken):
    reason = "revoked"
    description = "The access token has been revoked"


class RefreshTokenReused(InvalidToken):
    reason = "refresh_reused"
    description = "The refresh token was already used; the session is revoked"


class VerificationFailed(InvalidToken):
    reason = "internal_error"
    description = "The access token could not be verified"


class InsufficientScope(AuthError):
    status = 403
    error = "insufficient_scope"
    reason = "forbidden"
    description = "The access token lacks a required scope"

    def __init__(self, required: str | Iterable[str] = (), message: str | None = None) -> None:
        super().__init__(message)
        # A string is a space-separated scope list (RFC 6749 3.3), never its letters.
        scopes = tuple(required.split() if isinstance(required, str) else required)
        if not all(isinstance(s, str) and _SCOPE_TOKEN.fullmatch(s) for s in scopes):
            raise ConfigurationError("required scopes must be RFC 6750 scope tokens")
        self.required = scopes


class InsufficientUserAuthentication(AuthError):
    """RFC 9470: the token is valid, but the user's authentication is too weak (``acr``
    not among ``acr_values``) or too old (``auth_time`` before ``max_age``); the client
    should have the user authenticate again as the challenge asks."""

    error = "insufficient_user_authentication"
    reason = "step_up_required"
    description = "A stronger or more recent authentication is required"

    def __init__(
        self,
        acr_values: tuple[str, ...] = (),
        max_age: int | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.acr_values = acr_values
        self.max_age = max_age


class CSRFFailed(AuthError):
    status = 403
    error = None
    reason = "csrf_failed"
    description = "Cross-site request refused: cookie credentials need a same-origin request"

    @property
    def body_error(self) -> str:
        return "csrf_failed"


class TemporarilyUnavailable(AuthError):
    """A dependency (key server, denylist) is down: 503 with ``Retry-After``."""

    status = 503
    error = None
    reason = "unavailable"
    description = "Authentication is temporarily unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def body_error(self) -> str:
        return "temporarily_unavailable"


class KeysUnavailable(TemporarilyUnavailable):
    reason = "keys_unavailable"
    description = "Signing keys are temporarily unavailable"


class DenylistUnavailable(TemporarilyUnavailable):
    reason = "denylist_unavailable"
    description = "Token revocation cannot be checked right now"

    def __init__(self, message: str | None = None, *, retry_after: int = 5) -> None:
        super().__init__(message, retry_after=retry_after)


class ReplayCacheUnavailable(TemporarilyUnavailable):
    reason = "replay_cache_unavailable"
    description = "DPoP proofs cannot be checked right now"

    def __init__(self, message: str | None = None, *, retry_after: int = 5) -> None:
        super().__init__(message, retry_after=retry_after)
