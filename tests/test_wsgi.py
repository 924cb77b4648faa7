"""The WSGI adapter around a legacy Flask app, protected in one line."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify, request

from jwt_middleware import ConfigurationError, Verifier
from jwt_middleware._origin import OriginPolicy
from jwt_middleware.wsgi import JWTMiddleware, WSGIRequestView

from .conftest import NOW, TokenFactory


def legacy_app() -> Flask:
    app = Flask(__name__)

    @app.get("/me")
    def me() -> Any:
        return jsonify(
            user=request.remote_user,
            claims=request.environ["jwt.claims"],
            scopes=list(request.environ["jwt.scopes"]),
        )

    @app.post("/orders")
    def orders() -> Any:
        return jsonify(created=True, by=request.remote_user), 201

    @app.get("/health")
    def health() -> Any:
        return "ok"

    return app


def test_one_line_protection(hs_verifier: Verifier, make_token: TokenFactory) -> None:
    app = legacy_app()
    app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=hs_verifier, exempt=["/health"])  # type: ignore[method-assign]
    client = app.test_client()
    token = make_token(scope="orders:write")
    reply = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    assert reply.json == {
        "user": "alice",
        # the claims as minted (conftest's make_token), not as the verifier reads them
        "claims": {"sub": "alice", "iat": NOW, "exp": NOW + 3600, "scope": "orders:write"},
        "scopes": ["orders:write"],
    }
    assert client.post("/orders", headers={"Authorization": f"Bearer {token}"}).status_code == 201
    assert client.get("/health").text == "ok"
    refused = client.get("/me")
    assert refused.status_code == 401 and refused.json == {
        "error": "missing_token",
        "error_description": "Authentication is required",
    }


def test_async_resolver_is_refused_at_start(make_token: TokenFactory, keys: Any) -> None:
    async def resolver(header: Any, claims: Any) -> Any:
        return keys.verification_key("HS256")

    with pytest.raises(ConfigurationError, match="async"):
        JWTMiddleware(legacy_app().wsgi_app, verifier=Verifier(resolver))


def test_sub_that_is_not_a_string_sets_no_remote_user(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    app = legacy_app()
    app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=hs_verifier)  # type: ignore[method-assign]
    reply = app.test_client().get(
        "/me", headers={"Authorization": f"Bearer {make_token(sub=None)}"}
    )
    assert reply.json["user"] is None


@pytest.mark.parametrize(
    ("raw", "decoded"), [("/caf\xc3\xa9", "/café"), ("/plain", "/plain"), ("", "/")]
)
def test_path_info_is_decoded_like_routers_do(raw: str, decoded: str) -> None:
    view = WSGIRequestView({"PATH_INFO": raw, "REQUEST_METHOD": "get"})
    assert view.path == decoded and view.method == "GET"


def test_host_falls_back_to_server_name() -> None:
    view = WSGIRequestView(
        {"SERVER_NAME": "10.0.0.1", "SERVER_PORT": "8080", "wsgi.url_scheme": "https"}
    )
    assert OriginPolicy().resolve(view).origin == "https://10.0.0.1:8080"
