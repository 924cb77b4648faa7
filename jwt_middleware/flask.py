"""Flask helpers: who is calling, per-view protection, and the token cookies.

Two ways to protect a Flask app:

- every view: ``app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=verifier)``; the
  helpers read what the middleware left in the environ;
- some views only: ``JWT(app, verifier)`` once, then ``@jwt_required()`` on the views
  to protect, which verifies the token itself.

Inside a protected view, ``get_claims()`` and ``get_identity()`` always have a value.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, abort, after_this_request, current_app, request

from ._cookies import TokenCookies
from ._issuing import TokenPair
from ._policy import (
    CLAIMS_KEY,
    DPOP_KEY,
    HEADER_KEY,
    ROLES_KEY,
    SCOPES_KEY,
    AuthPolicy,
    Rejected,
)
from ._responses import SCOPE_TOKEN, render
from ._sources import BearerHeader, TokenSource
from ._verifier import Verifier
from .errors import AuthError, ConfigurationError, InsufficientScope, MissingToken
from .wsgi import WSGIRequestView

__all__ = [
    "JWT",
    "clear_token_cookies",
    "current_claims",
    "current_dpop_jkt",
    "current_roles",
    "current_scopes",
    "get_claims",
    "get_identity",
    "jwt_required",
    "require_scopes",
    "set_token_cookies",
]

P = ParamSpec("P")
R = TypeVar("R")
EXTENSION = "jwt_middleware"
logger = logging.getLogger("jwt_middleware")


class JWT:
    """The Flask extension for ``@jwt_required()`` without the middleware: the
    ``Verifier``, where tokens come from (the bearer header by default; add
    ``cookies.source`` for the cookie flavour) and the cookie settings the cookie
    helpers use. ``JWT(app, verifier)`` or ``jwt = JWT(verifier=verifier);
    jwt.init_app(app)``."""

    def __init__(
        self,
        app: Flask | None = None,
        verifier: Verifier | None = None,
        *,
        sources: Iterable[TokenSource] = (BearerHeader(),),
        cookies: TokenCookies | None = None,
        realm: str | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise ConfigurationError("JWT needs a jwt_middleware.Verifier")
        if "resource" in options:
            # Its challenges would point to a document nothing here serves.
            raise ConfigurationError(
                "resource= needs the middleware, which serves its metadata: "
                "app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=..., resource=...)"
            )
        self.verifier = verifier
        self.cookies = cookies or TokenCookies()
        self.realm = realm
        self._options: dict[str, Any] = {
            "sources": tuple(sources),
            "realm": realm,
            **self.cookies.middleware_options,
            **options,
        }
        self._policies: dict[tuple[bool, tuple[str, ...]], AuthPolicy] = {}
        self.policy(optional=False, scopes=())  # refuse bad options now, not per request
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self

    def policy(self, *, optional: bool, scopes: tuple[str, ...]) -> AuthPolicy:
        key = (optional, scopes)
        policy = self._policies.get(key)
        if policy is None:
            policy = AuthPolicy(
                self.verifier,
                optional=optional,
                required_scopes=scopes,
                warm_start=False,
                **self._options,
            )
            self._policies[key] = policy
        return policy


def current_claims() -> dict[str, Any] | None:
    """The verified claims of this request, or None (public path, anonymous caller)."""
    claims: dict[str, Any] | None = request.environ.get(CLAIMS_KEY)
    return claims


def current_scopes() -> tuple[str, ...]:
    scopes: tuple[str, ...] = request.environ.get(SCOPES_KEY, ())
    return scopes


def current_roles() -> tuple[str, ...]:
    """The token's roles (where the verifier's ``roles_claims`` say they live), or ()."""
    roles: tuple[str, ...] = request.environ.get(ROLES_KEY, ())
    return roles


def get_claims() -> dict[str, Any]:
    """The verified claims, in a view protected by the middleware or ``@jwt_required``;
    a request without them is answered 401 (RFC 6750) rather than reaching the view's
    next line."""
    claims = current_claims()
    if claims is None:
        abort(_refusal(MissingToken(), _realm()))
    return claims


def get_identity() -> str:
    """The token's subject (``sub``), as ``get_claims``; '' when the token has none."""
    sub = get_claims().get("sub")
    return sub if isinstance(sub, str) else ""


