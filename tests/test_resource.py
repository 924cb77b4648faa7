"""The protected resource: RFC 9728 metadata and challenges, the resource as audience
(RFC 8707, compared after RFC 3986 normalisation), and RFC 9470 step-up rules, through
both adapters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from jwt_middleware import (
    ConfigurationError,
    InvalidClaims,
    ProtectedResource,
    Rule,
    StaticKey,
    Verifier,
)
from jwt_middleware._resource import normalize_resource
from jwt_middleware.asgi import JWTMiddleware as ASGIMiddleware
from jwt_middleware.wsgi import JWTMiddleware as WSGIMiddleware

from .conftest import NOW, AdapterClient, Keys, TokenFactory, asgi_echo, wsgi_echo
from .helpers import bearer, call_asgi

RESOURCE = "https://api.example.com/mcp"
METADATA = "https://api.example.com/.well-known/oauth-protected-resource/mcp"
ISSUER = "https://auth.example.com"


def verifier(keys: Keys, **options: Any) -> Verifier:
    return Verifier(keys.verification_key("HS256"), issuer=ISSUER, clock=lambda: NOW, **options)


def resource(**options: Any) -> ProtectedResource:
    return ProtectedResource(RESOURCE, scopes_supported=["tools:read", "tools:call"], **options)


class TestMetadata:
    def test_served_at_the_inserted_and_the_plain_well_known_paths(
        self, keys: Keys, adapter: Callable[..., AdapterClient]
    ) -> None:
        client = adapter(verifier(keys), resource=resource(resource_name="Orders MCP"))
        for path in (
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ):
            reply = client.get(path)
            assert reply.status == 200
            assert reply.header("Content-Type") == "application/json"
            assert reply.header("Cache-Control") == "public, max-age=3600"
            assert reply.header("Access-Control-Allow-Origin") == "*"
            assert reply.json() == {
                "resource": RESOURCE,
                "authorization_servers": [ISSUER],
                "bearer_methods_supported": ["header"],
                "resource_signing_alg_values_supported": ["HS256"],
                "scopes_supported": ["tools:read", "tools:call"],
                "resource_name": "Orders MCP",
            }

    def test_public_whatever_the_request_carries(
        self, keys: Keys, adapter: Callable[..., AdapterClient]
    ) -> None:
        client = adapter(verifier(keys), resource=resource())
        path = "/.well-known/oauth-protected-resource/mcp"
        assert client.get(path, bearer("not-a-token")).status == 200
        head = client.request("HEAD", path)
        assert head.status == 200 and head.body == b""
        assert head.header("Content-Length") == client.get(path).header("Content-Length")
        refused = client.request("POST", path)
        assert refused.status == 405 and refused.header("Allow") == "GET, HEAD"
        preflight = client.request("OPTIONS", path)
        assert preflight.status == 204
        # Other paths are protected as before; a near miss is not the document.
        assert client.get("/.well-known/oauth-protected-resource/mcp/").status == 401
        assert client.get("/mcp").status == 401

    def test_authorization_servers_and_documentation(self, keys: Keys) -> None:
        given = ProtectedResource(
            RESOURCE,
            authorization_servers=["https://login.example.com"],
            resource_documentation="https://docs.example.com/mcp",
            max_age=60,
        ).bind(verifier(keys))
        reply = given.answer("GET", "/.well-known/oauth-protected-resource")
        assert reply is not None
        document = json.loads(reply.body)
        assert document["authorization_servers"] == ["https://login.example.com"]
        assert document["resource_documentation"] == "https://docs.example.com/mcp"
        assert ("Cache-Control", "public, max-age=60") in reply.headers
        with pytest.raises(ConfigurationError, match="authorization_servers"):
            resource().bind(Verifier(keys.verification_key("HS256")))  # no issuer to name

    def test_under_a_mount(self, keys: Keys) -> None:
        mounted = ProtectedResource(
            "https://api.example.com/tools/mcp",
            metadata_url="https://api.example.com/tools/.well-known/oauth-protected-resource",
        )
        app = ASGIMiddleware(asgi_echo, verifier=verifier(keys), resource=mounted)
        reply = call_asgi(app, "/tools/.well-known/oauth-protected-resource", root_path="/tools")
        assert (
            reply.status == 200 and reply.json()["resource"] == "https://api.example.com/tools/mcp"
        )
        # hypercorn's shape: the path without the root path
        assert (
            call_asgi(app, "/.well-known/oauth-protected-resource", root_path="/tools").status
            == 200
        )
        refused = call_asgi(app, "/tools/mcp", root_path="/tools")
        assert (
            'resource_metadata="https://api.example.com/tools/.well-known/oauth-protected-resource"'
            in refused.header("WWW-Authenticate")
        )
        wsgi = WSGIMiddleware(wsgi_echo, verifier=verifier(keys), resource=mounted)
        environ = EnvironBuilder(
            path="/.well-known/oauth-protected-resource", base_url="http://localhost/tools"
        ).get_environ()
        assert environ["SCRIPT_NAME"] == "/tools"
        _, status, _ = run_wsgi_app(wsgi, environ, buffered=True)
        assert status.startswith("200")

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda: ProtectedResource("https://api.example.com/mcp#x"), "fragment"),
            (lambda: ProtectedResource("https://api.example.com/mcp?x=1"), "query"),
            (lambda: ProtectedResource("http://api.example.com/mcp"), "https"),
            (lambda: ProtectedResource("api.example.com/mcp"), "host"),
            (
                lambda: ProtectedResource(
                    RESOURCE, metadata_url="https://evil.example/.well-known/x"
                ),
                "origin",
            ),
            (lambda: ProtectedResource(RESOURCE, max_age=-1), "max_age"),
        ],
    )
    def test_unsafe_configuration_fails_at_start(
        self, make: Callable[[], Any], message: str
    ) -> None:
        with pytest.raises(ConfigurationError, match=message):
            make()


class TestChallenges:
    def test_every_401_and_403_names_the_metadata(
        self, keys: Keys, make_token: TokenFactory, adapter: Callable[..., AdapterClient]
    ) -> None:
        client = adapter(
            verifier(keys),
            resource=resource(),
            rules=[Rule("/admin/", scopes=["tools:admin"])],
        )
        missing = client.get("/mcp")
        assert missing.status == 401
        assert missing.header("WWW-Authenticate") == (
            f'Bearer realm="api", resource_metadata="{METADATA}"'
        )
        bad = client.get(
            "/mcp", bearer(make_token(iss=ISSUER, aud="https://other.example.com/mcp"))
        )
        assert bad.status == 401
        assert f'resource_metadata="{METADATA}"' in bad.header("WWW-Authenticate")
        token = make_token(iss=ISSUER, aud=RESOURCE, scope="tools:read")
        forbidden = client.get("/admin/x", bearer(token))
        assert forbidden.status == 403
        challenge = forbidden.header("WWW-Authenticate")
        assert 'error="insufficient_scope"' in challenge
        assert challenge.endswith(f'scope="tools:admin", resource_metadata="{METADATA}"')


class TestAudience:
    def test_the_resource_is_the_default_audience(
        self, keys: Keys, make_token: TokenFactory, adapter: Callable[..., AdapterClient]
    ) -> None:
        client = adapter(verifier(keys), resource=resource())
        for aud in (RESOURCE, "HTTPS://API.Example.COM:443/mcp", ["https://x.example", RESOURCE]):
            assert client.get("/mcp", bearer(make_token(iss=ISSUER, aud=aud))).status == 200, aud
        for aud in ("https://api.example.com/other", "https://api.example.com/mcp/", None):
            reply = client.get("/mcp", bearer(make_token(iss=ISSUER, aud=aud)))
            assert reply.status == 401, aud

    def test_a_configured_audience_is_kept(
        self, keys: Keys, make_token: TokenFactory, adapter: Callable[..., AdapterClient]
    ) -> None:
        client = adapter(verifier(keys, audience="orders-api"), resource=resource())
        assert client.get("/mcp", bearer(make_token(iss=ISSUER, aud="orders-api"))).status == 200
        assert client.get("/mcp", bearer(make_token(iss=ISSUER, aud=RESOURCE))).status == 401

    @pytest.mark.parametrize(
        ("given", "normal"),
        [
            ("HTTPS://Api.Example.com/mcp", "https://api.example.com/mcp"),
            ("https://api.example.com:443/mcp", "https://api.example.com/mcp"),
            ("http://127.0.0.1:80", "http://127.0.0.1/"),
            ("https://api.example.com:8443/a%2fb%7e", "https://api.example.com:8443/a%2Fb~"),
            ("https://[::1]:443/x", "https://[::1]/x"),
            ("https://api.example.com/mcp/", "https://api.example.com/mcp/"),
            ("urn:example:orders", "urn:example:orders"),
            ("https://api.example.com:99999/", "https://api.example.com:99999/"),
        ],
    )
    def test_normalisation(self, given: str, normal: str) -> None:
        assert normalize_resource(given) == normal

    def test_plain_verifiers_compare_uris_normalised_too(
        self, keys: Keys, make_token: TokenFactory
    ) -> None:
        plain = Verifier(keys.verification_key("HS256"), audience=RESOURCE, clock=lambda: NOW)
        assert plain.verify(make_token(aud="https://API.example.com/mcp"))
        with pytest.raises(InvalidClaims):
            plain.verify(make_token(aud="https://api.example.com/MCP"))  # paths keep their case


class TestStepUp:
    RULES = (
        Rule("/payments/", acr_values=["urn:mfa", "phr"], max_age=300),
        Rule("/profile/", max_age=3600),
    )

    def test_refusals_and_their_challenge(
        self, keys: Keys, make_token: TokenFactory, adapter: Callable[..., AdapterClient]
    ) -> None:
        client = adapter(verifier(keys), resource=resource(), rules=self.RULES)
        good = {"iss": ISSUER, "aud": RESOURCE, "acr": "urn:mfa", "auth_time": NOW - 60}
        assert client.get("/payments/1", bearer(make_token(**good))).status == 200
        for change in (
            {"acr": "pwd"},
            {"acr": None},
            {"acr": ["urn:mfa"]},
            {"auth_time": NOW - 301},
            {"auth_time": None},
            {"auth_time": str(NOW)},
        ):
            reply = client.get("/payments/1", bearer(make_token(**{**good, **change})))
            assert reply.status == 401, change
            assert reply.json()["error"] == "insufficient_user_authentication"
            assert reply.header("WWW-Authenticate") == (
                'Bearer realm="api", error="insufficient_user_authentication", '
                'error_description="A stronger or more recent authentication is required", '
                f'acr_values="urn:mfa phr", max_age="300", resource_metadata="{METADATA}"'
            )
        old = make_token(**{**good, "acr": None, "auth_time": NOW - 3000})
        assert client.get("/profile/me", bearer(old)).status == 200
        assert 'max_age="3600"' in client.get(
            "/profile/me", bearer(make_token(**{**good, "auth_time": NOW - 3601}))
        ).header("WWW-Authenticate")

    def test_configuration(self) -> None:
        with pytest.raises(ConfigurationError):
            Rule("/x", public=True, max_age=5)
        with pytest.raises(ConfigurationError):
            Rule("/x", acr_values=["has space"])
        for bad in (-1, 1.5, True):
            with pytest.raises(ConfigurationError):
                Rule("/x", max_age=bad)  # type: ignore[arg-type]
        assert "acr_values=['phr'], max_age=0" in repr(Rule("/x", acr_values="phr", max_age=0))


def test_a_static_key_pins_the_advertised_algorithms(keys: Keys) -> None:
    document = resource().bind(
        Verifier(
            StaticKey(keys.signing_material("HS256"), "HS256"), issuer=ISSUER, algorithms=["HS256"]
        )
    )
    reply = document.answer("GET", "/.well-known/oauth-protected-resource/mcp")
    assert reply is not None
    assert json.loads(reply.body)["resource_signing_alg_values_supported"] == ["HS256"]


class TestMCPTokenVerifier:
    def test_access_tokens_as_the_sdk_wants_them(
        self, keys: Keys, make_token: TokenFactory
    ) -> None:
        import asyncio

        from jwt_middleware.mcp import TokenVerifier

        adapter = TokenVerifier(verifier(keys), resource=RESOURCE)
        token = make_token(
            iss=ISSUER, aud="HTTPS://api.example.com/mcp", scope="tools:call", azp="desktop"
        )
        access = asyncio.run(adapter.verify_token(token))
        assert access is not None
        assert access.client_id == "desktop" and access.subject == "alice"
        assert access.scopes == ["tools:call"] and access.resource == RESOURCE
        assert access.expires_at == NOW + 3600
        other = make_token(iss=ISSUER, aud="https://api.example.com/other")
        assert asyncio.run(adapter.verify_token(other)) is None
        assert asyncio.run(adapter.verify_token("not a token")) is None
        with pytest.raises(ConfigurationError, match="resource="):
            TokenVerifier(verifier(keys))  # no audience at all: any token of the issuer


def test_the_default_audience_keeps_every_other_setting(
    keys: Keys, make_token: TokenFactory
) -> None:
    """Settings given as one-shot iterables survive the rebuild for the resource."""
    base = Verifier(
        keys.verification_key("HS256"),
        issuer=iter([ISSUER]),
        roles_claims=iter(["roles"]),
        validators=iter([lambda claims: None if claims.get("ok") else "not_ok"]),
        clock=lambda: NOW,
    )
    rebuilt = base._with_audience(RESOURCE)
    token = make_token(iss=ISSUER, aud=RESOURCE, roles=["admin"], ok=True)
    assert rebuilt.verify_token(token).roles == ("admin",)
    with pytest.raises(InvalidClaims):
        rebuilt.verify(make_token(iss=ISSUER, aud=RESOURCE))  # the validator still runs
    with pytest.raises(InvalidClaims):
        rebuilt.verify(make_token(iss="https://other.example", aud=RESOURCE, ok=True))
