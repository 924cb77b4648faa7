"""JWT bearer-token middleware for WSGI and ASGI, verified with python-jose.

Build a ``Verifier`` with your keys, then wrap your app with
``jwt_middleware.wsgi.JWTMiddleware`` or ``jwt_middleware.asgi.JWTMiddleware``.
"""

from __future__ import annotations

import typing as _typing

from ._claim_checks import ClaimValidator
from ._claims import IssuerTemplate
from ._cookies import SetCookie, TokenCookies
from ._identity import AnonymousUser, TokenCredentials, TokenUser
from ._key_resolver import KeyResolver
from ._keys import SUPPORTED_ALGORITHMS, KeySet, StaticKey
from ._policy import (
    CLAIMS_KEY,
    HEADER_KEY,
    ROLES_KEY,
    SCOPES_KEY,
    Allowed,
    AuthEvent,
    AuthPolicy,
    Rejected,
)
from ._resolvers import IssuerKeys
from ._resource import ProtectedResource
from ._responses import ErrorResponse
from ._revocation import Denylist, MemoryDenylist, RedisDenylist
from ._rules import Rule
from ._sources import BearerHeader, Cookie, Header, TokenSource
from ._verifier import DEFAULT_TOKEN_TYPES, VerifiedToken, Verifier, VerifierOptions
from ._version import __version__ as __version__
from .errors import (
    AuthError,
    BadSignature,
    ClaimsRejected,
    ConfigurationError,
    CSRFFailed,
    DenylistUnavailable,
    DisallowedAlgorithm,
    ExpiredToken,
    InsufficientScope,
    InsufficientUserAuthentication,
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

if _typing.TYPE_CHECKING:
    from ._issuing import TokenIssuer, TokenPair
    from ._remote_jwks import RemoteJWKS

# Loaded on first use, so `import jwt_middleware` does not pay for what a service may
# never use: minting tokens, or fetching keys (and with it httpx).
_LAZY = {"RemoteJWKS": "_remote_jwks", "TokenIssuer": "_issuing", "TokenPair": "_issuing"}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "ClaimValidator",
    "ClaimsRejected",
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
    "InsufficientUserAuthentication",
    "InvalidClaims",
    "InvalidRequest",
    "InvalidToken",
    "IssuerKeys",
    "IssuerTemplate",
    "KeyResolver",
    "KeySet",
    "KeysUnavailable",
    "MalformedToken",
    "MemoryDenylist",
    "MissingToken",
    "NotYetValid",
    "ProtectedResource",
    "ROLES_KEY",
    "RedisDenylist",
    "RefreshTokenReused",
    "Rejected",
    "RemoteJWKS",
    "RevokedToken",
    "Rule",
    "SCOPES_KEY",
    "SUPPORTED_ALGORITHMS",
    "SetCookie",
    "StaticKey",
    "TemporarilyUnavailable",
    "TokenCookies",
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
    "VerifierOptions",
    "WrongTokenType",
]
