"""JWT bearer-token middleware for WSGI and ASGI, verified with python-jose.

Build a :class:`Verifier` with your keys, then wrap your app with
:class:`jwt_middleware.wsgi.JWTMiddleware` or :class:`jwt_middleware.asgi.JWTMiddleware`.
"""

from __future__ import annotations

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("jwt-middleware")  # the one place: pyproject.toml
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree, not installed
    __version__ = "0+unknown"

from ._identity import AnonymousUser, TokenCredentials, TokenUser
from ._issuing import TokenIssuer, TokenPair
from ._key_resolver import KeyResolver
from ._keys import SUPPORTED_ALGORITHMS, KeySet, StaticKey
from ._policy import (
    CLAIMS_KEY,
    HEADER_KEY,
    SCOPES_KEY,
    Allowed,
    AuthEvent,
    AuthPolicy,
    Rejected,
)
from ._remote_jwks import RemoteJWKS
from ._resolvers import IssuerKeys
from ._responses import ErrorResponse
from ._revocation import Denylist, MemoryDenylist, RedisDenylist
from ._sources import BearerHeader, Cookie, Header, TokenSource
from ._verifier import DEFAULT_TOKEN_TYPES, VerifiedToken, Verifier
from .errors import (
    AuthError,
    BadSignature,
    ConfigurationError,
    CSRFFailed,
    DenylistUnavailable,
    DisallowedAlgorithm,
    ExpiredToken,
    InsufficientScope,
    InvalidClaims,
    InvalidRequest,
    InvalidToken,
    KeysUnavailable,
    MalformedToken,
    MissingToken,
    NotYetValid,
    RefreshTokenReused,
    RevokedToken,
    TemporarilyUnavailable,
    TokenTooLarge,
    UnknownKey,
    UnsupportedConfirmation,
    UntrustedIssuer,
    VerificationFailed,
    WrongTokenType,
)

__all__ = [
    "Allowed",
    "AnonymousUser",
    "AuthError",
    "AuthEvent",
    "AuthPolicy",
    "BadSignature",
    "BearerHeader",
    "CLAIMS_KEY",
    "CSRFFailed",
    "ConfigurationError",
    "Cookie",
    "DEFAULT_TOKEN_TYPES",
    "Denylist",
    "DenylistUnavailable",
    "DisallowedAlgorithm",
    "ErrorResponse",
    "ExpiredToken",
    "HEADER_KEY",
    "Header",
    "InsufficientScope",
    "InvalidClaims",
    "InvalidRequest",
    "InvalidToken",
    "IssuerKeys",
    "KeyResolver",
    "KeySet",
    "KeysUnavailable",
    "MalformedToken",
    "MemoryDenylist",
    "MissingToken",
    "NotYetValid",
    "RedisDenylist",
    "RefreshTokenReused",
    "Rejected",
    "RemoteJWKS",
    "RevokedToken",
    "SCOPES_KEY",
    "SUPPORTED_ALGORITHMS",
    "StaticKey",
    "TemporarilyUnavailable",
    "TokenCredentials",
    "TokenIssuer",
    "TokenPair",
    "TokenSource",
    "TokenTooLarge",
    "TokenUser",
    "UnknownKey",
    "UnsupportedConfirmation",
    "UntrustedIssuer",
    "VerificationFailed",
    "VerifiedToken",
    "Verifier",
    "WrongTokenType",
]
