"""The request's public origin, once: ``public_origin``, ``trusted_proxies`` and the
forwarding headers only they may set; ``require_https``; the CSRF check and DPoP's
``htu`` reading the same origin."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from jwt_middleware import (
    Cookie,
    DPoP,
    DPoPKey,
    MemoryReplayCache,
    ProtectedResource,
    TrustedProxies,
    Verifier,
)
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi
from jwt_middleware._origin import OriginPolicy
from jwt_middleware._request import RequestView
from jwt_middleware.errors import ConfigurationError

from .conftest import NOW, FakeClock, Keys, TokenFactory, asgi_echo, wsgi_echo
from .helpers import call_asgi


class View(RequestView):
    def __init__(
        self, headers: list[tuple[str, str]], client: str | None, scheme: str = "http"
    ) -> None:
        super().__init__("GET", "/", "/", scheme, "", is_websocket=False, client=client)
        self._h = headers

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self._h if k.lower() == name]

    @property
    def host(self) -> str:
        return self.header("host") or "app.internal:8000"


PROXIES = TrustedProxies(["10.0.0.0/8", "127.0.0.1"])


def origin_of(headers: list[tuple[str, str]], client: str | None, **options: Any) -> Any:
    return OriginPolicy(**options).resolve(View(headers, client))


def test_without_configuration_the_connection_decides() -> None:
    seen = origin_of([("Host", "API.example:80"), ("X-Forwarded-Proto", "https")], "1.2.3.4")
    assert (seen.scheme, seen.host, seen.client) == ("http", "api.example", "1.2.3.4")


def test_forwarding_headers_from_an_untrusted_peer_are_ignored() -> None:
    headers = [
        ("Host", "app.internal"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "api.example.com"),
        ("X-Forwarded-For", "10.0.0.9"),
    ]
    seen = origin_of(headers, "203.0.113.7", trusted_proxies=PROXIES)
    assert seen.origin == "http://app.internal"
    assert seen.client == "203.0.113.7"


def test_a_trusted_proxy_sets_scheme_host_and_client() -> None:
    headers = [
        ("Host", "app.internal"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "API.example.com:443"),
        ("X-Forwarded-For", "203.0.113.7"),
    ]
    seen = origin_of(headers, "10.1.2.3", trusted_proxies=PROXIES)
    assert seen.origin == "https://api.example.com"
    assert seen.client == "203.0.113.7"


def test_the_chain_is_walked_only_while_hops_are_trusted() -> None:
    # client -> CDN (untrusted, forged values) -> our LB 10.0.0.2 -> our proxy 10.0.0.3 -> app
    headers = [
        ("X-Forwarded-For", "198.51.100.1, 203.0.113.7, 10.0.0.2"),
        ("X-Forwarded-Proto", "http, https, https"),
    ]
    seen = origin_of(headers, "10.0.0.3", trusted_proxies=PROXIES)
    assert seen.client == "203.0.113.7"
    assert seen.scheme == "https"  # written by 10.0.0.2 for its client, 203.0.113.7
    # A client that prepends its own values changes nothing the trusted hops wrote.
    forged = [
        ("X-Forwarded-For", "10.0.0.99, 203.0.113.7"),
        ("X-Forwarded-Proto", "https, http"),
    ]
    seen = origin_of(forged, "10.0.0.3", trusted_proxies=PROXIES)
    assert (seen.client, seen.scheme) == ("203.0.113.7", "http")


def test_rfc7239_forwarded() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"], headers="forwarded")
    headers = [
        (
            "Forwarded",
            "for=198.51.100.1;proto=http;host=evil.example, "
            'for="[2001:db8::7]:4711";proto=https;host=api.example.com',
        ),
        ("X-Forwarded-Proto", "http"),  # the other kind: ignored
    ]
    seen = origin_of(headers, "10.0.0.5", trusted_proxies=proxies)
    assert seen.origin == "https://api.example.com"
    assert seen.client == "2001:db8::7"
    for broken in ['for="unterminated', "proto=https;;", "=x"]:
        seen = origin_of([("Forwarded", broken)], "10.0.0.5", trusted_proxies=proxies)
        assert seen.origin == "http://app.internal:8000", broken


@pytest.mark.parametrize(
    ("proto", "host"),
    [("javascript", "api.example"), ("https", "a b"), ("https", "x/y"), ("https", "@evil")],
)
def test_odd_forwarded_values_are_ignored(proto: str, host: str) -> None:
    headers = [("X-Forwarded-Proto", proto), ("X-Forwarded-Host", host), ("Host", "app")]
    seen = origin_of(headers, "127.0.0.1", trusted_proxies=PROXIES)
    assert seen.scheme in ("http", "https")
    assert "/" not in seen.host and " " not in seen.host and "@" not in seen.host


def test_public_origin_wins() -> None:
    headers = [("Host", "evil.example"), ("X-Forwarded-Host", "evil.example")]
    seen = origin_of(
        headers, "127.0.0.1", public_origin="https://api.example.com:443", trusted_proxies=PROXIES
    )
    assert seen.origin == "https://api.example.com"


@pytest.mark.parametrize(
    "bad",
    [
        "api.example.com",
        "https://api.example.com/path",
        "ftp://x",
        "https://u@x",
        "https://x:99999",
    ],
)
def test_public_origin_is_checked(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        OriginPolicy(public_origin=bad)


@pytest.mark.parametrize("bad", [[], ["not an address"], ["10.0.0.0/33"]])
def test_trusted_proxies_are_checked(bad: list[str]) -> None:
    with pytest.raises(ConfigurationError):
        TrustedProxies(bad)


def test_ipv4_mapped_peers_count_as_their_ipv4() -> None:
    assert PROXIES.trusts("::ffff:10.0.0.1")
    assert not PROXIES.trusts("::ffff:11.0.0.1")
    assert not PROXIES.trusts("unix:/run/app.sock")


# -- require_https, through both adapters -------------------------------------------------


def wsgi_get(
    app: Any, headers: list[tuple[str, str]], *, remote: str = "127.0.0.1", https: bool = False
) -> Any:
    environ = {"REMOTE_ADDR": remote}
    base = "https://api.example.com" if https else "http://api.example.com"
    return Client(app).get("/api", base_url=base, headers=headers, environ_overrides=environ)


def test_require_https_refuses_tokens_over_plain_http(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    token = make_token()
    wsgi = jwt_wsgi.JWTMiddleware(wsgi_echo, verifier=hs_verifier, require_https=True)
    plain = wsgi_get(wsgi, [("Authorization", f"Bearer {token}")], remote="203.0.113.7")
    assert plain.status_code == 400
    assert plain.json["error"] == "invalid_request"
    assert 'error="invalid_request"' in plain.headers["WWW-Authenticate"]
    assert wsgi_get(wsgi, [("Authorization", f"Bearer {token}")], https=True).status_code == 200
    assert wsgi_get(wsgi, []).status_code == 401  # no token: nothing crossed in clear

    asgi = jwt_asgi.JWTMiddleware(asgi_echo, verifier=hs_verifier, require_https=True)
    assert call_asgi(asgi, "/api", headers=[("Authorization", f"Bearer {token}")]).status == 400


def test_require_https_behind_a_trusted_proxy(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    token = make_token()
    headers = [
        ("Authorization", f"Bearer {token}"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-For", "203.0.113.7"),
    ]
    trusted = jwt_wsgi.JWTMiddleware(
        wsgi_echo, verifier=hs_verifier, require_https=True, trusted_proxies=["127.0.0.1"]
    )
    assert wsgi_get(trusted, headers).status_code == 200
    untrusted = jwt_wsgi.JWTMiddleware(
        wsgi_echo, verifier=hs_verifier, require_https=True, trusted_proxies=["10.0.0.1"]
    )
    assert wsgi_get(untrusted, headers).status_code == 400  # anybody can send that header
    asgi = jwt_asgi.JWTMiddleware(
        asgi_echo, verifier=hs_verifier, require_https=True, trusted_proxies=["127.0.0.1"]
    )
    assert call_asgi(asgi, "/api", headers=headers).status == 200  # call_asgi's client is 127.0.0.1


def test_loopback_may_use_http_for_development(
    hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    token = make_token()
    app = jwt_wsgi.JWTMiddleware(
        wsgi_echo, verifier=hs_verifier, require_https=True, allow_loopback_http=True
    )
    assert wsgi_get(app, [("Authorization", f"Bearer {token}")]).status_code == 200
    assert (
        wsgi_get(app, [("Authorization", f"Bearer {token}")], remote="192.0.2.1").status_code == 400
    )
    # behind a trusted proxy on loopback, the client is the forwarded one, not the proxy
    proxied = jwt_wsgi.JWTMiddleware(
        wsgi_echo,
        verifier=hs_verifier,
        require_https=True,
        allow_loopback_http=True,
        trusted_proxies=["127.0.0.1"],
    )
    headers = [("Authorization", f"Bearer {token}"), ("X-Forwarded-For", "192.0.2.1")]
    assert wsgi_get(proxied, headers).status_code == 400


# -- the CSRF check and DPoP read the same origin ----------------------------------------


def post(app: Any, headers: list[tuple[str, str]]) -> Any:
    return Client(app, use_cookies=False).post(
        "/api", base_url="http://app.internal", headers=headers
    )


def test_csrf_uses_the_public_origin(hs_verifier: Verifier, make_token: TokenFactory) -> None:
    token = make_token()
    options: dict[str, Any] = {"sources": [Cookie("access_token")]}
    headers = [("Cookie", f"access_token={token}"), ("Origin", "https://api.example.com")]
    own_host = jwt_wsgi.JWTMiddleware(wsgi_echo, verifier=hs_verifier, **options)
    # Behind a proxy the app sees http://app.internal: the browser's Origin differs.
    internal = post(own_host, headers)
    assert internal.status_code == 403
    public = jwt_wsgi.JWTMiddleware(
        wsgi_echo, verifier=hs_verifier, public_origin="https://api.example.com", **options
    )
    assert post(public, headers).status_code == 200
    proxied = jwt_wsgi.JWTMiddleware(
        wsgi_echo, verifier=hs_verifier, trusted_proxies=["127.0.0.1"], **options
    )
    forwarded = [*headers, ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.example.com")]
    reply = Client(proxied, use_cookies=False).post(
        "/api",
        base_url="http://app.internal",
        headers=forwarded,
        environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert reply.status_code == 200


def test_dpop_htu_behind_a_trusted_proxy(
    keys: Keys, clock: FakeClock, make_token: TokenFactory
) -> None:
    key = DPoPKey.generate()
    token = make_token(cnf={"jkt": key.thumbprint})

    def app(**options: Any) -> Any:
        verifier = Verifier(keys.verification_key("HS256"), clock=clock)
        dpop = DPoP(replay=MemoryReplayCache(clock=clock))
        return jwt_asgi.JWTMiddleware(asgi_echo, verifier=verifier, dpop=dpop, **options)

    def headers() -> list[tuple[str, str]]:
        proof = key.proof("GET", "https://api.example.com/api", access_token=token, iat=NOW)
        return [
            ("Host", "app.internal:8000"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "api.example.com"),
            ("Authorization", f"DPoP {token}"),
            ("DPoP", proof),
        ]

    assert call_asgi(app(trusted_proxies=["127.0.0.1"]), "/api", headers=headers()).status == 200
    assert (
        call_asgi(app(public_origin="https://api.example.com"), "/api", headers=headers()).status
        == 200
    )
    assert call_asgi(app(), "/api", headers=headers()).status == 401  # http://app.internal:8000
    assert call_asgi(app(trusted_proxies=["10.9.9.9"]), "/api", headers=headers()).status == 401


def test_the_resource_must_live_on_the_public_origin(hs_verifier: Verifier) -> None:
    resource = ProtectedResource(
        "https://api.example.com/mcp", authorization_servers=["https://idp.example"]
    )
    jwt_wsgi.JWTMiddleware(
        wsgi_echo, verifier=hs_verifier, resource=resource, public_origin="https://api.example.com"
    )
    with pytest.raises(ConfigurationError):
        jwt_wsgi.JWTMiddleware(
            wsgi_echo,
            verifier=hs_verifier,
            resource=resource,
            public_origin="https://other.example",
        )


def test_a_certificate_header_needs_trusted_proxies(hs_verifier: Verifier) -> None:
    from jwt_middleware import ClientCertificates

    with pytest.raises(ConfigurationError):
        jwt_wsgi.JWTMiddleware(
            wsgi_echo,
            verifier=hs_verifier,
            client_certificates=ClientCertificates(header="X-Client-Cert"),
        )
