"""End to end: each example under its real server on a loopback port, driven by real
HTTP and websocket clients. Servers are started per module and always stopped."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import Keys, sign_raw
from .docserver import DocumentServer
from .helpers import public_jwk
from .servers import free_port, stop

pytestmark = pytest.mark.slow  # a system test: `pytest -m 'not slow'` skips it

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRET = "an end-to-end secret of at least 32 bytes"
START_TIMEOUT = 20.0


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[str]
    banner: str

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


def start(example: str, env: dict[str, str]) -> Server:
    port = free_port()
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("JWT_")}
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / example), "--host", "127.0.0.1", "--port", str(port)],
        env={**clean_env, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{example} exited: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        stop(process)
        raise RuntimeError(f"{example} did not listen within {START_TIMEOUT}s")
    banner = ""
    while "without a token" not in banner and "Using the keys" not in banner:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            break
        banner += line
    return Server(f"http://127.0.0.1:{port}", process, banner)


@pytest.fixture(scope="module")
def starlette_demo() -> Iterator[Server]:
    server = start("starlette_app.py", {})
    yield server
    stop(server.process)


@pytest.fixture(scope="module")
def starlette_configured() -> Iterator[Server]:
    server = start(
        "starlette_app.py",
        {"JWT_SECRET": SECRET, "JWT_ISSUER": "https://idp/", "JWT_AUDIENCE": "orders"},
    )
    yield server
    stop(server.process)


@pytest.fixture(scope="module")
def flask_configured() -> Iterator[Server]:
    server = start("flask_app.py", {"JWT_SECRET": SECRET})
    yield server
    stop(server.process)


def token(**claims: object) -> str:
    body = {"sub": "carol", "exp": int(time.time()) + 300, **claims}
    return sign_raw({"alg": "HS256", "typ": "JWT"}, body, SECRET.encode(), "HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def printed_token(server: Server) -> str:
    match = re.search(r"Authorization: Bearer ([A-Za-z0-9_.-]+)", server.banner)
    assert match, server.banner
    return match.group(1)


class TestStarletteUnderUvicorn:
    def test_demo_banner_token_works(self, starlette_demo: Server) -> None:
        demo_token = printed_token(starlette_demo)
        with httpx.Client(base_url=starlette_demo.base_url, timeout=5) as client:
            reply = client.get("/me", headers=bearer(demo_token))
            assert reply.status_code == 200
            assert reply.json()["user"] == "demo-user"
            refused = client.get("/me")
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == 'Bearer realm="starlette-example"'
            assert client.get("/health").json() == {"status": "ok"}

    def test_configured_keys_and_claims(self, starlette_configured: Server) -> None:
        with httpx.Client(base_url=starlette_configured.base_url, timeout=5) as client:
            good = token(iss="https://idp/", aud="orders", scope="write")
            assert client.get("/me", headers=bearer(good)).json()["user"] == "carol"
            assert client.post("/write", headers=bearer(good)).status_code == 201
            no_write = token(iss="https://idp/", aud="orders", scope="read")
            assert client.post("/write", headers=bearer(no_write)).status_code == 403
            wrong_aud = token(iss="https://idp/", aud="billing")
            reply = client.get("/me", headers=bearer(wrong_aud))
            assert reply.status_code == 401
            assert reply.json()["error"] == "invalid_token"
            assert client.get("/me?access_token=x", headers=bearer(good)).status_code == 400

    def test_streaming_response(self, starlette_configured: Server) -> None:
        good = token(iss="https://idp/", aud="orders")
        with (
            httpx.Client(base_url=starlette_configured.base_url, timeout=5) as client,
            client.stream("GET", "/countdown", headers=bearer(good)) as reply,
        ):
            lines = list(reply.iter_lines())
        assert lines == ["3", "2", "1", "liftoff, carol"]

    def test_websocket_accepted(self, starlette_configured: Server) -> None:
        good = token(iss="https://idp/", aud="orders", sub="dave")
        url = starlette_configured.base_url.replace("http", "ws") + "/ws"
        with connect(url, additional_headers=bearer(good), open_timeout=5) as ws:
            assert ws.recv(timeout=5) == "hello dave"
            ws.send("ping")
            assert ws.recv(timeout=5) == "ping"

    @pytest.mark.parametrize(
        ("headers", "status"),
        [({}, 401), (bearer("x.y.z"), 401), ({"Authorization": "Bearer"}, 400)],
    )
    def test_websocket_refused(
        self, starlette_configured: Server, headers: dict[str, str], status: int
    ) -> None:
        url = starlette_configured.base_url.replace("http", "ws") + "/ws"
        with (
            pytest.raises(InvalidStatus) as refused,
            connect(url, additional_headers=headers, open_timeout=5),
        ):
            pass  # pragma: no cover
        assert refused.value.response.status_code == status
        assert refused.value.response.headers["www-authenticate"].startswith("Bearer")


@pytest.fixture(scope="module")
def fastapi_configured() -> Iterator[Server]:
    server = start("fastapi_app.py", {"JWT_SECRET": SECRET, "JWT_AUDIENCE": "orders"})
    yield server
    stop(server.process)


class TestFastAPIUnderUvicorn:
    def test_docs_public_routes_protected(self, fastapi_configured: Server) -> None:
        with httpx.Client(base_url=fastapi_configured.base_url, timeout=5) as client:
            assert client.get("/docs").status_code == 200
            schema = client.get("/openapi.json").json()
            assert schema["components"]["securitySchemes"]["JWTBearer"]["scheme"] == "bearer"
            assert client.get("/health").json() == {"status": "ok"}
            refused = client.get("/me")
            assert refused.status_code == 401 and refused.json()["error"] == "missing_token"
            good = token(aud="orders", scope="read")
            assert client.get("/me", headers=bearer(good)).json()["user"] == "carol"
            forbidden = client.post("/write", headers=bearer(good))
            assert forbidden.status_code == 403 and "detail" not in forbidden.json()
            assert 'scope="write"' in forbidden.headers["www-authenticate"]
            writer = token(aud="orders", scope="write")
            assert client.post("/write", headers=bearer(writer)).status_code == 201

    def test_streaming_and_websocket(self, fastapi_configured: Server) -> None:
        good = token(aud="orders", sub="erin")
        with (
            httpx.Client(base_url=fastapi_configured.base_url, timeout=5) as client,
            client.stream("GET", "/countdown", headers=bearer(good)) as reply,
        ):
            assert list(reply.iter_lines()) == ["3", "2", "1", "liftoff, erin"]
        url = fastapi_configured.base_url.replace("http", "ws") + "/ws"
        with connect(url, additional_headers=bearer(good), open_timeout=5) as ws:
            assert ws.recv(timeout=5) == "hello erin"


@pytest.fixture(scope="module")
def django_demo() -> Iterator[Server]:
    server = start("django_app/serve.py", {})
    yield server
    stop(server.process)


class TestDjangoUnderUvicorn:
    def test_demo_token_plain_and_drf_views(self, django_demo: Server) -> None:
        demo_token = printed_token(django_demo)
        with httpx.Client(base_url=django_demo.base_url, timeout=5) as client:
            assert client.get("/health").json() == {"status": "ok"}
            refused = client.get("/me")
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == 'Bearer realm="django-example"'
            assert client.get("/me", headers=bearer(demo_token)).json()["user"] == "demo-user"
            written = client.post("/write", headers=bearer(demo_token))  # no CSRF token
            assert written.status_code == 201 and written.json() == {"written_by": "demo-user"}


class TestRemoteKeysUnderUvicorn:
    """The Starlette example with JWT_JWKS_URL: keys fetched at lifespan start-up from a
    real JWKS server, then verified without another fetch."""

    def test_jwks_url(self, keys: Keys, docserver: DocumentServer) -> None:
        jwk = {**public_jwk(keys, "ES256", "idp-1"), "alg": "ES256"}
        docserver.serve("/jwks", {"keys": [jwk]})
        server = start("starlette_app.py", {"JWT_JWKS_URL": docserver.url("/jwks")})
        try:
            assert docserver.count("/jwks") == 1  # warm start, before any request
            claims = {"sub": "erin", "exp": int(time.time()) + 300}
            good = sign_raw(
                {"alg": "ES256", "kid": "idp-1"}, claims, keys.signing_material("ES256"), "ES256"
            )
            with httpx.Client(base_url=server.base_url, timeout=5) as client:
                for _ in range(5):
                    assert client.get("/me", headers=bearer(good)).json()["user"] == "erin"
                unknown = sign_raw(
                    {"alg": "ES256", "kid": "idp-2"},
                    claims,
                    keys.signing_material("ES256"),
                    "ES256",
                )
                assert client.get("/me", headers=bearer(unknown)).status_code == 401
            # the warm-start fetch was moments ago: inside the refresh cooldown an unknown
            # kid cannot force another fetch
            assert docserver.count("/jwks") == 1
        finally:
            stop(server.process)


PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module", params=["starlette_app.py", "flask_app.py"])
def with_logins(request: pytest.FixtureRequest) -> Iterator[Server]:
    server = start(request.param, {"DEMO_USER": "ann", "DEMO_PASSWORD": PASSWORD})
    yield server
    stop(server.process)


class TestTokenLifecycle:
    """/login, /refresh and /logout of both examples, header and cookie flavours."""

    def login(self, client: httpx.Client, **extra_headers: str) -> httpx.Response:
        return client.post(
            "/login", json={"username": "ann", "password": PASSWORD}, headers=extra_headers
        )

    def test_wrong_password(self, with_logins: Server) -> None:
        with httpx.Client(base_url=with_logins.base_url, timeout=5) as client:
            reply = client.post("/login", json={"username": "ann", "password": "nope"})
            assert reply.status_code == 401
            assert "access_token" not in reply.text

    def test_header_flavour(self, with_logins: Server) -> None:
        with httpx.Client(base_url=with_logins.base_url, timeout=5) as client:
            pair = self.login(client).json()
            assert pair["token_type"] == "Bearer"
            client.cookies.clear()  # header flavour only
            assert client.get("/me", headers=bearer(pair["access_token"])).status_code == 200
            # a refresh token is not an access token
            assert client.get("/me", headers=bearer(pair["refresh_token"])).status_code == 401
            second = client.post("/refresh", json={"refresh_token": pair["refresh_token"]})
            assert second.status_code == 200
            new = second.json()
            client.cookies.clear()
            assert client.get("/me", headers=bearer(new["access_token"])).status_code == 200
            replay = client.post("/refresh", json={"refresh_token": pair["refresh_token"]})
            assert replay.status_code == 401  # reuse: the whole session is revoked
            assert client.get("/me", headers=bearer(new["access_token"])).status_code == 401

    def test_cookie_flavour(self, with_logins: Server) -> None:
        with httpx.Client(base_url=with_logins.base_url, timeout=5) as client:
            reply = self.login(client)
            cookies = {c.split("=", 1)[0]: c.lower() for c in reply.headers.get_list("set-cookie")}
            assert (
                "httponly" in cookies["access_token"] and "samesite=lax" in cookies["access_token"]
            )
            assert "httponly" in cookies["refresh_token"]
            assert "httponly" not in cookies["csrf_token"]  # the page reads it for double submit
            assert "secure" not in cookies["access_token"]  # plain http on localhost
            old_access = client.cookies["access_token"]
            assert client.get("/me").json()["user"] == "ann"
            refused = client.post("/logout")  # a cookie on a POST with no CSRF proof
            assert refused.status_code == 403
            assert refused.json()["error"] == "csrf_failed"
            assert client.post("/refresh").status_code == 400  # cookie without the header
            csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
            assert client.post("/refresh", headers=csrf).status_code == 200
            csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
            assert client.post("/logout", headers=csrf).status_code == 200
            assert "access_token" not in client.cookies
            revoked = client.get("/me", headers={"Cookie": f"access_token={old_access}"})
            assert revoked.status_code == 401

    def test_secure_flag_never_comes_from_host(self, with_logins: Server) -> None:
        with httpx.Client(base_url=with_logins.base_url, timeout=5) as client:
            reply = self.login(client, Host="api.example.com")  # still plain http
            assert not any("secure" in c.lower() for c in reply.headers.get_list("set-cookie"))

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("application/x-www-form-urlencoded", "username=ann&password=x"),
            ("text/plain", '{"username": "ann", "password": "x"}'),
            ("multipart/form-data; boundary=b", "--b--"),
        ],
    )
    def test_login_and_refresh_take_json_only(
        self, with_logins: Server, content_type: str, body: str
    ) -> None:
        # What a cross-site page can post without a CORS preflight (login CSRF).
        with httpx.Client(base_url=with_logins.base_url, timeout=5) as client:
            for path in ("/login", "/refresh"):
                reply = client.post(path, content=body, headers={"Content-Type": content_type})
                assert reply.status_code == 415, (path, reply.text)


def _login(base_url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{base_url}/login",
        json={"username": "ann", "password": PASSWORD},
        headers=headers,
        timeout=5,
    )


def _all_secure(reply: httpx.Response) -> bool:
    cookies = reply.headers.get_list("set-cookie")
    assert cookies
    return all("secure" in cookie.lower() for cookie in cookies)


def test_public_url_makes_cookies_secure() -> None:
    env = {"DEMO_USER": "ann", "DEMO_PASSWORD": PASSWORD, "PUBLIC_URL": "https://api.example"}
    for example in ("starlette_app.py", "flask_app.py"):
        server = start(example, env)
        try:
            # Host: what a proxy may pass on; it never decides the flag.
            assert _all_secure(_login(server.base_url, {"Host": "localhost:8000"})), example
        finally:
            stop(server.process)


@pytest.mark.parametrize(
    ("proxies", "secure"), [("127.0.0.1", True), ("10.0.0.1", False), (None, False)]
)
def test_forwarded_https_counts_only_from_trusted_proxies(
    proxies: str | None, secure: bool
) -> None:
    """The cookies' Secure flag reads the origin as the middleware does: a forwarded
    https from a trusted proxy, never from anyone else (the same for REQUIRE_HTTPS)."""
    env = {"DEMO_USER": "ann", "DEMO_PASSWORD": PASSWORD, "REQUIRE_HTTPS": "1"}
    if proxies is not None:
        env["TRUSTED_PROXIES"] = proxies
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    for example in ("starlette_app.py", "flask_app.py"):
        server = start(example, env)
        try:
            reply = _login(server.base_url, forwarded)
            assert _all_secure(reply) == secure, example
            headers = {"Authorization": f"Bearer {reply.json()['access_token']}", **forwarded}
            # Forwarded https from a trusted proxy; otherwise loopback over plain http,
            # which the examples allow for development.
            me = httpx.get(f"{server.base_url}/me", headers=headers, timeout=5)
            assert me.status_code == 200, example
        finally:
            stop(server.process)


class TestFlaskUnderWerkzeug:
    def test_protected_and_exempt_routes(self, flask_configured: Server) -> None:
        with httpx.Client(base_url=flask_configured.base_url, timeout=5) as client:
            reply = client.get("/me", headers=bearer(token(scope="read write")))
            assert reply.status_code == 200
            assert reply.json()["user"] == "carol"
            assert client.post("/orders", headers=bearer(token(scope="write"))).status_code == 201
            assert client.post("/orders", headers=bearer(token(scope="read"))).status_code == 403
            assert client.get("/health").status_code == 200
            expired = client.get("/me", headers=bearer(token(exp=int(time.time()) - 1)))
            assert expired.status_code == 401
            assert "expired" in expired.headers["www-authenticate"]

    def test_two_authorization_headers_on_the_wire(self, flask_configured: Server) -> None:
        """The server joins repeated headers with a comma; that is still two headers."""
        connection = http.client.HTTPConnection("127.0.0.1", flask_configured.port, timeout=5)
        try:
            connection.putrequest("GET", "/me")
            connection.putheader("Authorization", f"Bearer {token()}")
            connection.putheader("Authorization", f"Bearer {token(sub='mallory')}")
            connection.endheaders()
            reply = connection.getresponse()
            assert reply.status == 400
            assert 'error="invalid_request"' in reply.getheader("WWW-Authenticate", "")
        finally:
            connection.close()
