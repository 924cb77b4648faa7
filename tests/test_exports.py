"""The public names: one sorted __all__, complete, and each name importable."""

from __future__ import annotations

import jwt_middleware
from jwt_middleware import asgi, wsgi

CONTRACT = {
    "Verifier",
    "StaticKey",
    "KeySet",
    "BearerHeader",
    "Header",
    "Cookie",
    "AuthError",
    "MissingToken",
    "InvalidRequest",
    "InvalidToken",
    "InsufficientScope",
    "KeysUnavailable",
    "ConfigurationError",
    "RemoteJWKS",
    "IssuerKeys",
    "TokenIssuer",
    "TokenPair",
    "MemoryDenylist",
    "RedisDenylist",
    "TokenTooLarge",
    "UnsupportedConfirmation",
}


def test_all_is_sorted_and_complete() -> None:
    exported = jwt_middleware.__all__
    assert exported == sorted(exported)
    public = {name for name in dir(jwt_middleware) if not name.startswith("_")}
    modules = {
        name for name in public if type(getattr(jwt_middleware, name)) is type(jwt_middleware)
    }
    assert public - modules - {"annotations"} == set(exported)
    assert set(exported) >= CONTRACT


def test_adapters() -> None:
    assert wsgi.__all__ == ["JWTMiddleware"] and asgi.__all__ == ["JWTMiddleware"]
    assert wsgi.JWTMiddleware is not asgi.JWTMiddleware