def jwt_required(
    *, optional: bool = False, scopes: Iterable[str] = ()
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Protect a view: a valid token (holding ``scopes``) or an RFC 6750 refusal.

    Behind the middleware it checks what the middleware verified; without it, it
    verifies the token itself with the app's ``JWT`` extension. ``optional=True``
    lets a request without a token through (``current_claims()`` is then None; a bad
    token is still refused)."""
    if isinstance(scopes, str):
        scopes = scopes.split()
    needed = tuple(scopes)
    if not all(isinstance(s, str) and SCOPE_TOKEN.fullmatch(s) for s in needed):
        raise ConfigurationError("jwt_required takes RFC 6750 scope tokens")
    if optional and needed:
        raise ConfigurationError("optional=True admits anonymous callers: scopes cannot hold")

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            refusal = _check(optional, needed)
            return refusal if refusal is not None else view(*args, **kwargs)

        return guarded

    return decorate


def require_scopes(
    *scopes: str, realm: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Refuse the view unless the token has every scope: 401 without a token, 403
    ``insufficient_scope`` (RFC 6750) without the scopes (``jwt_required(scopes=...)``
    with the challenge's ``realm``)."""
    if not scopes or not all(isinstance(s, str) and SCOPE_TOKEN.fullmatch(s) for s in scopes):
        raise ConfigurationError("require_scopes takes one or more RFC 6750 scope tokens")

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            refusal = _check(False, scopes, realm)
            return refusal if refusal is not None else view(*args, **kwargs)

        return guarded

    return decorate


def set_token_cookies(response: Response, pair: TokenPair, *, secure: bool | None = None) -> None:
    """Hand the browser ``pair`` in the cookies the middleware's ``Cookie`` source and
    CSRF check read (names from the app's ``JWT`` extension, else the defaults).
    ``secure`` defaults to whether this request came over https."""
    cookies = _cookies()
    for cookie in cookies.set(pair, secure=request.is_secure if secure is None else secure):
        cookie.apply_to(response)


def clear_token_cookies(response: Response, *, secure: bool | None = None) -> None:
    """Make the browser forget the token and CSRF cookies (logout)."""
    for cookie in _cookies().clear(secure=request.is_secure if secure is None else secure):
        cookie.apply_to(response)


def _check(optional: bool, needed: tuple[str, ...], realm: str | None = None) -> Response | None:
    environ = request.environ
    if CLAIMS_KEY not in environ:  # no middleware in front: verify here
        extension = current_app.extensions.get(EXTENSION)
        if not isinstance(extension, JWT):
            logger.error("jwt_required found neither JWTMiddleware nor JWT(app); refusing")
            return _refusal(MissingToken(), realm)
        outcome = extension.policy(optional=optional, scopes=needed).authenticate(
            WSGIRequestView(environ)
        )
        if isinstance(outcome, Rejected):
            rendered = outcome.response  # werkzeug's headers keep both challenges (DPoP)
            return Response(rendered.body, status=rendered.status, headers=list(rendered.headers))
        token = outcome.token
        environ[CLAIMS_KEY] = None if token is None else dict(token.claims)
        environ[HEADER_KEY] = None if token is None else dict(token.header)
        environ[SCOPES_KEY] = outcome.scopes
        environ[ROLES_KEY] = () if token is None else token.roles
        if outcome.dpop_jkt is not None:
            environ[DPOP_KEY] = outcome.dpop_jkt
        if outcome.headers:
            _add_to_response(outcome.headers)
        if token is not None and isinstance(token.claims.get("sub"), str):
            environ["REMOTE_USER"] = token.claims["sub"]
        return None
    realm = realm if realm is not None else _realm()
    if environ[CLAIMS_KEY] is None:
        return None if optional else _refusal(MissingToken(), realm)
    granted = environ.get(SCOPES_KEY, ())
    if any(scope not in granted for scope in needed):
        return _refusal(InsufficientScope(needed), realm)
    return None


def _add_to_response(headers: tuple[tuple[str, str], ...]) -> None:
    """Headers for this request's response (DPoP-Nonce rotation)."""

    @after_this_request
    def add(response: Response) -> Response:
        for name, value in headers:
            response.headers[name] = value
        return response


def current_dpop_jkt() -> str | None:
    """The DPoP proof key's thumbprint for a DPoP request (None for bearer tokens)."""
    jkt: str | None = request.environ.get(DPOP_KEY)
    return jkt


def _realm() -> str | None:
    extension = current_app.extensions.get(EXTENSION)
    return extension.realm if isinstance(extension, JWT) else None


def _cookies() -> TokenCookies:
    extension = current_app.extensions.get(EXTENSION)
    return extension.cookies if isinstance(extension, JWT) else TokenCookies()


def _refusal(error: AuthError, realm: str | None) -> Response:
    rendered = render(error, realm)
    return Response(rendered.body, status=rendered.status, headers=list(rendered.headers))
