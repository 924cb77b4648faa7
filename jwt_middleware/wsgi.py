"""WSGI adapter: ``app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=verifier)``.

On success the app finds ``environ["jwt.claims"]``, ``environ["jwt.header"]``,
``environ["jwt.scopes"]`` and, when the token has a string ``sub``,
``environ["REMOTE_USER"]``. Refused requests never reach the app.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from functools import lru_cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Unpack

from ._policy import (
    CLAIMS_KEY,
    DPOP_KEY,
    HEADER_KEY,
    ROLES_KEY,
    SCOPES_KEY,
    AuthPolicy,
    MiddlewareOptions,
    Rejected,
)
from ._request import RequestView, encoded_path
from ._verifier import Verifier
from .errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["JWTMiddleware"]


class WSGIRequestView(RequestView):
    __slots__ = ("_environ",)

    def __init__(self, environ: WSGIEnvironment) -> None:
        path = _route_path(environ)
        super().__init__(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=path,
            route_path=path,  # PATH_INFO: what the app routes on, mounted too
            scheme=environ.get("wsgi.url_scheme", "http"),
            query_string=environ.get("QUERY_STRING", ""),
            is_websocket=False,
            client=environ.get("REMOTE_ADDR") or None,
        )
        self._environ = environ

    def header_values(self, name: str) -> list[str]:
        value = self._environ.get(_environ_key(name))
        return [value] if isinstance(value, str) else []

    def target_path(self) -> str:
        return wsgi_target_path(self._environ)

    def server_certificate(self) -> str | None:
        # Set by the server (werkzeug, mod_wsgi): a client's header would be HTTP_*.
        value = self._environ.get("SSL_CLIENT_CERT")
        return value if isinstance(value, str) and value else None

    @property
    def host(self) -> str:
        host = self._environ.get("HTTP_HOST")
        if host:
            return str(host)
        return f"{self._environ.get('SERVER_NAME', '')}:{self._environ.get('SERVER_PORT', '')}"


def _route_path(environ: WSGIEnvironment) -> str:
    """PATH_INFO, what the app routes on (mounted too), as the router reads it."""
    path: str = environ.get("PATH_INFO") or "/"
    if not path.isascii():
        # PEP 3333 hands bytes over as latin-1; routers match the UTF-8 text.
        with contextlib.suppress(UnicodeEncodeError):
            path = path.encode("latin-1").decode("utf-8", "replace")
    return path


def wsgi_target_path(environ: WSGIEnvironment) -> str:
    """SCRIPT_NAME + PATH_INFO as sent: the server's ``REQUEST_URI``/``RAW_URI``
    (gunicorn, werkzeug, uWSGI) when it agrees with them, else re-encoded."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    raw_path = raw.partition("?")[0] if isinstance(raw, str) else None
    decoded = environ.get("SCRIPT_NAME", "") + (environ.get("PATH_INFO") or "/")
    if not decoded.isascii():  # PEP 3333: bytes as latin-1; the client sent UTF-8
        with contextlib.suppress(UnicodeError):
            decoded = decoded.encode("latin-1").decode("utf-8")
    return encoded_path(raw_path, decoded)


@lru_cache(maxsize=64)
def _environ_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


class JWTMiddleware:
    """Wraps a WSGI app; keyword arguments as ``AuthPolicy``."""

    def __init__(
        self, app: WSGIApplication, *, verifier: Verifier, **options: Unpack[MiddlewareOptions]
    ) -> None:
        self.app = app
        self.policy = AuthPolicy(verifier, **options)
        if not verifier.supports_sync:
            raise ConfigurationError(
                "the verifier's key resolver is async-only; use jwt_middleware.asgi, "
                "or give a synchronous resolver"
            )
        header = self.policy._fast_header
        self._fast_key = _environ_key(header) if header else None
        self._fast_routes = self.policy._rules is not None  # the path only when rules need it
        self._fast_https = self.policy._fast_https  # the scheme only when it decides
        self._metadata_paths = self.policy.metadata_paths
        if self.policy.warm_start:
            # Fetch remote keys now, off the server's start-up path; requests that come
            # first simply join the fetch in flight.
            threading.Thread(
                target=verifier.prefetch, name="jwt-middleware-warm-start", daemon=True
            ).start()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        paths = self._metadata_paths
        if paths is not None:
            full_path = environ.get("SCRIPT_NAME", "") + (environ.get("PATH_INFO") or "")
            if full_path in paths:  # the one check other requests pay for
                method = environ.get("REQUEST_METHOD", "GET").upper()
                answer = self.policy.metadata(method, full_path)
                if answer is not None:
                    start_response(_status_line(answer.status), list(answer.headers))
                    return [answer.body]
        # The fast path for a token seen before (one header read, no request view).
        credentials = environ.get(self._fast_key) if self._fast_key else None
        token = (
            None
            if credentials is None
            else self.policy._fast_token(
                credentials,
                environ.get("REQUEST_METHOD", "GET").upper(),
                environ.get("QUERY_STRING", ""),
                _route_path(environ) if self._fast_routes else None,
                environ.get("wsgi.url_scheme", "http") if self._fast_https else "https",
            )
        )
        if token is None:
            outcome = self.policy.authenticate(WSGIRequestView(environ))
            if isinstance(outcome, Rejected):
                response = outcome.response
                start_response(_status_line(response.status), list(response.headers))
                return [response.body]
            token = outcome.token
            if token is None:  # exempt, preflight or anonymous
                environ[SCOPES_KEY] = ()
                environ[ROLES_KEY] = ()
                environ.setdefault(CLAIMS_KEY, None)
                environ.setdefault(HEADER_KEY, None)
                return self.app(environ, start_response)
            if outcome.dpop_jkt is not None:
                environ[DPOP_KEY] = outcome.dpop_jkt
            if outcome.headers:
                start_response = _adding_headers(start_response, outcome.headers)
        # The token may be the cache's: the app gets its own copies.
        claims = dict(token.claims)
        environ[CLAIMS_KEY] = claims
        environ[HEADER_KEY] = dict(token.header)
        environ[SCOPES_KEY] = token.scopes
        environ[ROLES_KEY] = token.roles
        subject: Any = claims.get("sub")
        if isinstance(subject, str):
            environ["REMOTE_USER"] = subject
        return self.app(environ, start_response)


def _adding_headers(
    start_response: StartResponse, headers: tuple[tuple[str, str], ...]
) -> StartResponse:
    """``start_response`` that adds ``headers`` to the app's response (DPoP-Nonce)."""

    def start_response_with_headers(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        return start_response(status, [*response_headers, *headers], exc_info)

    return start_response_with_headers


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
