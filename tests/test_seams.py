"""Regression tests for what real servers, frameworks and an attacker found at the
seams (the field-fixes issue): each names the hole it closes, through both adapters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client as WerkzeugClient

from jwt_middleware import BearerHeader, Cookie, Verifier
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi

from .conftest import AdapterClient, TokenFactory, asgi_echo, wsgi_echo
from .helpers import assert_refused, bearer, call_asgi

Adapter = Callable[..., AdapterClient]


class TestRootPath:
    """Exempt entries match the path the app routes on, never a client-chosen prefix."""

    @pytest.fixture
    def app(self, hs_verifier: Verifier) -> jwt_asgi.JWTMiddleware:
        return jwt_asgi.JWTMiddleware(
            asgi_echo, verifier=hs_verifier, exempt=["/public/", "/health", "/"]
        )

    @pytest.mark.parametrize("kind", ["http", "websocket"])
    def test_daphne_root_path_header_cannot_open_admin(
        self, app: jwt_asgi.JWTMiddleware, kind: str
    ) -> None:
        # Daphne-Root-Path: /public + GET /public/admin: Starlette routes /admin.
        reply = call_asgi(app, "/public/admin", root_path="/public", kind=kind)
        assert reply.status == 401

    @pytest.mark.parametrize(
        ("path", "root_path", "status"),
        [
            pytest.param("/api/health", "/api", 200, id="mounted-exempt"),
            pytest.param("/api/public/logo.png", "/api", 200, id="mounted-prefix"),
            pytest.param("/api/admin", "/api", 401, id="mounted-protected"),
            pytest.param("/api/", "/api", 200, id="mounted-root-is-/"),
            pytest.param("/api", "/api", 401, id="the-mount-point-itself-is-not-/"),
            pytest.param("/health", "/api", 401, id="root-path-missing-from-path"),
            pytest.param("/apiary/health", "/api", 401, id="root-path-not-at-a-boundary"),
            pytest.param("/public/sub/admin", "/sub", 401, id="root-path-inside-the-path"),
            pytest.param("/api/health", "/api/", 401, id="root-path-with-trailing-slash"),
            pytest.param("/health", "", 200, id="no-root-path"),
        ],
    )
    def test_route_path(
        self, app: jwt_asgi.JWTMiddleware, path: str, root_path: str, status: int
    ) -> None:
        assert call_asgi(app, path, root_path=root_path).status == status

    @pytest.mark.parametrize(
        ("exempt", "path", "status"),
        [
            pytest.param(["/health"], "/health", 200, id="entry-is-mount-relative"),
            pytest.param(["/api/health"], "/health", 401, id="full-path-entry-does-not-match"),
        ],
    )
    def test_wsgi_and_asgi_agree_under_a_mount(
        self, hs_verifier: Verifier, exempt: list[str], path: str, status: int
    ) -> None:
        wsgi = jwt_wsgi.JWTMiddleware(wsgi_echo, verifier=hs_verifier, exempt=exempt)
        reply = WerkzeugClient(wsgi).get(path, base_url="http://testserver/api")
        assert reply.status_code == status
        asgi = jwt_asgi.JWTMiddleware(asgi_echo, verifier=hs_verifier, exempt=exempt)
        assert call_asgi(asgi, "/api" + path, root_path="/api").status == status


class TestPreflight:
    PREFLIGHT = (("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET"))

    def test_an_options_request_never_runs_the_app_without_a_token(
        self, adapter: Adapter, hs_verifier: Verifier
    ) -> None:
        client = adapter(hs_verifier)
        assert_refused(
            client.request("OPTIONS", "/data", self.PREFLIGHT),
            401,
            "missing_token",
            challenge_error=None,
        )
        assert client.request("OPTIONS", "/data").status == 401

    def test_pass_through_is_opt_in(self, adapter: Adapter, hs_verifier: Verifier) -> None:
        client = adapter(hs_verifier, allow_preflight=True)
        assert client.request("OPTIONS", "/data", self.PREFLIGHT).status == 200
        assert client.request("OPTIONS", "/data").status == 401


class TestCookieReadings:
    """The middleware and every framework must read the same token from a Cookie header."""

    @pytest.fixture
    def client(self, adapter: Adapter, hs_verifier: Verifier) -> AdapterClient:
        return adapter(hs_verifier, sources=[Cookie("access_token")])

    @pytest.mark.parametrize(
        "template",
        [
            pytest.param('access_token={A}; x="; access_token={V}; y="', id="quote-hides-second"),
            pytest.param('x="; access_token={V}; y="', id="inside-another-quoted-value"),
            pytest.param('access_token="{V}"', id="quoted-value"),
            pytest.param("access_token={V}; access_token=", id="second-empty"),
            pytest.param("access_token={A}; access_token={V}", id="two-plain"),
            pytest.param("access_token={V};access_token={V}", id="the-same-twice"),
            pytest.param("a=1; access_token={V}\\; access_token={A}", id="escaped-semicolon"),
        ],
    )
    def test_ambiguous_is_400(
        self, client: AdapterClient, make_token: TokenFactory, template: str
    ) -> None:
        cookie = template.format(A=make_token(sub="attacker"), V=make_token(sub="victim"))
        reply = client.get("/", [("Cookie", cookie)])
        assert_refused(reply, 400, "invalid_request", challenge_error="invalid_request")

    @pytest.mark.parametrize(
        ("template", "status"),
        [
            pytest.param("access_token={V}", 200, id="plain"),
            pytest.param(' other="a;b"; access_token={V} ', 200, id="beside-quoted-other"),
            pytest.param("access_token=", 401, id="emptied-is-absent"),
            pytest.param("access_tokens={V}", 401, id="another-name"),
        ],
    )
    def test_unambiguous(
        self, client: AdapterClient, make_token: TokenFactory, template: str, status: int
    ) -> None:
        reply = client.get("/", [("Cookie", template.format(V=make_token()))])
        assert reply.status == status

    def test_two_cookie_headers_count_together(
        self, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        app = jwt_asgi.JWTMiddleware(
            asgi_echo, verifier=hs_verifier, sources=[Cookie("access_token")]
        )
        headers = [("Cookie", f"access_token={make_token()}"), ("Cookie", 'x="; access_token=z')]
        assert call_asgi(app, "/", headers=headers).status == 400

    def test_quoted_csrf_cookie_is_no_proof(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, sources=[Cookie("access_token")])
        token = make_token()
        good = [("Cookie", f"access_token={token}; csrf_token=abc"), ("X-CSRF-Token", "abc")]
        assert client.request("POST", "/", good).status == 200
        quoted = [("Cookie", f'access_token={token}; csrf_token="abc"'), ("X-CSRF-Token", "abc")]
        assert client.request("POST", "/", quoted).status == 403


class TestBearerLookAlikes:
    @pytest.mark.parametrize(
        "value",
        [
            pytest.param("Bearer\t{T}", id="tab"),
            pytest.param("Bearer:{T}", id="colon"),
            pytest.param("Bearer={T}", id="equals"),
            pytest.param("Bearer\x7f{T}", id="del"),
            pytest.param("bearer,{T}", id="comma"),
            pytest.param("BEARER\t\t{T}", id="upper-tabs"),
        ],
    )
    def test_malformed_not_absent(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory, value: str
    ) -> None:
        # A planted cookie must not be reached through a misspelt header.
        client = adapter(hs_verifier, sources=[BearerHeader(), Cookie("access_token")])
        headers = [
            ("Authorization", value.format(T=make_token(sub="victim"))),
            ("Cookie", f"access_token={make_token(sub='attacker')}"),
        ]
        assert_refused(
            client.get("/", headers), 400, "invalid_request", challenge_error="invalid_request"
        )

    def test_other_schemes_stay_absent(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, sources=[BearerHeader(), Cookie("access_token")])
        headers = [("Authorization", "Basic dTpw"), ("Cookie", f"access_token={make_token()}")]
        assert client.get("/", headers).status == 200
        assert client.get("/", [("Authorization", f"Bearer   {make_token()}")]).status == 200


class TestQueryToken:
    @pytest.mark.parametrize(
        ("method", "path", "headers"),
        [
            pytest.param("GET", "/health?access_token=x", (), id="exempt-path"),
            pytest.param(
                "OPTIONS",
                "/data?access_token=x",
                (("Access-Control-Request-Method", "GET"),),
                id="preflight",
            ),
        ],
    )
    def test_refused_whatever_the_route(
        self, adapter: Adapter, hs_verifier: Verifier, method: str, path: str, headers: Any
    ) -> None:
        client = adapter(hs_verifier, exempt=["/health"], allow_preflight=True)
        reply = client.request(method, path, list(headers))
        assert_refused(reply, 400, "invalid_request", challenge_error="invalid_request")


def test_method_is_quoted_in_logs(hs_verifier: Verifier, caplog: pytest.LogCaptureFixture) -> None:
    # werkzeug's development server hands such a method on as it came.
    app = jwt_wsgi.JWTMiddleware(wsgi_echo, verifier=hs_verifier)
    environ = {"REQUEST_METHOD": "GE\x1b[2JT", "PATH_INFO": "/", "wsgi.url_scheme": "http"}
    with caplog.at_level(logging.INFO, logger="jwt_middleware"):
        app(environ, lambda status, headers: None)
    assert "\x1b" not in caplog.text
    assert "'GE\\x1b[2JT'" in caplog.text


def test_bearer_header_then_cookie(
    adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    client = adapter(hs_verifier, sources=[BearerHeader(), Cookie("access_token")])
    assert client.get("/", bearer(make_token())).status == 200
