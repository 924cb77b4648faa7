"""Every server users deploy on, started for real on a loopback port: a public route, a
protected one (401 without a token, the caller with one), a streaming response, and a
websocket where the server has them."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import h2.connection
import h2.events
import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import sign_raw
from .servers import free_port, running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SECRET = "a server-matrix test secret, 32 bytes or more"
ENV = {"MATRIX_SECRET": SECRET}
WSGI, ASGI = "tests.matrix_apps:wsgi_app", "tests.matrix_apps:asgi_app"


@dataclass(frozen=True)
class Setup:
    name: str
    argv: tuple[str, ...]  # {port} is replaced
    websocket: bool = False
    http2: bool = False
    workers: int = 1


SETUPS = [
    Setup("gunicorn-sync", ("gunicorn", "-k", "sync", "-b", "127.0.0.1:{port}", WSGI)),
    Setup(
        "gunicorn-gthread",
        ("gunicorn", "-k", "gthread", "--threads", "4", "-b", "127.0.0.1:{port}", WSGI),
    ),
    Setup(
        "gunicorn-preload-2-workers",
        ("gunicorn", "--preload", "-w", "2", "-b", "127.0.0.1:{port}", WSGI),
        workers=2,
    ),
    Setup("waitress", ("waitress-serve", "--listen=127.0.0.1:{port}", WSGI)),
    Setup("granian-wsgi", ("granian", "--interface", "wsgi", "--port", "{port}", WSGI)),
    Setup(
        "uvicorn-h11",
        ("uvicorn", "--http", "h11", "--port", "{port}", ASGI),
        websocket=True,
    ),
    Setup(
        "uvicorn-httptools",
        ("uvicorn", "--http", "httptools", "--port", "{port}", ASGI),
        websocket=True,
    ),
    Setup("hypercorn-h11", ("hypercorn", "-b", "127.0.0.1:{port}", ASGI), websocket=True),
    Setup(
        "hypercorn-h2c", ("hypercorn", "-b", "127.0.0.1:{port}", ASGI), websocket=True, http2=True
    ),
    Setup("daphne", ("daphne", "-b", "127.0.0.1", "-p", "{port}", ASGI), websocket=True),
    Setup(
        "granian-asgi",
        ("granian", "--interface", "asgi", "--port", "{port}", ASGI),
        websocket=True,
    ),
]


def token(sub: str = "carol") -> str:
    claims = {"sub": sub, "exp": int(time.time()) + 300}
    return sign_raw({"alg": "HS256", "typ": "JWT"}, claims, SECRET.encode(), "HS256")


class Servers:
    """Each setup's server, started on first use and stopped with the module."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack = stack
        self._addresses: dict[str, str] = {}

    def address(self, setup: Setup) -> str:
        if setup.name not in self._addresses:
            port = free_port()
            argv = [part.format(port=port) for part in setup.argv]
            self._stack.enter_context(running(argv, port, ENV))
            self._addresses[setup.name] = f"127.0.0.1:{port}"
        return self._addresses[setup.name]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with contextlib.ExitStack() as stack:
        yield Servers(stack)


