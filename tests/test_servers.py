"""The field-fixes issue's findings, replayed on the real servers that showed them:
daphne, uvicorn and hypercorn (root_path), uvicorn and gunicorn (CORS and preflights)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import sign_raw
from .servers import free_port, running

pytestmark = pytest.mark.slow

SECRET = "a real-server test secret, 32 bytes or more"
ENV = {"SEAMS_SECRET": SECRET}
PREFLIGHT = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}


def token() -> str:
    claims = {"sub": "carol", "exp": int(time.time()) + 300}
    return sign_raw({"alg": "HS256", "typ": "JWT"}, claims, SECRET.encode(), "HS256")


@pytest.fixture(scope="module")
def daphne() -> Iterator[str]:
    port = free_port()
    argv = ["daphne", "-b", "127.0.0.1", "-p", str(port), "tests.server_apps:starlette_app"]
    with running(argv, port, ENV):
        yield f"127.0.0.1:{port}"


class TestDaphne:
    def test_root_path_header_cannot_open_a_protected_route(self, daphne: str) -> None:
        reply = httpx.get(f"http://{daphne}/public/admin", headers={"Daphne-Root-Path": "/public"})
        assert reply.status_code == 401
        assert httpx.get(f"http://{daphne}/public/info").status_code == 200

    def test_nor_a_websocket(self, daphne: str) -> None:
        url = f"ws://{daphne}/public/ws"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers={"Daphne-Root-Path": "/public"}, open_timeout=5)
        assert refused.value.response.status_code in (401, 403)  # daphne closes with 403
        with connect(
            url.replace("/public/ws", "/ws"),
            additional_headers={"Authorization": f"Bearer {token()}"},
            open_timeout=5,
        ) as ws:
            assert ws.recv(timeout=5) == "hello carol"


def test_uvicorn_root_path_keeps_exempt_routes_working() -> None:
    port = free_port()
    argv = [
        "uvicorn",
        "--root-path",
        "/api",
        "--port",
        str(port),
        "tests.server_apps:starlette_app",
    ]
    with running(argv, port, ENV):
        base = f"http://127.0.0.1:{port}"
        health = httpx.get(f"{base}/health")
        assert health.status_code == 200 and health.json()["route"].endswith("/health")
        assert httpx.get(f"{base}/admin").status_code == 401
        auth = {"Authorization": f"Bearer {token()}"}
        assert httpx.get(f"{base}/admin", headers=auth).json()["user"] == "carol"


def test_hypercorn_root_path_outside_the_path_exempts_nothing() -> None:
    port = free_port()
    argv = ["hypercorn", "--root-path", "/api", "-b", f"127.0.0.1:{port}"]
    with running([*argv, "tests.server_apps:starlette_app"], port, ENV):
        base = f"http://127.0.0.1:{port}"
        # hypercorn leaves root_path out of path: frameworks then disagree on the route.
        assert httpx.get(f"{base}/health").status_code == 401
        assert httpx.get(f"{base}/admin").status_code == 401


class TestCORSOutside:
    def test_starlette_cors_middleware_outside(self) -> None:
        port = free_port()
        argv = ["uvicorn", "--port", str(port), "tests.server_apps:starlette_cors_app"]
        with running(argv, port, ENV):
            base = f"http://127.0.0.1:{port}"
            preflight = httpx.options(f"{base}/admin", headers=PREFLIGHT)
            assert preflight.status_code == 200  # answered by CORSMiddleware, app untouched
            assert preflight.headers["access-control-allow-origin"] == "https://app.example"
            assert "route" not in preflight.text
            # A refusal carries the CORS headers, so the page can read the 401.
            refused = httpx.get(f"{base}/admin", headers={"Origin": "https://app.example"})
            assert refused.status_code == 401
            assert refused.headers["access-control-allow-origin"] == "https://app.example"

    def test_options_never_runs_an_unauthenticated_flask_view(self) -> None:
        port = free_port()
        argv = ["gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "tests.server_apps:flask_app"]
        with running(argv, port, ENV):
            reply = httpx.options(f"http://127.0.0.1:{port}/admin", headers=PREFLIGHT)
            assert reply.status_code == 401 and "route" not in reply.text

    def test_flask_cors_with_opt_in_preflights(self) -> None:
        port = free_port()
        argv = ["gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}"]
        with running([*argv, "tests.server_apps:flask_cors_app"], port, ENV):
            base = f"http://127.0.0.1:{port}"
            preflight = httpx.options(f"{base}/admin", headers=PREFLIGHT)
            assert preflight.status_code == 200 and "route" not in preflight.text
            assert preflight.headers["access-control-allow-origin"] == "https://app.example"
            assert httpx.get(f"{base}/admin").status_code == 401
