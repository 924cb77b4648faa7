"""Regression tests for what real servers, frameworks and an attacker found at the
seams (the field-fixes issue): each names the hole it closes, through both adapters."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client as WerkzeugClient

from jwt_middleware import (
    BearerHeader,
    ConfigurationError,
    Cookie,
    DisallowedAlgorithm,
    InsufficientScope,
    InvalidToken,
    KeySet,
    KeysUnavailable,
    NotYetValid,
    RemoteJWKS,
    StaticKey,
    TokenIssuer,
    TokenTooLarge,
    UnsupportedConfirmation,
    Verifier,
)
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi

from .conftest import (
    NOW,
    AdapterClient,
    Keys,
    TokenFactory,
    asgi_echo,
    b64url,
    wsgi_echo,
)
from .helpers import assert_refused, bearer, call_asgi, rsa_jwk

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


class TestConfirmationClaims:
    @pytest.mark.parametrize(
        "cnf",
        [
            pytest.param({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, id="dpop-jkt"),
            pytest.param({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}, id="mtls"),
            pytest.param({}, id="empty"),
        ],
    )
    def test_unchecked_cnf_is_refused(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory, cnf: Any
    ) -> None:
        reply = adapter(hs_verifier).get("/", bearer(make_token(cnf=cnf)))
        assert_refused(reply, 401, "invalid_token", challenge_error="invalid_token")

    def test_stable_reason(self, hs_verifier: Verifier, make_token: TokenFactory) -> None:
        with pytest.raises(UnsupportedConfirmation) as refused:
            hs_verifier.verify(make_token(cnf={"jkt": "x"}))
        assert refused.value.reason == "unsupported_confirmation"


class TestBigTokensAndSkew:
    def test_entra_sized_token_passes_by_default(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        groups = [str(uuid.UUID(int=n)) for n in range(200)]  # ~11 KB once signed
        token = make_token(groups=groups)
        assert 10_000 < len(token) < 16_384
        assert adapter(hs_verifier).get("/", bearer(token)).status == 200

    def test_oversized_has_its_own_reason(self, hs_verifier: Verifier) -> None:
        with pytest.raises(TokenTooLarge) as refused:
            hs_verifier.verify("a" * 16_385)
        assert refused.value.reason == "too_large"

    @pytest.mark.parametrize(
        ("claims", "ok"),
        [
            pytest.param({"iat": NOW + 2, "nbf": NOW + 2}, True, id="issuer-2s-ahead"),
            pytest.param({"iat": NOW + 10, "nbf": NOW + 10}, True, id="10s-ahead"),
            pytest.param({"iat": NOW + 11}, False, id="iat-11s-ahead"),
            pytest.param({"nbf": NOW + 11}, False, id="nbf-11s-ahead"),
            pytest.param({"exp": NOW}, False, id="exp-stays-strict"),
        ],
    )
    def test_default_clock_skew(
        self, hs_verifier: Verifier, make_token: TokenFactory, claims: Any, ok: bool
    ) -> None:
        token = make_token(**claims)
        if ok:
            hs_verifier.verify(token)
        else:
            with pytest.raises(InvalidToken):
                hs_verifier.verify(token)

    def test_clock_skew_can_be_set(self, keys: Keys, make_token: TokenFactory) -> None:
        strict = Verifier(keys.verification_key("HS256"), clock_skew=0, clock=lambda: NOW)
        with pytest.raises(NotYetValid):
            strict.verify(make_token(iat=NOW + 2))
        with pytest.raises(ConfigurationError):
            Verifier(keys.verification_key("HS256"), clock_skew=-1)


class TestMisuse:
    def test_insufficient_scope_takes_a_scope_string(self) -> None:
        assert InsufficientScope("admin").required == ("admin",)
        assert InsufficientScope("read write").required == ("read", "write")
        with pytest.raises(ConfigurationError):
            InsufficientScope(['bad"scope'])

    def test_flask_require_scopes_raises_configuration_error(self) -> None:
        from jwt_middleware.flask import require_scopes

        with pytest.raises(ConfigurationError):
            require_scopes()

    def test_issuer_caches_no_refresh_token(self, keys: Keys) -> None:
        issuer = TokenIssuer(StaticKey(keys.signing_material("HS256"), "HS256"))
        assert issuer._refresh_verifier.cache is None
        assert issuer._access_verifier.cache is None

    def test_a_jwks_given_as_one_key(self, keys: Keys) -> None:
        jwks = {"keys": [{"kty": "oct", "k": b64url(keys.secret), "alg": "HS256"}]}
        with pytest.raises(ConfigurationError, match="use KeySet"):
            StaticKey(jwks)
        with pytest.raises(ConfigurationError, match="use KeySet"):
            StaticKey(json.dumps(jwks))


def test_discovery_issuer_mismatch_names_both(
    docserver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    issuer = docserver.url("/idp")
    docserver.serve(
        "/idp/.well-known/openid-configuration",
        {"issuer": issuer + "/", "jwks_uri": docserver.url("/jwks")},
    )
    resolver = RemoteJWKS.discover(issuer)
    with caplog.at_level(logging.ERROR, logger="jwt_middleware"), pytest.raises(KeysUnavailable):
        resolver.resolve({"kid": "k"}, {})
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert repr(issuer + "/") in errors[0].getMessage()
    assert repr(issuer) in errors[0].getMessage()


class TestPSSWithUnpinnedRSAKeys:
    """oidc-provider and Authlib publish RSA keys without alg and sign PS256 with them."""

    @pytest.fixture
    def ps256(self, keys: Keys) -> str:
        header = b64url(json.dumps({"alg": "PS256", "kid": "r1"}).encode())
        payload = b64url(json.dumps({"sub": "erin", "exp": NOW + 60}).encode())
        signer = StaticKey(keys.signing_material("RS256"), "PS256")
        signature = signer.sign("PS256", f"{header}.{payload}".encode())
        return f"{header}.{payload}.{b64url(signature)}"

    def test_configured_algorithms_admit_pss(self, keys: Keys, ps256: str) -> None:
        jwks = {"keys": [rsa_jwk(keys, kid="r1")]}
        admitted = Verifier(KeySet(jwks), algorithms=["PS256", "RS256"], clock=lambda: NOW)
        assert admitted.verify(ps256)["sub"] == "erin"
        narrowed = Verifier(KeySet(jwks, algorithms=["PS256"]), clock=lambda: NOW)
        assert narrowed.verify(ps256)["sub"] == "erin"
        with pytest.raises(DisallowedAlgorithm):  # the default stays RS* for such keys
            Verifier(KeySet(jwks), clock=lambda: NOW).verify(ps256)

    def test_a_keys_own_alg_still_pins_it(self, keys: Keys, ps256: str) -> None:
        pinned = {"keys": [rsa_jwk(keys, kid="r1", alg="RS256")]}
        with pytest.raises(DisallowedAlgorithm):
            Verifier(KeySet(pinned), algorithms=["PS256"], clock=lambda: NOW).verify(ps256)
        with pytest.raises(ConfigurationError, match="no usable"):
            KeySet(pinned, algorithms=["PS256"])

    def test_remote_jwks(self, keys: Keys, ps256: str, docserver: Any) -> None:
        docserver.serve("/jwks", {"keys": [rsa_jwk(keys, kid="r1")]})
        remote = RemoteJWKS(docserver.url("/jwks"), algorithms=["PS256"])
        assert Verifier(remote, clock=lambda: NOW).verify(ps256)["sub"] == "erin"


def test_the_package_imports_no_starlette_nor_flask() -> None:
    # Runtime dependencies are what the package imports; Starlette and Flask are extras.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('starlette', 'flask'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import jwt_middleware, jwt_middleware.asgi, jwt_middleware.wsgi, jwt_middleware.cli\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
