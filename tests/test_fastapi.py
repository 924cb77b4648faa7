"""jwt_middleware.fastapi: JWTBearer as a FastAPI security scheme, behind the middleware
(reading what it verified) and on its own (verifying), with RFC 6750 refusals.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations."""

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request, Security, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from jwt_middleware import ConfigurationError, Rule, Verifier
from jwt_middleware.asgi import JWTMiddleware
from jwt_middleware.fastapi import JWTBearer, add_exception_handlers, docs_rules

from .conftest import NOW, Keys, TokenFactory
from .helpers import bearer


def make_app(
    verifier: Verifier,
    *,
    middleware: bool,
    handlers: bool = True,
    rules: list[Rule] | None = None,
    **auth_options: Any,
) -> FastAPI:
    auth = JWTBearer(verifier, **auth_options)
    Claims = Annotated[dict[str, Any] | None, Depends(auth)]
    app = FastAPI()
    if handlers:
        add_exception_handlers(app)
    if middleware:
        public = rules if rules is not None else [Rule("/health", public=True)]
        app.add_middleware(JWTMiddleware, verifier=verifier, rules=[*docs_rules(app), *public])

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/me")
    async def me(claims: Claims) -> dict[str, Any]:
        return {"claims": claims}

    @app.post("/orders")
    async def create(
        claims: Annotated[dict[str, Any], Security(auth, scopes=["orders:write"])],
    ) -> dict[str, Any]:
        return {"by": claims["sub"]}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, claims: Claims) -> None:
        await websocket.accept()
        await websocket.send_text((claims or {}).get("sub", "anonymous"))
        await websocket.close()

    return app


def assert_rfc_6750(reply: Any, status: int, error: str) -> None:
    assert reply.status_code == status
    body = reply.json()
    assert "detail" not in body and body["error"] == error
    challenge = reply.headers["www-authenticate"]
    assert challenge.startswith("Bearer realm=")
    if error != "missing_token":
        assert f'error="{error}"' in challenge


@pytest.fixture(params=[True, False], ids=["behind-the-middleware", "dependency-only"])
def client(request: pytest.FixtureRequest, hs_verifier: Verifier) -> TestClient:
    return TestClient(make_app(hs_verifier, middleware=request.param))


def test_the_claims_are_the_dependency_value(client: TestClient, make_token: TokenFactory) -> None:
    reply = client.get("/me", headers=dict(bearer(make_token(tenant="t1"))))
    assert reply.status_code == 200
    assert reply.json()["claims"]["sub"] == "alice" and reply.json()["claims"]["tenant"] == "t1"


def test_no_token_is_an_rfc_6750_401(client: TestClient) -> None:
    assert_rfc_6750(client.get("/me"), 401, "missing_token")


def test_a_bad_token_is_an_rfc_6750_401(client: TestClient, make_token: TokenFactory) -> None:
    assert_rfc_6750(
        client.get("/me", headers=dict(bearer(make_token() + "x"))), 401, "invalid_token"
    )


def test_a_token_in_the_query_string_is_refused(
    client: TestClient, make_token: TokenFactory
) -> None:
    assert_rfc_6750(
        client.get("/me", params={"access_token": make_token()}), 400, "invalid_request"
    )


def test_security_scopes_give_the_403_scope_challenge(
    client: TestClient, make_token: TokenFactory
) -> None:
    reply = client.post("/orders", headers=dict(bearer(make_token(scope="orders:read"))))
    assert_rfc_6750(reply, 403, "insufficient_scope")
    assert 'scope="orders:write"' in reply.headers["www-authenticate"]
    ok = client.post("/orders", headers=dict(bearer(make_token(scope="orders:write"))))
    assert ok.json() == {"by": "alice"}


def test_websockets_use_the_same_dependency(client: TestClient, make_token: TokenFactory) -> None:
    with client.websocket_connect("/ws", headers=dict(bearer(make_token()))) as websocket:
        assert websocket.receive_text() == "alice"


