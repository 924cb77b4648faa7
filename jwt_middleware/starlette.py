"""Starlette helpers over the ASGI middleware: per-route scope checks that answer as
RFC 6750 says (Starlette's own ``@requires`` answers a plain-text 403 without a
challenge).

    @requires_scopes("orders:write")
    async def create(request): ...

Needs ``jwt_middleware.asgi.JWTMiddleware`` in front of the app, which verifies the
token and puts its claims and scopes in the scope.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, ParamSpec

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.websockets import WebSocket

from ._policy import CLAIMS_KEY
from ._responses import SCOPE_TOKEN, ErrorResponse, render
from .asgi import _refuse_websocket
from .errors import AuthError, ConfigurationError, InsufficientScope, MissingToken

__all__ = ["requires_scopes"]

P = ParamSpec("P")
logger = logging.getLogger("jwt_middleware")


def requires_scopes(
    *scopes: str, realm: str | None = None
) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    """Refuse the endpoint unless the token holds every scope: 401 without a token
    (anonymous under ``optional=True``, or a public rule), 403 ``insufficient_scope``
    with the RFC 6750 challenge and JSON body without the scopes. Works on HTTP and
    websocket endpoints, ``async def`` or plain ``def``; a refused websocket handshake
    gets the HTTP answer where the server can send one, else a close with code 1008."""
    if not scopes or not all(isinstance(s, str) and SCOPE_TOKEN.fullmatch(s) for s in scopes):
        raise ConfigurationError("requires_scopes takes one or more RFC 6750 scope tokens")

    def decorate(endpoint: Callable[P, Any]) -> Callable[P, Any]:
        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
                connection = _connection(args, kwargs)
                error = _refusal(connection, scopes)
                if error is None:
                    return await endpoint(*args, **kwargs)
                rendered = render(error, realm)
                if isinstance(connection, WebSocket):
                    await _refuse_websocket(
                        connection.scope, connection.receive, connection.send, rendered
                    )
                    return None
                return _response(rendered)

            return guarded

        @functools.wraps(endpoint)
        def guarded_sync(*args: P.args, **kwargs: P.kwargs) -> Any:
            connection = _connection(args, kwargs)
            error = _refusal(connection, scopes)
            if error is None:
                return endpoint(*args, **kwargs)
            return _response(render(error, realm))

        return guarded_sync

    return decorate


def _connection(args: tuple[Any, ...], kwargs: dict[str, Any]) -> HTTPConnection:
    for value in (*args, *kwargs.values()):
        if isinstance(value, HTTPConnection):
            return value
    raise ConfigurationError("requires_scopes guards endpoints taking a request or websocket")


def _refusal(connection: HTTPConnection, scopes: tuple[str, ...]) -> AuthError | None:
    scope = connection.scope
    if CLAIMS_KEY not in scope:
        logger.error("requires_scopes found no JWTMiddleware in front of the app; refusing")
        return MissingToken()
    if scope[CLAIMS_KEY] is None:
        return MissingToken()
    auth = scope.get("auth")
    granted = getattr(auth, "scopes", ())
    if any(needed not in granted for needed in scopes):
        return InsufficientScope(scopes)
    return None


def _response(rendered: ErrorResponse) -> Response:
    headers = {name: value for name, value in rendered.headers if name != "Content-Length"}
    return Response(rendered.body, status_code=rendered.status, headers=headers)
