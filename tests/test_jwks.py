"""RemoteJWKS against a real HTTP server on loopback: caching, rotation, kid floods,
outages, slow servers, hostile documents, discovery. Behaviour runs through both
adapters; concurrency runs in real threads and real tasks."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from jwt_middleware import (
    AuthEvent,
    ConfigurationError,
    KeysUnavailable,
    RemoteJWKS,
    UnknownKey,
    Verifier,
)
from jwt_middleware.asgi import JWTMiddleware as ASGIMiddleware
from jwt_middleware.wsgi import JWTMiddleware as WSGIMiddleware

from .conftest import (
    AdapterClient,
    FakeClock,
    Keys,
    TokenFactory,
    asgi_echo,
    wsgi_echo,
)
from .docserver import DocumentServer
from .helpers import bearer, public_jwk

Adapter = Callable[..., AdapterClient]


@pytest.fixture(name="make_token")
def unique_tokens(unique_token: TokenFactory) -> TokenFactory:
    return unique_token  # every request here should reach the key resolver


@pytest.fixture
def jwks(keys: Keys, docserver: DocumentServer) -> DocumentServer:
    docserver.serve("/jwks", {"keys": [public_jwk(keys, "RS256", "k1")]})
    return docserver


def remote(
    server: DocumentServer, clock: FakeClock, path: str = "/jwks", **options: Any
) -> RemoteJWKS:
    return RemoteJWKS(server.url(path), clock=clock, **options)


class TestCaching:
    def test_many_requests_one_fetch(
        self, adapter: Adapter, jwks: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        client = adapter(Verifier(remote(jwks, clock), clock=clock), warm_start=False)
        for _ in range(25):
            assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 200
        assert jwks.count("/jwks") == 1

    def test_cache_ttl(self, jwks: DocumentServer, clock: FakeClock) -> None:
        resolver = remote(jwks, clock, cache_ttl=300)
        resolver.resolve({"kid": "k1"}, {})
        clock.advance(299)
        resolver.resolve({"kid": "k1"}, {})
        assert jwks.count("/jwks") == 1
        clock.advance(2)
        resolver.resolve({"kid": "k1"}, {})
        assert jwks.count("/jwks") == 2

    @pytest.mark.parametrize(
        ("max_age", "fresh_for"),
        [
            pytest.param("max-age=120", 120, id="honoured"),
            pytest.param("public, max-age=3600, must-revalidate", 3600, id="among-directives"),
            pytest.param("max-age=1", 30, id="clamped-up-to-cooldown"),
            pytest.param("max-age=99999999", 86400, id="clamped-down-to-a-day"),
            pytest.param("no-cache", 300, id="no-max-age-uses-cache-ttl"),
        ],
    )
    def test_cache_control(
        self, keys: Keys, docserver: DocumentServer, clock: FakeClock, max_age: str, fresh_for: int
    ) -> None:
        docserver.serve(
            "/jwks", {"keys": [public_jwk(keys, "RS256", "k1")]}, headers={"Cache-Control": max_age}
        )
        resolver = remote(docserver, clock)
        resolver.resolve({"kid": "k1"}, {})
        clock.advance(fresh_for - 1)
        resolver.resolve({"kid": "k1"}, {})
        assert docserver.count("/jwks") == 1
        clock.advance(2)
        resolver.resolve({"kid": "k1"}, {})
        assert docserver.count("/jwks") == 2


class TestRotation:
    def test_new_key_appears_old_one_disappears(
        self,
        adapter: Adapter,
        keys: Keys,
        jwks: DocumentServer,
        clock: FakeClock,
        make_token: TokenFactory,
    ) -> None:
        events: list[AuthEvent] = []
        client = adapter(
            Verifier(remote(jwks, clock), clock=clock), warm_start=False, on_decision=events.append
        )
        assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 200
        jwks.serve("/jwks", {"keys": [public_jwk(keys, "ES256", "k2")]})  # rotated
        clock.advance(31)  # past the cooldown, still inside the cache TTL
        assert client.get("/", bearer(make_token("ES256", kid="k2"))).status == 200
        assert jwks.count("/jwks") == 2
        reply = client.get("/", bearer(make_token("RS256", kid="k1")))
        assert reply.status == 401
        assert events[-1].reason == "unknown_key"
        assert jwks.count("/jwks") == 2  # inside the cooldown: no third fetch

    def test_kid_still_unknown_after_refetch(self, jwks: DocumentServer, clock: FakeClock) -> None:
        resolver = remote(jwks, clock)
        resolver.resolve({"kid": "k1"}, {})
        clock.advance(31)
        assert resolver.resolve({"kid": "nope"}, {}) == ()
        assert jwks.count("/jwks") == 2

    def test_no_kid_with_one_key(self, jwks: DocumentServer, clock: FakeClock) -> None:
        resolver = remote(jwks, clock)
        assert len(resolver.resolve({}, {})) == 1


class TestFloods:
    def test_random_kids_cause_a_couple_of_fetches(
        self, adapter: Adapter, jwks: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        client = adapter(Verifier(remote(jwks, clock), clock=clock), warm_start=False)
        for i in range(1000):
            kid = secrets.token_hex(8)
            assert client.get("/", bearer(make_token("RS256", kid=kid))).status == 401
            if i == 500:
                clock.advance(31)  # one more fetch becomes allowed, and only one
        assert jwks.count("/jwks") == 2

    def test_threads_share_one_fetch(self, jwks: DocumentServer, clock: FakeClock) -> None:
        jwks.serve("/jwks", jwks.body("/jwks"), delay=0.3)
        resolver = remote(jwks, clock)
        start = threading.Barrier(40)

        def resolve(_: int) -> int:
            start.wait(timeout=5)
            return len(resolver.resolve({"kid": "k1"}, {}))

        with ThreadPoolExecutor(max_workers=40) as pool:
            assert list(pool.map(resolve, range(40))) == [1] * 40
        assert jwks.count("/jwks") == 1

    @pytest.mark.anyio
    async def test_tasks_share_one_fetch(self, jwks: DocumentServer, clock: FakeClock) -> None:
        jwks.serve("/jwks", jwks.body("/jwks"), delay=0.3)
        resolver = remote(jwks, clock)
        results = await asyncio.gather(*(resolver.aresolve({"kid": "k1"}, {}) for _ in range(40)))
        assert [len(keys) for keys in results] == [1] * 40
        assert jwks.count("/jwks") == 1

    @pytest.mark.anyio
    async def test_random_kid_tasks(self, jwks: DocumentServer, clock: FakeClock) -> None:
        resolver = remote(jwks, clock)
        await resolver.aresolve({"kid": "k1"}, {})
        jwks.serve("/jwks", jwks.body("/jwks"), delay=0.2)
        clock.advance(31)
        results = await asyncio.gather(
            *(resolver.aresolve({"kid": secrets.token_hex(6)}, {}) for _ in range(200))
        )
        assert all(keys == () for keys in results)
        assert jwks.count("/jwks") == 2


class TestOutages:
    def test_warm_cache_survives_an_outage(
        self, adapter: Adapter, jwks: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        client = adapter(Verifier(remote(jwks, clock), clock=clock), warm_start=False)
        assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 200
        jwks.serve("/jwks", b"upstream down", status=500)
        clock.advance(301)  # keys expired: a refresh is due, and fails
        for _ in range(20):
            assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 200
        assert jwks.count("/jwks") == 2  # one failed refresh, not one per request
        clock.advance(31)
        assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 200
        assert jwks.count("/jwks") == 3  # retried after the cooldown

    def test_stale_keys_end_after_max_stale(
        self, adapter: Adapter, jwks: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        client = adapter(
            Verifier(remote(jwks, clock, max_stale=600), clock=clock), warm_start=False
        )
        assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 200
        jwks.serve("/jwks", b"", status=503)
        clock.advance(300 + 599)
        assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 200
        clock.advance(2)
        assert client.get("/", bearer(make_token("RS256", kid="k1"))).status == 503

    def test_cold_outage_is_503_not_401(
        self,
        adapter: Adapter,
        docserver: DocumentServer,
        clock: FakeClock,
        make_token: TokenFactory,
    ) -> None:
        docserver.serve("/jwks", b"", status=502)
        client = adapter(Verifier(remote(docserver, clock), clock=clock), warm_start=False)
        reply = client.get("/", bearer(make_token("RS256", kid="k1")))
        assert reply.status == 503
        assert reply.header("Retry-After") == "30"
        assert reply.json()["error"] == "temporarily_unavailable"
        clock.advance(10)
        reply = client.get("/", bearer(make_token("RS256", kid="k1")))
        assert (reply.status, reply.header("Retry-After")) == (503, "20")
        assert docserver.count("/jwks") == 1

    @pytest.mark.anyio
    @pytest.mark.parametrize("driver", ["sync", "async"])
    async def test_dripping_server_hits_the_total_timeout(
        self, jwks: DocumentServer, clock: FakeClock, driver: str
    ) -> None:
        # ~1 KB at 64 B per 0.1 s: a valid JWKS in the end, so only the total deadline
        # can make this fail
        jwks.serve("/jwks", jwks.body("/jwks"), drip=0.1)
        resolver = remote(jwks, clock, timeout=0.5)
        if driver == "sync":
            with pytest.raises(KeysUnavailable):
                resolver.resolve({"kid": "k1"}, {})
        else:
            with pytest.raises(KeysUnavailable):
                await resolver.aresolve({"kid": "k1"}, {})

    def test_unreachable_server(self, clock: FakeClock) -> None:
        with socket_closed_port() as port:
            resolver = RemoteJWKS(f"http://127.0.0.1:{port}/jwks", clock=clock, timeout=1)
            with pytest.raises(KeysUnavailable):
                resolver.resolve({"kid": "k1"}, {})

    @pytest.mark.anyio
    async def test_slow_fetch_does_not_block_the_event_loop(
        self, keys: Keys, jwks: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        verifier = Verifier(remote(jwks, clock), clock=clock)
        app = ASGIMiddleware(asgi_echo, verifier=verifier, warm_start=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (
                await client.get("/", headers=dict(bearer(make_token("RS256", kid="k1"))))
            ).status_code == 200
            rotated = {"keys": [public_jwk(keys, "RS256", "k1"), public_jwk(keys, "ES256", "k2")]}
            jwks.serve("/jwks", rotated, delay=1.5)
            clock.advance(31)
            started = time.monotonic()
            slow = asyncio.create_task(
                client.get("/", headers=dict(bearer(make_token("ES256", kid="k2"))))
            )
            await asyncio.sleep(0.1)  # the refetch for k2 is now hanging
            fast = await client.get("/", headers=dict(bearer(make_token("RS256", kid="k1"))))
            assert fast.status_code == 200
            assert not slow.done()  # answered while the refetch still hangs
            assert (await slow).status_code == 200
        assert time.monotonic() - started >= 1.4
        assert jwks.count("/jwks") == 2


class socket_closed_port:
    """A loopback port with nothing listening."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        return self.port

    def __exit__(self, *exc: object) -> None:
        return None