def test_openapi_declares_the_scheme_and_locks_only_protected_routes(
    hs_verifier: Verifier,
) -> None:
    schema = TestClient(make_app(hs_verifier, middleware=True)).get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["JWTBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    paths = schema["paths"]
    assert paths["/me"]["get"]["security"] == [{"JWTBearer": []}]
    assert paths["/orders"]["post"]["security"] == [{"JWTBearer": ["orders:write"]}]
    assert "security" not in paths["/health"]["get"]


def test_the_docs_are_public_with_docs_rules(hs_verifier: Verifier) -> None:
    client = TestClient(make_app(hs_verifier, middleware=True))
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").status_code == 200
    assert client.get("/me").status_code == 401


def test_behind_the_middleware_nothing_is_verified_twice(
    hs_verifier: Verifier, make_token: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(make_app(hs_verifier, middleware=True))

    async def second_verification(token: str) -> Any:
        raise AssertionError("JWTBearer verified again behind the middleware")

    monkeypatch.setattr(hs_verifier, "averify_token", second_verification)
    assert client.get("/me", headers=dict(bearer(make_token()))).status_code == 200


def test_a_public_route_with_the_dependency_needs_a_token(hs_verifier: Verifier) -> None:
    client = TestClient(make_app(hs_verifier, middleware=True, rules=[Rule("/me", public=True)]))
    assert_rfc_6750(client.get("/me"), 401, "missing_token")  # the middleware let it through


def test_auto_error_false_gives_none_without_a_token(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    client = TestClient(make_app(hs_verifier, middleware=False, auto_error=False))
    assert client.get("/me").json() == {"claims": None}
    assert_rfc_6750(client.get("/me", headers=dict(bearer("bad.token.x"))), 401, "invalid_token")


def test_without_the_handlers_status_and_challenge_are_still_right(hs_verifier: Verifier) -> None:
    reply = TestClient(make_app(hs_verifier, middleware=False, handlers=False)).get("/me")
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer realm=")
    assert reply.json() == {"detail": "Authentication is required"}


def test_a_refused_websocket_is_closed_with_1008(hs_verifier: Verifier) -> None:
    client = TestClient(make_app(hs_verifier, middleware=False))
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws"):
        pass
    assert closed.value.code == 1008


def test_without_verifier_or_middleware_it_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    add_exception_handlers(app)

    @app.get("/me")
    async def me(claims: Annotated[dict[str, Any], Depends(JWTBearer())]) -> dict[str, Any]:
        return claims

    assert TestClient(app).get("/me", headers={"Authorization": "Bearer x"}).status_code == 401
    assert "no verifier" in caplog.text


def test_alone_it_records_what_it_verified_as_the_middleware_does(
    keys: Keys, make_token: TokenFactory
) -> None:
    verifier = Verifier(
        keys.verification_key("HS256"), roles_claims=["realm_access.roles"], clock=lambda: NOW
    )
    calls: list[str] = []
    original = verifier._averify_shared

    async def counting(token: str) -> Any:
        calls.append(token)
        return await original(token)

    verifier._averify_shared = counting  # type: ignore[method-assign]
    auth = JWTBearer(verifier)
    app = FastAPI()
    add_exception_handlers(app)

    @app.get("/me")
    async def me(
        request: Request,
        claims: Annotated[dict[str, Any], Depends(auth)],
        again: Annotated[dict[str, Any], Security(auth, scopes=["read"])],
    ) -> dict[str, Any]:
        return {
            "user": request.user.identity,
            "scopes": list(request.auth.scopes),
            "roles": list(request.auth.roles),
            "same": claims == again,
        }

    token = make_token(scope="read", realm_access={"roles": ["auditor"]}, jti="fresh-1")
    reply = TestClient(app).get("/me", headers=bearer(token))
    assert reply.json() == {"user": "alice", "scopes": ["read"], "roles": ["auditor"], "same": True}
    assert len(calls) == 1  # the second dependency read what the first verified


def test_only_a_verifier_is_accepted() -> None:
    with pytest.raises(ConfigurationError):
        JWTBearer("secret")  # type: ignore[arg-type]
