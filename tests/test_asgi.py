"""The ASGI adapter inside a Starlette app: user/auth, @requires, streaming, background
tasks, lifespan, websockets (with and without the denial-response extension)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket

from jwt_middleware import ConfigurationError, Cookie, Verifier
from jwt_middleware.asgi import JWTMiddleware

from .conftest import NOW, TokenFactory


def build_app(verifier: Verifier, done: list[str], **options: Any) -> Starlette:
    async def me(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "name": request.user.display_name,
                "authenticated": request.user.is_authenticated,
                "scopes": request.auth.scopes,
            }
        )

    @requires("admin")
    async def admin(request: Request) -> PlainTextResponse:
        return PlainTextResponse("welcome, admin")

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(5):
                yield f"chunk {i}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def with_task(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok", background=BackgroundTask(done.append, "task ran"))

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"hello {websocket.user.display_name}")
        await websocket.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        done.append("startup")
        yield
        done.append("shutdown")

    app = Starlette(
        routes=[
            Route("/me", me),
            Route("/admin", admin),
            Route("/stream", stream),
            Route("/task", with_task),
            WebSocketRoute("/ws", echo),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(JWTMiddleware, verifier=verifier, **options)
    return app


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_user_and_scopes(hs_verifier: Verifier, make_token: TokenFactory) -> None:
    client = TestClient(build_app(hs_verifier, []))
    reply = client.get("/me", headers=auth(make_token(scope="read write")))
    assert reply.json() == {"name": "alice", "authenticated": True, "scopes": ["read", "write"]}


def test_requires_decorator(hs_verifier: Verifier, make_token: TokenFactory) -> None:
    client = TestClient(build_app(hs_verifier, []))
    assert client.get("/admin", headers=auth(make_token(scp=["admin"]))).text == "welcome, admin"
    assert client.get("/admin", headers=auth(make_token(scope="read"))).status_code == 403


def test_optional_mode_user_is_anonymous(hs_verifier: Verifier) -> None:
    client = TestClient(build_app(hs_verifier, [], optional=True))
    assert client.get("/me").json() == {"name": "", "authenticated": False, "scopes": []}
    assert client.get("/admin").status_code == 403


def test_streaming_and_background_tasks(hs_verifier: Verifier, make_token: TokenFactory) -> None:
    done: list[str] = []
    client = TestClient(build_app(hs_verifier, done))
    with client.stream("GET", "/stream", headers=auth(make_token())) as reply:
        assert list(reply.iter_lines()) == [f"chunk {i}" for i in range(5)]
    assert client.get("/task", headers=auth(make_token())).text == "ok"
    assert done == ["task ran"]
    assert client.get("/task").status_code == 401
    assert done == ["task ran"]


def test_lifespan_passes_through(hs_verifier: Verifier) -> None:
    done: list[str] = []
    with TestClient(build_app(hs_verifier, done)):
        assert done == ["startup"]
    assert done == ["startup", "shutdown"]


def test_websocket_accepted(hs_verifier: Verifier, make_token: TokenFactory) -> None:
    client = TestClient(build_app(hs_verifier, []))
    with client.websocket_connect("/ws", headers=auth(make_token(sub="bob"))) as ws:
        assert ws.receive_text() == "hello bob"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-token"),
        pytest.param({"Authorization": "Bearer x.y.z"}, 401, id="bad-token"),
        pytest.param({"Authorization": "Bearer"}, 400, id="malformed"),
    ],
)
def test_websocket_refused_with_http_response(
    hs_verifier: Verifier, headers: dict[str, str], status: int
) -> None:
    client = TestClient(build_app(hs_verifier, [], realm="api"))
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/ws", headers=headers),
    ):
        pass  # pragma: no cover
    assert denied.value.status_code == status
    assert denied.value.headers["www-authenticate"].startswith('Bearer realm="api"')
    assert denied.value.headers["cache-control"] == "no-store"


def test_websocket_cookie_needs_same_origin(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    client = TestClient(
        build_app(hs_verifier, [], sources=[Cookie("access_token")]), base_url="http://testserver"
    )
    cookie = {"Cookie": f"access_token={make_token()}"}
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/ws", headers={**cookie, "Origin": "https://evil.example"}),
    ):
        pass  # pragma: no cover
    assert denied.value.status_code == 403
    with client.websocket_connect("/ws", headers={**cookie, "Origin": "http://testserver"}) as ws:
        assert ws.receive_text() == "hello alice"


async def run_raw(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[Any]:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def websocket_scope(**extra: Any) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/ws",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(b"host", b"example")],
        "server": ("example", 80),
        **extra,
    }


@pytest.mark.anyio
async def test_websocket_close_1008_without_extension(hs_verifier: Verifier) -> None:
    called: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope)

    middleware = JWTMiddleware(app, verifier=hs_verifier)
    sent = await run_raw(middleware, websocket_scope(), [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1008}]
    sent = await run_raw(
        middleware,
        websocket_scope(extensions=None),
        [{"type": "websocket.disconnect", "code": 1001}],
    )
    assert sent == []
    assert called == []


@pytest.mark.anyio
async def test_unknown_scope_types_pass_through(hs_verifier: Verifier) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = JWTMiddleware(app, verifier=hs_verifier)
    await run_raw(middleware, {"type": "lifespan"}, [])
    await run_raw(middleware, {"type": "custom.protocol"}, [])
    assert seen == ["lifespan", "custom.protocol"]


@pytest.mark.anyio
async def test_async_resolver_under_asgi(make_token: TokenFactory, keys: Any) -> None:
    async def resolver(header: Any, claims: Any) -> Any:
        return keys.verification_key("HS256")

    verifier = Verifier(resolver, clock=lambda: NOW)
    client = TestClient(build_app(verifier, []))
    assert client.get("/me", headers=auth(make_token())).json()["name"] == "alice"


def test_starlette_websocket_disconnect_is_quiet(hs_verifier: Verifier) -> None:
    """A refused handshake does not leave the app half-run (no WebSocketDisconnect leak)."""
    done: list[str] = []
    client = TestClient(build_app(hs_verifier, done))
    with (  # TestClient offers the denial-response extension: the 401 comes through it
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/ws"),
    ):
        pass  # pragma: no cover
    assert denied.value.status_code == 401


def test_configuration_errors_surface_at_start(hs_verifier: Verifier) -> None:
    with pytest.raises(ConfigurationError):
        JWTMiddleware(build_app(hs_verifier, []), verifier=hs_verifier, exempt=["health"])
    with pytest.raises(ConfigurationError):
        JWTMiddleware(build_app(hs_verifier, []), verifier="not a verifier")  # type: ignore[arg-type]
