"""ASGI adapter, pure ASGI: ``app.add_middleware(JWTMiddleware, verifier=verifier)``.

HTTP requests and websocket handshakes are checked; ``lifespan`` and unknown scope
types pass straight through, and ``receive``/``send`` are never wrapped, so
streaming responses and background tasks behave as without the middleware. On
success the scope holds ``jwt.claims``, ``jwt.header``, ``user`` and ``auth``
(Starlette-compatible). A refused websocket gets the HTTP answer through the
``websocket.http.response`` extension when the server offers it, otherwise a close
(code 1008) before accept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any, Unpack

from ._identity import ANONYMOUS, TokenCredentials, TokenUser
from ._policy import (
    CLAIMS_KEY,
    DPOP_KEY,
    HEADER_KEY,
    ROLES_KEY,
    AuthPolicy,
    MiddlewareOptions,
    Rejected,
)
from ._request import RequestView, encoded_path
from ._resource import MetadataResponse
from ._responses import ErrorResponse
from ._verifier import VerifiedToken, Verifier

__all__ = ["JWTMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

POLICY_VIOLATION = 1008  # RFC 6455 section 7.4.1


class ASGIRequestView(RequestView):
    __slots__ = ("_headers", "_scope", "_server")

    def __init__(self, scope: Scope) -> None:
        is_websocket = scope["type"] == "websocket"
        path = scope.get("path") or "/"
        query: bytes = scope.get("query_string", b"")
        client = scope.get("client")
        super().__init__(
            method="GET" if is_websocket else scope.get("method", "GET"),
            path=path,
            route_path=route_path(path, scope.get("root_path")),
            scheme=scope.get("scheme") or ("ws" if is_websocket else "http"),
            query_string=query.decode("latin-1") if query else "",
            is_websocket=is_websocket,
            client=str(client[0]) if client else None,
        )
        self._scope = scope
        self._headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        self._server: tuple[str, int | None] | None = scope.get("server")

    def header_values(self, name: str) -> list[str]:
        wanted = _raw_name(name)
        values = []
        for key, value in self._headers:
            if key.lower() == wanted:
                values.append(value.decode("latin-1"))
        return values

    def target_path(self) -> str:
        return encoded_path(raw_path(self._scope), full_path(self._scope))

    def server_certificate(self) -> str | None:
        tls = (self._scope.get("extensions") or {}).get("tls") or {}
        chain = tls.get("client_cert_chain") if isinstance(tls, dict) else None
        return chain[0] if chain and isinstance(chain[0], str) else None

    @property
    def host(self) -> str:
        host = self.header("host")
        if host:
            return host
        if self._server is None:
            return ""
        server_host, port = self._server
        return f"{server_host}:{port}" if port is not None else server_host


def fast_token(
    policy: AuthPolicy, name: bytes | None, routes: bool, scope: Scope
) -> VerifiedToken | None:
    """The policy's fast path for an HTTP scope carrying exactly one credential header
    (``name``, lower case): a token seen before, or None for the full path."""
    if name is None:
        return None
    found = None
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            if found is not None:
                return None  # two: the full path refuses the request
            found = value
    if found is None:
        return None
    return policy._fast_token(
        found.decode("latin-1"),
        scope.get("method", "GET"),
        scope.get("query_string", b""),
        route_path(scope.get("path") or "/", scope.get("root_path")) if routes else None,
        (scope.get("scheme") or "http") if policy._fast_https else "https",
    )


def attach(scope: Scope, token: VerifiedToken, dpop_jkt: str | None = None) -> dict[str, Any]:
    """Put a verified token where ASGI apps read it (the claims, header and roles, and
    Starlette's ``user`` and ``auth``; the DPoP proof key's thumbprint when there was
    one); the claims put there are returned. The token may be the cache's: the app gets
    its own copies."""
    if dpop_jkt is not None:
        scope[DPOP_KEY] = dpop_jkt
    claims = dict(token.claims)
    scope[CLAIMS_KEY] = claims
    scope[HEADER_KEY] = dict(token.header)
    scope["user"] = TokenUser(claims)
    scope[ROLES_KEY] = token.roles
    scope["auth"] = TokenCredentials(token.scopes, token.roles)
    return claims


def full_path(scope: Scope) -> str:
    """The path as the client sent it, the mount included: ``path`` holds ``root_path``
    (the ASGI spec; uvicorn, daphne), or follows it (hypercorn)."""
    path: str = scope.get("path") or "/"
    root: str = scope.get("root_path") or ""
    return path if not root or path.startswith(root) else root + path


def raw_path(scope: Scope) -> str | None:
    """The server's undecoded copy of the path (``raw_path``), without a query."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").partition("?")[0] if isinstance(raw, bytes) else None


