"""FastAPI: a security scheme that hands routes the verified claims.

    auth = JWTBearer(verifier)

    @app.get("/me")
    async def me(claims: dict = Depends(auth)): ...

    @app.post("/orders")
    async def create(claims: dict = Security(auth, scopes=["orders:write"])): ...

``JWTBearer`` is a ``fastapi.security`` scheme, so OpenAPI declares it and ``/docs`` has
an Authorize button. Behind ``jwt_middleware.asgi.JWTMiddleware`` it reads what the
middleware verified (no second verification); without the middleware it verifies the
bearer token itself with the ``Verifier`` it was given. ``add_exception_handlers(app)``
makes refusals RFC 6750 JSON bodies instead of FastAPI's ``{"detail": ...}`` (their
status and ``WWW-Authenticate`` challenge are right either way).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, WebSocketException
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from ._dpop import DPoP
from ._policy import CLAIMS_KEY, AuthPolicy, Rejected
from ._responses import ErrorResponse, joined_headers, render
from ._rules import Rule
from ._sources import BearerHeader
from ._verifier import Verifier
from .asgi import POLICY_VIOLATION, ASGIRequestView, attach, fast_token
from .errors import AuthError, ConfigurationError, InsufficientScope, MissingToken

__all__ = ["AuthHTTPException", "JWTBearer", "add_exception_handlers", "docs_rules"]

logger = logging.getLogger("jwt_middleware")


class AuthHTTPException(HTTPException):
    """A refusal from ``JWTBearer``: an ``HTTPException`` with the RFC 6750 status and
    challenge, carrying the ``AuthError`` for the handler that renders its body."""

    def __init__(
        self, error: AuthError, realm: str | None = None, rendered: ErrorResponse | None = None
    ) -> None:
        rendered = rendered if rendered is not None else render(error, realm)
        self.error = error
        self.rendered = rendered
        headers = _header_dict(rendered, ("WWW-Authenticate", "Cache-Control", "DPoP-Nonce"))
        super().__init__(rendered.status, error.description, headers=headers)


def _header_dict(rendered: ErrorResponse, names: tuple[str, ...] | None = None) -> dict[str, str]:
    headers = joined_headers(rendered.headers)
    return headers if names is None else {k: v for k, v in headers.items() if k in names}


class JWTBearer(SecurityBase):
    """A FastAPI security scheme (HTTP bearer, JWT) whose dependency value is the
    verified claims (a dict of your own).

    ``verifier``: used when no ``JWTMiddleware`` ran for the request (dependency-only
    mode); with the middleware in front it may be omitted. ``auto_error=False``: a
    request without a token gets ``None`` instead of a 401 (a bad token is still
    refused). ``Security(auth, scopes=[...])`` requires scopes: 403
    ``insufficient_scope`` naming them. ``dpop``: a ``DPoP`` to accept DPoP-bound
    tokens in dependency-only mode (behind the middleware, its ``dpop=`` decides).
    """

    def __init__(
        self,
        verifier: Verifier | None = None,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        realm: str | None = None,
        dpop: DPoP | None = None,
    ) -> None:
        if verifier is not None and not isinstance(verifier, Verifier):
            raise ConfigurationError("JWTBearer takes a jwt_middleware.Verifier")
        self.verifier = verifier
        self.model = HTTPBearerModel(bearerFormat="JWT", description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error
        self._realm = realm
        # Dependency-only mode decides as the middleware would, with its code: the bearer
        # header, tokens in the query string refused, the fast path for tokens seen before.
        self._policy = (
            None
            if verifier is None
            else AuthPolicy(
                verifier,
                sources=(BearerHeader(),),
                optional=not auto_error,
                realm=realm,
                warm_start=False,
                dpop=dpop,
            )
        )
        header = self._policy._fast_header if self._policy is not None else None
        self._fast_name = header.encode("latin-1") if header else None

    async def __call__(
        self, connection: HTTPConnection, security_scopes: SecurityScopes
    ) -> dict[str, Any] | None:
        try:
            found = await self._claims_and_scopes(connection)
            if found is None:
                if not self.auto_error:
                    return None
                raise MissingToken()
            claims, scopes = found
            needed = security_scopes.scopes
            if any(scope not in scopes for scope in needed):
                raise InsufficientScope(needed)
            return claims
        except AuthError as error:
            raise self._refusal(connection, error) from None

    async def _claims_and_scopes(
        self, connection: HTTPConnection
    ) -> tuple[dict[str, Any], tuple[str, ...]] | None:
        scope = connection.scope
        if CLAIMS_KEY in scope:  # the middleware verified this request
            claims = scope[CLAIMS_KEY]
            if claims is None:
                return None  # a public route or an anonymous caller
            return claims, tuple(getattr(scope.get("auth"), "scopes", ()))
        policy = self._policy
        if policy is None:
            logger.error("JWTBearer has no verifier and no JWTMiddleware ran; refusing")
            raise MissingToken()  # a configuration mistake: closed, even with auto_error=False
        token = (
            fast_token(policy, self._fast_name, False, scope) if scope["type"] == "http" else None
        )
        if token is None:
            outcome = await policy.aauthenticate(ASGIRequestView(scope))
            if isinstance(outcome, Rejected):
                raise outcome.error
            token = outcome.token
            if token is None:
                return None  # no token, and auto_error=False
            # As the middleware would have: request.auth (scopes, roles), request.user,
            # the claims (and the DPoP key), for the endpoint and any later dependency.
            return attach(scope, token, outcome.dpop_jkt), token.scopes
        return attach(scope, token), token.scopes

    def _refusal(self, connection: HTTPConnection, error: AuthError) -> Exception:
        if isinstance(connection, WebSocket):
            # Before the handshake is accepted, a close refuses it (RFC 6455 7.4.1).
            return WebSocketException(POLICY_VIOLATION, error.body_error)
        if self._policy is not None:  # the policy's challenges: DPoP's too, when enabled
            authorization = connection.headers.get("authorization", "")
            used_dpop = authorization[:5].lower() == "dpop "
            rendered = self._policy._challenges.render(error, used_dpop)
            return AuthHTTPException(error, self._realm, rendered)
        return AuthHTTPException(error, self._realm)


async def _render(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthHTTPException)  # noqa: S101 (registered for this type only)
    rendered = exc.rendered
    headers = _header_dict(rendered)
    headers.pop("Content-Length", None)
    return Response(rendered.body, status_code=rendered.status, headers=headers)


def add_exception_handlers(app: FastAPI) -> None:
    """Render ``JWTBearer``'s refusals as RFC 6750 says: a JSON body with ``error`` and
    ``error_description``, besides the status and challenge."""
    app.add_exception_handler(AuthHTTPException, _render)


def docs_rules(app: FastAPI) -> list[Rule]:
    """Public rules for the app's OpenAPI schema and documentation pages (whatever
    their URLs), for ``JWTMiddleware(..., rules=[*docs_rules(app), ...])``."""
    urls = (app.openapi_url, app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url)
    return [Rule(url, methods=["GET"], public=True) for url in urls if url]