class TestHostileDocuments:
    @pytest.mark.parametrize(
        ("body", "options"),
        [
            pytest.param(b"not json", {}, id="not-json"),
            pytest.param(b"[1, 2]", {}, id="array"),
            pytest.param(b'{"keys": "x"}', {}, id="keys-not-list"),
            pytest.param(b'{"keys": []}', {}, id="no-keys"),
            pytest.param(b'{"nokeys": []}', {}, id="no-keys-member"),
            pytest.param(
                b'{"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]}',
                {},
                id="only-encryption-keys",
            ),
            pytest.param(b"\xff\xfe{}", {}, id="not-utf8"),
            pytest.param(b'{"keys": [' + b" " * 300_000 + b"]}", {}, id="oversized"),
            pytest.param(
                b'{"keys": [' + b" " * 300_000 + b"]}",
                {"send_length": False},
                id="oversized-without-length",
            ),
            pytest.param(b"{}", {"headers": {"Content-Encoding": "gzip"}}, id="compressed"),
            pytest.param(
                b"{}",
                {"status": 302, "headers": {"Location": "/jwks2"}},
                id="redirect-not-followed",
            ),
        ],
    )
    def test_unusable_documents_are_an_outage(
        self, docserver: DocumentServer, clock: FakeClock, body: bytes, options: dict[str, Any]
    ) -> None:
        docserver.serve("/jwks", body, **options)
        resolver = remote(docserver, clock)
        with pytest.raises(KeysUnavailable):
            resolver.resolve({"kid": "k1"}, {})

    def test_bad_keys_are_skipped(
        self,
        keys: Keys,
        docserver: DocumentServer,
        clock: FakeClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        document = {
            "keys": [
                public_jwk(keys, "RS256", "enc", use="enc"),
                {"kty": "OKP", "crv": "Ed25519", "x": "AA", "kid": "ed"},
                {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "broken"},
                {"kty": "RSA", "kid": "pss", "alg": "PS256", "n": "AQAB", "e": "AQAB"},
                public_jwk(keys, "ES256", "good"),
            ]
        }
        docserver.serve("/jwks", document)
        resolver = remote(docserver, clock)
        assert [key.kid for key in resolver.resolve({"kid": "good"}, {})] == ["good"]
        assert resolver.resolve({"kid": "enc"}, {}) == ()
        assert caplog.text.count("skipping key") == 4

    def test_alg_pins_the_algorithm(
        self, keys: Keys, docserver: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        docserver.serve("/jwks", {"keys": [public_jwk(keys, "RS256", "k1", alg="RS256")]})
        verifier = Verifier(remote(docserver, clock), clock=clock)
        token = make_token("RS256", kid="k1")
        assert verifier.verify(token)["sub"] == "alice"
        from jwt_middleware import DisallowedAlgorithm

        with pytest.raises(DisallowedAlgorithm):
            verifier.verify(make_token("ES256", kid="k1"))

    def test_redirects_when_allowed(self, jwks: DocumentServer, clock: FakeClock) -> None:
        jwks.serve("/old", b"", status=301, headers={"Location": "/jwks"})
        resolver = remote(jwks, clock, path="/old", allow_redirects=True)
        assert len(resolver.resolve({"kid": "k1"}, {})) == 1

    @pytest.mark.parametrize("target", ["ftp://127.0.0.1:9/jwks", "file:///etc/passwd"])
    def test_redirect_to_unsafe_url_is_not_followed(
        self, docserver: DocumentServer, clock: FakeClock, target: str
    ) -> None:
        # (targets chosen so that even a regression sends no traffic off this machine;
        # the http-to-a-remote-host rule itself is covered by TestConfiguration)
        docserver.serve("/jwks", b"", status=302, headers={"Location": target})
        resolver = remote(docserver, clock, allow_redirects=True, timeout=1)
        with pytest.raises(KeysUnavailable):
            resolver.resolve({"kid": "k1"}, {})

    def test_token_urls_are_never_followed(
        self, jwks: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        verifier = Verifier(remote(jwks, clock), clock=clock)
        header = {"jku": jwks.url("/evil-jku"), "x5u": jwks.url("/evil-x5u")}
        with pytest.raises(UnknownKey):
            verifier.verify(make_token("RS256", kid="attacker", header=header))
        assert jwks.count("/evil-jku") == jwks.count("/evil-x5u") == 0


class TestConfiguration:
    @pytest.mark.parametrize(
        "url",
        [
            "https://idp.example/jwks",
            "http://127.0.0.1:9/jwks",
            "http://localhost/jwks",
            "http://[::1]:8080/jwks",
            "http://127.8.9.10/jwks",
        ],
    )
    def test_safe_urls(self, url: str) -> None:
        RemoteJWKS(url)

    @pytest.mark.parametrize(
        "url",
        [
            "http://idp.example/jwks",
            "ftp://idp.example/jwks",
            "https:///jwks",
            "file:///etc/passwd",
            "jwks.json",
            "http://10.0.0.1/jwks",
            "http://localhost.evil/jwks",
        ],
    )
    def test_unsafe_urls(self, url: str) -> None:
        with pytest.raises(ConfigurationError):
            RemoteJWKS(url)

    @pytest.mark.parametrize(
        "options",
        [
            {"cache_ttl": 0},
            {"refresh_cooldown": -1},
            {"timeout": 0},
            {"max_stale": -1},
            {"max_bytes": 10},
            {"cache_ttl": True},
        ],
    )
    def test_bad_options(self, options: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            RemoteJWKS("https://idp.example/jwks", **options)


class TestDiscovery:
    def serve_discovery(self, server: DocumentServer, issuer: str, jwks_uri: str) -> None:
        server.serve(
            "/.well-known/openid-configuration",
            {
                "issuer": issuer,
                "jwks_uri": jwks_uri,
                "id_token_signing_alg_values_supported": ["RS256"],
            },
        )

    def test_discovers_jwks_uri(
        self, adapter: Adapter, jwks: DocumentServer, clock: FakeClock, make_token: TokenFactory
    ) -> None:
        issuer = jwks.base_url
        self.serve_discovery(jwks, issuer, jwks.url("/jwks"))
        resolver = RemoteJWKS.discover(issuer, clock=clock)
        assert resolver.url is None
        client = adapter(Verifier(resolver, issuer=issuer, clock=clock), warm_start=False)
        for _ in range(5):
            assert client.get("/", bearer(make_token("RS256", kid="k1", iss=issuer))).status == 200
        assert resolver.url == jwks.url("/jwks")
        assert (jwks.count("/.well-known/openid-configuration"), jwks.count("/jwks")) == (1, 1)

    def test_trailing_slash_issuer(self, jwks: DocumentServer, clock: FakeClock) -> None:
        issuer = jwks.base_url + "/"
        self.serve_discovery(jwks, issuer, jwks.url("/jwks"))
        assert len(RemoteJWKS.discover(issuer, clock=clock).resolve({"kid": "k1"}, {})) == 1

    @pytest.mark.parametrize(
        ("issuer_in_document", "jwks_uri"),
        [
            pytest.param("https://evil.example", None, id="issuer-mismatch"),
            pytest.param(None, "ftp://127.0.0.1:9/jwks", id="jwks-uri-not-http"),
            pytest.param(None, 42, id="jwks-uri-not-string"),
        ],
    )
    def test_bad_discovery_is_an_outage(
        self,
        adapter: Adapter,
        jwks: DocumentServer,
        clock: FakeClock,
        make_token: TokenFactory,
        issuer_in_document: str | None,
        jwks_uri: Any,
    ) -> None:
        issuer = jwks.base_url
        self.serve_discovery(jwks, issuer_in_document or issuer, jwks_uri or jwks.url("/jwks"))
        client = adapter(
            Verifier(RemoteJWKS.discover(issuer, clock=clock), clock=clock), warm_start=False
        )
        assert client.get("/", bearer(make_token("RS256", kid="k1", iss=issuer))).status == 503
        assert jwks.count("/jwks") == 0


class TestWarmStart:
    def test_asgi_lifespan_fetches_before_the_first_request(
        self, jwks: DocumentServer, clock: FakeClock
    ) -> None:
        from starlette.testclient import TestClient

        app = ASGIMiddleware(lifespan_app, verifier=Verifier(remote(jwks, clock), clock=clock))
        with TestClient(app):
            assert jwks.count("/jwks") == 1

    def test_wsgi_fetches_in_the_background(self, jwks: DocumentServer, clock: FakeClock) -> None:
        WSGIMiddleware(wsgi_echo, verifier=Verifier(remote(jwks, clock), clock=clock))
        deadline = time.monotonic() + 5
        while jwks.count("/jwks") == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert jwks.count("/jwks") == 1

    def test_warm_start_failure_does_not_stop_start_up(
        self, docserver: DocumentServer, clock: FakeClock
    ) -> None:
        from starlette.testclient import TestClient

        docserver.serve("/jwks", b"", status=500)
        app = ASGIMiddleware(lifespan_app, verifier=Verifier(remote(docserver, clock)))
        with TestClient(app) as client:
            assert client.get("/").status_code == 401  # no token: keys are not even needed
        assert docserver.count("/jwks") == 1


async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    await asgi_echo(scope, receive, send)
