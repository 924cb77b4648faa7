"""A real HTTP server on a loopback port that serves JSON documents, counts fetches, and
can be made slow, failing, oversized or redirecting. Used by the remote-key tests."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_DELAY = 5.0  # no handler sleeps longer, whatever a test asks


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True
    drip: float = 0.0  # seconds between 64-byte pieces of the body
    authorization: str | None = None  # when set, any other Authorization header gets 401


class DocumentServer:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server._counts[path] += 1
                    route = server._routes.get(path)
                if route is None:
                    route = Route(b'{"error":"not found"}', status=404)
                elif route.authorization is not None and (
                    self.headers.get("Authorization") != route.authorization
                ):
                    route = Route(b'{"error":"unauthorized"}', status=401)
                time.sleep(min(route.delay, MAX_DELAY))
                self.send_response(route.status)
                self.send_header("Content-Type", "application/json")
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                # The client may give up (a size cap, a timeout): that is fine.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if not route.drip:
                        self.wfile.write(route.body)
                        return
                    for start in range(0, len(route.body), 64):
                        self.wfile.write(route.body[start : start + 64])
                        self.wfile.flush()
                        time.sleep(min(route.drip, MAX_DELAY))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up early (size caps, timeouts) is expected here

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve(self, path: str, body: Any, **options: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self._lock:
            self._routes[path] = Route(data, **options)

    def body(self, path: str) -> bytes:
        """What the server currently holds at ``path`` (without counting a fetch)."""
        with self._lock:
            return self._routes[path].body

    def count(self, path: str) -> int:
        with self._lock:
            return self._counts[path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
