"""Flask helpers over the WSGI middleware: who is calling, and per-view scope checks.

``app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=verifier)`` does the
authentication; these read what it left in the environ.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Response, request

from ._policy import CLAIMS_KEY, SCOPES_KEY
from ._responses import SCOPE_TOKEN, render
from .errors import AuthError, ConfigurationError, InsufficientScope, MissingToken

__all__ = ["current_claims", "current_scopes", "require_scopes"]

P = ParamSpec("P")
R = TypeVar("R")


def current_claims() -> dict[str, Any] | None:
    """The verified claims of this request, or None (exempt path, anonymous caller)."""
    claims: dict[str, Any] | None = request.environ.get(CLAIMS_KEY)
    return claims


def current_scopes() -> tuple[str, ...]:
    scopes: tuple[str, ...] = request.environ.get(SCOPES_KEY, ())
    return scopes


def require_scopes(
    *scopes: str, realm: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Refuse the view unless the token has every scope: 401 without a token, 403
    ``insufficient_scope`` (RFC 6750) without the scopes."""
    if not scopes or not all(SCOPE_TOKEN.fullmatch(s) for s in scopes):
        raise ConfigurationError("require_scopes takes one or more RFC 6750 scope tokens")

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if current_claims() is None:
                return _refusal(MissingToken(), realm)
            granted = current_scopes()
            if any(scope not in granted for scope in scopes):
                return _refusal(InsufficientScope(scopes), realm)
            return view(*args, **kwargs)

        return guarded

    return decorate


def _refusal(error: AuthError, realm: str | None) -> Response:
    rendered = render(error, realm)
    return Response(rendered.body, status=rendered.status, headers=list(rendered.headers))
