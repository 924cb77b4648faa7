"""jwt_middleware.flask: the getters, @require_scopes and @jwt_required, with and without
the middleware, and the token cookies."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify

from jwt_middleware import ConfigurationError, StaticKey, TokenCookies, TokenIssuer, Verifier
from jwt_middleware.flask import (
    JWT,
    clear_token_cookies,
    current_claims,
    current_roles,
    current_scopes,
    get_claims,
    get_identity,
    jwt_required,
    require_scopes,
    set_token_cookies,
)
from jwt_middleware.wsgi import JWTMiddleware

from .conftest import NOW, Keys, TokenFactory


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


def test_the_extension_refuses_resource(hs_verifier: Verifier) -> None:
    from jwt_middleware import ProtectedResource

    resource = ProtectedResource("https://api.example/api", authorization_servers=["x"])
    with pytest.raises(ConfigurationError, match="needs the middleware"):
        JWT(Flask(__name__), hs_verifier, resource=resource)


def test_current_roles_with_and_without_the_middleware(
    keys: Keys, make_token: TokenFactory
) -> None:
    verifier = Verifier(keys.verification_key("HS256"), roles_claims=["roles"], clock=lambda: NOW)
    app = Flask(__name__)

    @app.get("/roles")
    @jwt_required()
    def roles() -> Any:
        return jsonify(roles=list(current_roles()))

    JWT(app, verifier)
    token = make_token(roles=["auditor", "admin"])
    assert app.test_client().get("/roles", headers=auth(token)).json == {
        "roles": ["auditor", "admin"]
    }
    app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=verifier)  # type: ignore[method-assign]
    assert app.test_client().get("/roles", headers=auth(token)).json == {
        "roles": ["auditor", "admin"]
    }


@pytest.mark.parametrize("scopes", [(), ("a b",)])
def test_bad_scopes(scopes: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="scope tokens"):
        require_scopes(*scopes)


# -- protecting some views only: JWT(app) + @jwt_required, and the getters ----------------


@pytest.fixture
def some_views(hs_verifier: Verifier) -> Any:
    app = Flask(__name__)
    JWT(app, hs_verifier, realm="shop")

    @app.get("/open")
    def open_view() -> Any:
        return jsonify(claims=current_claims())

    @app.get("/private")
    @jwt_required()
    def private() -> Any:
        return jsonify(user=get_identity(), tenant=get_claims().get("tenant"))

    @app.post("/orders")
    @jwt_required(scopes=["orders:write"])
    def create() -> Any:
        return jsonify(by=get_identity()), 201

    @app.get("/maybe")
    @jwt_required(optional=True)
    def maybe() -> Any:
        return jsonify(claims=current_claims())

    @app.get("/careless")
    def careless() -> Any:  # not protected, yet asks for the claims
        return jsonify(claims=get_claims())

    return app.test_client()


def test_jwt_required_verifies_without_the_middleware(
    some_views: Any, make_token: TokenFactory
) -> None:
    assert some_views.get("/open").json == {"claims": None}
    refused = some_views.get("/private")
    assert refused.status_code == 401 and refused.json["error"] == "missing_token"
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="shop"'
    ok = some_views.get("/private", headers=auth(make_token(tenant="t1")))
    assert ok.json == {"user": "alice", "tenant": "t1"}
    bad = some_views.get("/private", headers=auth(make_token() + "x"))
    assert bad.status_code == 401 and bad.json["error"] == "invalid_token"
    assert some_views.get(f"/private?access_token={make_token()}").status_code == 400


def test_jwt_required_scopes(some_views: Any, make_token: TokenFactory) -> None:
    refused = some_views.post("/orders", headers=auth(make_token(scope="orders:read")))
    assert refused.status_code == 403
    assert 'scope="orders:write"' in refused.headers["WWW-Authenticate"]
    assert some_views.post("/orders", headers=auth(make_token(scope="orders:write"))).json == {
        "by": "alice"
    }


def test_jwt_required_optional(some_views: Any, make_token: TokenFactory) -> None:
    assert some_views.get("/maybe").json == {"claims": None}
    assert some_views.get("/maybe", headers=auth(make_token())).json["claims"]["sub"] == "alice"
    assert some_views.get("/maybe", headers=auth("x.y.z")).status_code == 401


def test_get_claims_outside_a_protected_view_is_a_401(some_views: Any) -> None:
    reply = some_views.get("/careless")
    assert reply.status_code == 401 and reply.json["error"] == "missing_token"


def test_jwt_required_behind_the_middleware(
    hs_verifier: Verifier, make_token: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Flask(__name__)

    @app.post("/orders")
    @jwt_required(scopes=["orders:write"])
    def create() -> Any:
        return jsonify(by=get_identity())

    app.wsgi_app = JWTMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, verifier=hs_verifier, optional=True
    )
    client = app.test_client()
    monkeypatch.setattr(hs_verifier, "verify_token", None)  # no second verification
    assert client.post("/orders").status_code == 401
    assert client.post("/orders", headers=auth(make_token(scope="orders:write"))).json == {
        "by": "alice"
    }


def test_without_middleware_or_extension_it_fails_closed(
    make_token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = Flask(__name__)

    @app.get("/private")
    @jwt_required()
    def private() -> Any:
        return "never"

    assert app.test_client().get("/private", headers=auth(make_token())).status_code == 401
    assert "neither JWTMiddleware nor JWT(app)" in caplog.text


# -- the cookie flavour -----------------------------------------------------------------


def test_token_cookies_are_read_back_by_the_middleware(hs_verifier: Verifier) -> None:
    issuer = TokenIssuer(StaticKey(b"s" * 32, algorithm="HS256"), access_ttl=300)
    verifier = Verifier(StaticKey(b"s" * 32, algorithm="HS256"))
    cookies = TokenCookies()
    app = Flask(__name__)

    @app.post("/login")
    def login() -> Any:
        response = jsonify(ok=True)
        set_token_cookies(response, issuer.issue_pair("alice"))
        return response

    @app.post("/logout")
    def logout() -> Any:
        response = jsonify(ok=True)
        clear_token_cookies(response)
        return response

    @app.post("/orders")
    def create() -> Any:
        return jsonify(by=get_identity()), 201

    app.wsgi_app = JWTMiddleware(  # type: ignore[method-assign]
        app.wsgi_app,
        verifier=verifier,
        sources=[cookies.source],
        exempt=["/login"],
        **cookies.middleware_options,
    )
    client = app.test_client()
    set_cookie = client.post("/login").headers.getlist("Set-Cookie")
    by_name = {header.split("=", 1)[0]: header for header in set_cookie}
    assert set(by_name) == {"access_token", "refresh_token", "csrf_token"}
    assert "HttpOnly" in by_name["access_token"] and "HttpOnly" in by_name["refresh_token"]
    assert "HttpOnly" not in by_name["csrf_token"]  # the page's script echoes it
    assert all("SameSite=Lax" in header and "Secure" not in header for header in set_cookie)
    refused = client.post("/orders")  # a cookie token without a same-origin proof
    assert refused.status_code == 403 and refused.json["error"] == "csrf_failed"
    csrf = client.get_cookie("csrf_token").value  # type: ignore[union-attr]
    assert client.post("/orders", headers={"X-CSRF-Token": csrf}).json == {"by": "alice"}
    cleared = client.post("/logout", headers={"X-CSRF-Token": csrf}).headers.getlist("Set-Cookie")
    assert len(cleared) == 3 and all("Max-Age=0" in header for header in cleared)


def test_secure_cookies_follow_the_scheme_or_the_caller(hs_verifier: Verifier) -> None:
    issuer = TokenIssuer(StaticKey(b"s" * 32, algorithm="HS256"))
    app = Flask(__name__)

    @app.get("/pair")
    def pair() -> Any:
        response = jsonify(ok=True)
        set_token_cookies(response, issuer.issue_pair("alice"))
        return response

    https = app.test_client().get("/pair", base_url="https://localhost")
    assert all("Secure" in header for header in https.headers.getlist("Set-Cookie"))


def test_refresh_token_needs_the_double_submit_header() -> None:
    cookies = TokenCookies()
    jar = {"refresh_token": "r", "csrf_token": "c"}
    assert cookies.refresh_token(jar, {"X-CSRF-Token": "c"}) == "r"
    assert cookies.refresh_token(jar, {"X-CSRF-Token": "d"}) is None
    assert cookies.refresh_token(jar, {}) is None
    assert cookies.refresh_token({"refresh_token": "r"}, {"X-CSRF-Token": ""}) is None


def test_cookie_settings_fail_at_start_up() -> None:
    with pytest.raises(ConfigurationError):
        TokenCookies(samesite="lax")
    with pytest.raises(ConfigurationError):
        TokenCookies(access="same", refresh="same")
    with pytest.raises(ConfigurationError):
        TokenCookies(samesite="None").set(
            TokenIssuer(StaticKey(b"s" * 32, algorithm="HS256")).issue_pair("a"), secure=False
        )
    with pytest.raises(ConfigurationError):
        jwt_required(optional=True, scopes=["a"])


def test_set_cookie_headers_for_frameworks_without_a_helper() -> None:
    pair = TokenIssuer(StaticKey(b"s" * 32, algorithm="HS256"), access_ttl=300).issue_pair("a")
    access, refresh, csrf = (cookie.header() for cookie in TokenCookies().set(pair, secure=True))
    assert access.startswith(f"access_token={pair.access_token};")
    for header in (access, refresh):
        assert all(part in header for part in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"))
    assert "Max-Age=300" in access and "HttpOnly" not in csrf
