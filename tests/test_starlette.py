"""jwt_middleware.starlette.requires_scopes: RFC 6750 answers on Starlette routes, HTTP and
websocket, async and sync endpoints."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from jwt_middleware import ConfigurationError, Rule, Verifier
from jwt_middleware.asgi import JWTMiddleware
from jwt_middleware.starlette import requires_scopes

from .conftest import TokenFactory
from .helpers import bearer


@requires_scopes("orders:write")
async def create(request: Request) -> JSONResponse:
    return JSONResponse({"by": request.user.identity})


@requires_scopes("orders:read")
def listing(request: Request) -> PlainTextResponse:  # a sync endpoint (thread pool)
    return PlainTextResponse("orders")


@requires_scopes("feed")
async def feed(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(websocket.user.identity)
    await websocket.close()


def make_app(verifier: Verifier, **options: object) -> Starlette:
    app = Starlette(
        routes=[
            Route("/orders", create, methods=["POST"]),
            Route("/orders", listing, methods=["GET"]),
            WebSocketRoute("/feed", feed),
        ]
    )
    app.add_middleware(JWTMiddleware, verifier=verifier, **options)
    return app


@pytest.fixture
def client(hs_verifier: Verifier) -> TestClient:
    return TestClient(make_app(hs_verifier))


def test_granted(client: TestClient, make_token: TokenFactory) -> None:
    headers = dict(bearer(make_token(scope="orders:write orders:read")))
    assert client.post("/orders", headers=headers).json() == {"by": "alice"}
    assert client.get("/orders", headers=headers).text == "orders"


@pytest.mark.parametrize(("method", "scope"), [("POST", "orders:write"), ("GET", "orders:read")])
def test_missing_scope_is_an_rfc_6750_403(
    client: TestClient, make_token: TokenFactory, method: str, scope: str
) -> None:
    reply = client.request(method, "/orders", headers=dict(bearer(make_token(scope="other"))))
    assert reply.status_code == 403
    assert reply.json() == {
        "error": "insufficient_scope",
        "error_description": "The access token lacks a required scope",
    }
    challenge = reply.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="insufficient_scope"' in challenge
    assert f'scope="{scope}"' in challenge
    assert reply.headers["cache-control"] == "no-store"


def test_anonymous_callers_get_a_401(hs_verifier: Verifier) -> None:
    client = TestClient(make_app(hs_verifier, optional=True))
    reply = client.post("/orders")
    assert reply.status_code == 401 and reply.json()["error"] == "missing_token"
    assert reply.headers["www-authenticate"].startswith("Bearer realm=")


def test_without_the_middleware_it_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    app = Starlette(routes=[Route("/orders", create, methods=["POST"])])
    assert TestClient(app).post("/orders").status_code == 401
    assert "no JWTMiddleware" in caplog.text


def test_websocket_granted(client: TestClient, make_token: TokenFactory) -> None:
    headers = dict(bearer(make_token(scope="feed")))
    with client.websocket_connect("/feed", headers=headers) as websocket:
        assert websocket.receive_text() == "alice"


def test_websocket_refused_with_the_http_answer(
    client: TestClient, make_token: TokenFactory
) -> None:
    headers = dict(bearer(make_token(scope="other")))
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/feed", headers=headers),
    ):
        pass
    assert denied.value.status_code == 403
    assert 'error="insufficient_scope"' in denied.value.headers["www-authenticate"]


def test_websocket_refused_with_a_close_where_there_is_no_http_answer(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    inner = make_app(hs_verifier)

    async def no_denial_extension(scope, receive, send):  # type: ignore[no-untyped-def]
        scope = {**scope, "extensions": {}}
        await inner(scope, receive, send)

    headers = dict(bearer(make_token(scope="other")))
    client = TestClient(no_denial_extension)
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/feed", headers=headers),
    ):
        pass
    assert closed.value.code == 1008


def test_public_rule_then_requires_scopes_still_needs_a_token(hs_verifier: Verifier) -> None:
    client = TestClient(make_app(hs_verifier, rules=[Rule("/orders", public=True)]))
    assert client.get("/orders").status_code == 401


def test_bad_configuration_fails_at_import_time() -> None:
    with pytest.raises(ConfigurationError):
        requires_scopes()
    with pytest.raises(ConfigurationError):
        requires_scopes("two words")
