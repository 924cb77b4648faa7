"""JWT bearer-token middleware for WSGI and ASGI, verified with python-jose.

Build a ``Verifier`` with your keys, then wrap your app with
``jwt_middleware.wsgi.JWTMiddleware`` or ``jwt_middleware.asgi.JWTMiddleware``.
"""

from __future__ import annotations

import typing as _typing

from ._claim_checks import ClaimValidator
from ._claims import IssuerTemplate
from ._cookies import SetCookie, TokenCookies
from ._dpop import DPoP, DPoPNonces
from ._dpop_client import DPoPKey
from ._identity import AnonymousUser, TokenCredentials, TokenUser
from ._key_resolver import KeyResolver
from ._keys import SUPPORTED_ALGORITHMS, KeySet, StaticKey
from ._mtls import ClientCertificates
from ._origin import OriginPolicy, RequestOrigin, TrustedProxies
from ._policy import (
    CLAIMS_KEY,
    DPOP_KEY,
    HEADER_KEY,
    ROLES_KEY,
    SCOPES_KEY,
    Allowed,
    AuthEvent,
    AuthPolicy,
    Rejected,
)
from ._replay import MemoryReplayCache, RedisReplayCache, ReplayCache
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
    BindingMismatch,
    ClaimsRejected,
    ConfigurationError,
    CSRFFailed,
    DenylistUnavailable,
    DisallowedAlgorithm,
    ExpiredToken,
    InsecureTransport,
    InsufficientScope,
    InsufficientUserAuthentication,
    InvalidClaims,
    InvalidDPoPProof,
    InvalidRequest,
    InvalidToken,
    KeysUnavailable,
    MalformedToken,
    MissingToken,
    NotYetValid,
    RefreshTokenReused,
    ReplayCacheUnavailable,
    RevokedToken,
    TemporarilyUnavailable,
    TokenTooLarge,
    UnknownKey,
    UnsupportedConfirmation,
    UntrustedIssuer,
    UseDPoPNonce,
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
    "BindingMismatch",
    "CLAIMS_KEY",
    "CSRFFailed",
    "ClaimValidator",
    "ClaimsRejected",
    "ClientCertificates",
    "ConfigurationError",
    "Cookie",
    "DEFAULT_TOKEN_TYPES",
    "DPOP_KEY",
    "DPoP",
    "DPoPKey",
    "DPoPNonces",
    "Denylist",
    "DenylistUnavailable",
    "DisallowedAlgorithm",
    "ErrorResponse",
    "ExpiredToken",
    "HEADER_KEY",
    "Header",
    "InsecureTransport",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "InvalidClaims",
    "InvalidDPoPProof",
    "InvalidRequest",
    "InvalidToken",
    "IssuerKeys",
    "IssuerTemplate",
    "KeyResolver",
    "KeySet",
    "KeysUnavailable",
    "MalformedToken",
    "MemoryDenylist",
    "MemoryReplayCache",
    "MissingToken",
    "NotYetValid",
    "OriginPolicy",
    "ProtectedResource",
    "ROLES_KEY",
    "RedisDenylist",
    "RedisReplayCache",
    "RefreshTokenReused",
    "Rejected",
    "RemoteJWKS",
    "ReplayCache",
    "ReplayCacheUnavailable",
    "RequestOrigin",
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
    "TrustedProxies",
    "UnknownKey",
    "UnsupportedConfirmation",
    "UntrustedIssuer",
    "UseDPoPNonce",
    "VerificationFailed",
    "VerifiedToken",
    "Verifier",
    "VerifierOptions",
    "WrongTokenType",
]