def route_path(path: str, root_path: str | None) -> str | None:
    """The path the app routes on: ``path`` after ``root_path``, cut at a ``/``
    boundary, as Starlette, FastAPI and Django do. None when ``root_path`` is not a
    prefix of ``path`` (hypercorn leaves it out; a client may set it under daphne):
    frameworks then read the path in different ways, so no path rule may match."""
    if not root_path:
        return path
    if path.startswith(root_path):
        rest = path[len(root_path) :]
        if not rest or rest[0] == "/":
            return rest  # "" (the mount point itself) matches no rule: rules start with "/"
    return None


@lru_cache(maxsize=64)
def _raw_name(name: str) -> bytes:
    return name.encode("latin-1")


class JWTMiddleware:
    """Wraps an ASGI app; keyword arguments as ``AuthPolicy``."""

    def __init__(
        self, app: ASGIApp, *, verifier: Verifier, **options: Unpack[MiddlewareOptions]
    ) -> None:
        self.app = app
        self.policy = AuthPolicy(verifier, **options)
        header = self.policy._fast_header
        self._fast_name = header.encode("latin-1") if header else None
        self._fast_routes = self.policy._rules is not None  # the path only when rules need it
        self._needs_io = self.policy.verifier._needs_io
        self._metadata_paths = self.policy.metadata_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        paths = self._metadata_paths
        if paths is not None and kind == "http":
            path = full_path(scope)
            if path in paths:  # the one check other requests pay for
                answer = self.policy.metadata(scope.get("method", "GET"), path)
                if answer is not None:
                    await _send_http(send, answer)
                    return
        token = self._fast(scope) if kind == "http" else None
        if token is None:
            if kind != "http" and kind != "websocket":
                if kind == "lifespan" and self.policy.warm_start:
                    receive = self._warm_on_startup(receive)
                await self.app(scope, receive, send)
                return
            view = ASGIRequestView(scope)
            outcome = (
                await self.policy.aauthenticate(view)
                if self._needs_io
                else self.policy.authenticate(view)  # nothing to wait for: no awaits
            )
            if isinstance(outcome, Rejected):
                if kind == "http":
                    await _send_http(send, outcome.response)
                else:
                    await _refuse_websocket(scope, receive, send, outcome.response)
                return
            if outcome.token is None:
                # Exempt, preflight or anonymous: keep what an outer auth layer set.
                scope.setdefault(CLAIMS_KEY, None)
                scope.setdefault(HEADER_KEY, None)
                scope.setdefault(ROLES_KEY, ())
                scope.setdefault("user", ANONYMOUS)
                scope.setdefault("auth", TokenCredentials())
                await self.app(scope, receive, send)
                return
            if outcome.headers:
                send = _adding_headers(send, outcome.headers)
            attach(scope, outcome.token, outcome.dpop_jkt)
        else:
            attach(scope, token)
        await self.app(scope, receive, send)

    def _fast(self, scope: Scope) -> VerifiedToken | None:
        return fast_token(self.policy, self._fast_name, self._fast_routes, scope)

    def _warm_on_startup(self, receive: Receive) -> Receive:
        """Load remote keys when the server announces startup, before the app hears it."""

        async def receive_and_warm() -> Message:
            message = await receive()
            if message.get("type") == "lifespan.startup":
                await self.policy.verifier.aprefetch()
            return message

        return receive_and_warm


def _adding_headers(send: Send, headers: tuple[tuple[str, str], ...]) -> Send:
    """``send`` that adds ``headers`` to the app's response (DPoP-Nonce rotation)."""
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]

    async def send_with_headers(message: Message) -> None:
        if message.get("type") in ("http.response.start", "websocket.accept"):
            message = {**message, "headers": [*(message.get("headers") or ()), *extra]}
        await send(message)

    return send_with_headers


def _raw_headers(response: ErrorResponse | MetadataResponse) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]


async def _send_http(send: Send, response: ErrorResponse | MetadataResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": _raw_headers(response),
        }
    )
    await send({"type": "http.response.body", "body": response.body})


async def _refuse_websocket(
    scope: Scope, receive: Receive, send: Send, response: ErrorResponse
) -> None:
    message = await receive()
    if message.get("type") != "websocket.connect":
        return  # the client left before the handshake completed
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": response.status,
                "headers": _raw_headers(response),
            }
        )
        await send({"type": "websocket.http.response.body", "body": response.body})
    else:
        await send({"type": "websocket.close", "code": POLICY_VIOLATION})