def each(setups: list[Setup]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("setup", setups, ids=[setup.name for setup in setups])


@each(SETUPS)
def test_public_and_protected_routes(servers: Servers, setup: Setup) -> None:
    address = servers.address(setup)
    with httpx.Client(base_url=f"http://{address}", timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        refused = client.get("/me")
        assert refused.status_code == 401 and refused.json()["error"] == "missing_token"
        assert refused.headers["www-authenticate"].startswith("Bearer realm=")
        bad = client.get("/me", headers={"Authorization": f"Bearer {token()}x"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
        assert client.get(f"/me?access_token={token()}").status_code == 400
    # A new connection each time, so forked workers (--preload -w 2) take their turns.
    for _ in range(4 * setup.workers):
        reply = httpx.get(
            f"http://{address}/me", headers={"Authorization": f"Bearer {token()}"}, timeout=10
        )
        assert reply.status_code == 200 and reply.json()["user"] == "carol"


@each(SETUPS)
def test_streaming_response(servers: Servers, setup: Setup) -> None:
    address = servers.address(setup)
    headers = {"Authorization": f"Bearer {token('dave')}"}
    with (
        httpx.Client(base_url=f"http://{address}", timeout=10) as client,
        client.stream("GET", "/stream", headers=headers) as reply,
    ):
        assert reply.status_code == 200
        assert list(reply.iter_lines()) == ["3", "2", "1", "liftoff, dave"]


@each([setup for setup in SETUPS if setup.websocket])
def test_websocket(servers: Servers, setup: Setup) -> None:
    address = servers.address(setup)
    url = f"ws://{address}/ws"
    with connect(url, additional_headers={"Authorization": f"Bearer {token('erin')}"}) as ws:
        assert ws.recv(timeout=5) == "hello erin"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=5)
    assert refused.value.response.status_code in (401, 403)  # daphne turns a refusal into 403


@each([setup for setup in SETUPS if setup.http2])
def test_http2_cleartext(servers: Servers, setup: Setup) -> None:
    address = servers.address(setup)
    host, port = address.split(":")
    refused = _h2_get(host, int(port), "/me", {})
    assert refused[0] == 401 and refused[1]["www-authenticate"].startswith("Bearer")
    status, _, body = _h2_get(host, int(port), "/me", {"authorization": f"Bearer {token()}"})
    assert status == 200 and b'"http":"2"' in body and b'"user":"carol"' in body


def _h2_get(
    host: str, port: int, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """One GET over HTTP/2 with prior knowledge (h2c), with the h2 library."""
    with socket.create_connection((host, port), timeout=10) as sock:
        connection = h2.connection.H2Connection()
        connection.initiate_connection()
        request = [
            (":method", "GET"),
            (":path", path),
            (":scheme", "http"),
            (":authority", f"{host}:{port}"),
            *headers.items(),
        ]
        connection.send_headers(1, request, end_stream=True)
        sock.sendall(connection.data_to_send())
        status, got, body = 0, {}, b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    got = {k.decode(): v.decode() for k, v in event.headers}
                    status = int(got[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded):
                    return status, got, body
            sock.sendall(connection.data_to_send())
    raise AssertionError("the stream did not end")


# -- the Django test project under a real WSGI and a real ASGI server ---------------------

DJANGO = [
    Setup("django-gunicorn", ("gunicorn", "-b", "127.0.0.1:{port}", "tests.django_project.wsgi")),
    Setup(
        "django-uvicorn",
        ("uvicorn", "--port", "{port}", "tests.django_project.asgi:application"),
    ),
]


@each(DJANGO)
def test_django(servers: Servers, setup: Setup) -> None:
    from .django_project import auth  # its DJANGO_JWT_SECRET reaches the server's environment

    address = servers.address(setup)
    issuer = auth.issuer()
    with httpx.Client(base_url=f"http://{address}", timeout=10) as client:
        assert client.get("/health").json()["status"] == "ok"
        refused = client.get("/api/me")
        assert refused.status_code == 401 and refused.json()["error"] == "missing_token"
        headers = {"Authorization": f"Bearer {issuer.issue('carol', scopes=['orders:write'])}"}
        assert client.get("/api/me", headers=headers).json()["user"] == "carol"
        assert client.post("/api/orders", headers=headers).status_code == 201  # no CSRF token
        assert client.post("/drf/orders", headers=headers).json() == {"by": "carol"}
        with client.stream("GET", "/api/countdown", headers=headers) as reply:
            assert list(reply.iter_lines()) == ["3", "2", "1", "liftoff, carol"]
        assert client.get("/admin/login/").status_code == 200


# -- any WSGI or ASGI app: Falcon, Bottle, Pyramid, Quart, Litestar -----------------------

FRAMEWORKS = [
    Setup(
        "falcon-wsgi-gunicorn",
        ("gunicorn", "-b", "127.0.0.1:{port}", "tests.matrix_apps:falcon_wsgi_app"),
    ),
    Setup(
        "falcon-asgi-uvicorn",
        ("uvicorn", "--port", "{port}", "tests.matrix_apps:falcon_asgi_app"),
    ),
    Setup(
        "bottle-waitress",
        ("waitress-serve", "--listen=127.0.0.1:{port}", "tests.matrix_apps:bottle_app"),
    ),
    Setup(
        "pyramid-gunicorn",
        ("gunicorn", "-b", "127.0.0.1:{port}", "tests.matrix_apps:pyramid_app"),
    ),
    Setup(
        "quart-hypercorn",
        ("hypercorn", "-b", "127.0.0.1:{port}", "tests.matrix_apps:quart_app"),
        websocket=True,
    ),
    Setup(
        "litestar-uvicorn",
        ("uvicorn", "--port", "{port}", "tests.matrix_apps:litestar_app"),
        websocket=True,
    ),
]


@each(FRAMEWORKS)
def test_any_framework(servers: Servers, setup: Setup) -> None:
    address = servers.address(setup)
    framework = setup.name.rsplit("-", 1)[0]
    with httpx.Client(base_url=f"http://{address}", timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        refused = client.get("/me")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith(
            "Bearer"
        )
        reply = client.get("/me", headers={"Authorization": f"Bearer {token()}"})
        assert reply.json() == {"user": "carol", "framework": framework}
    if setup.websocket:
        url = f"ws://{address}/ws"
        with connect(url, additional_headers={"Authorization": f"Bearer {token()}"}) as ws:
            if framework == "litestar":
                ws.send("hello")
            assert ws.recv(timeout=5) == "hello carol"
        with pytest.raises(InvalidStatus):
            connect(url, open_timeout=5)
