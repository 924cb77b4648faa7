"""jwt_middleware.flask: current_claims() and @require_scopes on a Flask app."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify

from jwt_middleware import Verifier
from jwt_middleware.flask import current_claims, current_scopes, require_scopes
from jwt_middleware.wsgi import JWTMiddleware

from .conftest import TokenFactory


@pytest.fixture
def client(hs_verifier: Verifier) -> Any:
    app = Flask(__name__)

    @app.get("/me")
    def me() -> Any:
        return jsonify(claims=current_claims(), scopes=list(current_scopes()))

    @app.post("/orders")
    @require_scopes("orders:write", realm="shop")
    def create() -> Any:
        return jsonify(created=True), 201

    app.wsgi_app = JWTMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, verifier=hs_verifier, optional=True
    )
    return app.test_client()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_current_claims(client: Any, make_token: TokenFactory) -> None:
    reply = client.get("/me", headers=auth(make_token(scope="a b")))
    assert reply.json["claims"]["sub"] == "alice"
    assert reply.json["scopes"] == ["a", "b"]
    assert client.get("/me").json == {"claims": None, "scopes": []}


def test_require_scopes(client: Any, make_token: TokenFactory) -> None:
    granted = client.post("/orders", headers=auth(make_token(scope="orders:write")))
    assert granted.status_code == 201
    refused = client.post("/orders", headers=auth(make_token(scope="orders:read")))
    assert refused.status_code == 403
    assert refused.json["error"] == "insufficient_scope"
    assert refused.headers["WWW-Authenticate"].endswith('scope="orders:write"')
    assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="shop"')
    anonymous = client.post("/orders")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="shop"'


@pytest.mark.parametrize("scopes", [(), ("a b",)])
def test_bad_scopes(scopes: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="scope tokens"):
        require_scopes(*scopes)
