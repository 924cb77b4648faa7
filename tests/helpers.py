"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from jose import jwk as jose_jwk

from .conftest import Keys, Reply, pem_public


def bearer(token: str) -> list[tuple[str, str]]:
    """An ``Authorization: Bearer`` header, as the adapter clients take headers."""
    return [("Authorization", f"Bearer {token}")]


def assert_refused(reply: Any, status: int, error: str, *, challenge_error: str | None) -> None:
    """A refusal as DESIGN.md's table says: JSON body, no-store, RFC 6750 challenge."""
    assert reply.status == status
    assert reply.header("Cache-Control") == "no-store"
    assert reply.header("Content-Type") == "application/json"
    body = reply.json()
    assert set(body) == {"error", "error_description"}  # and so the app was not called
    assert body["error"] == error
    challenge = reply.header("WWW-Authenticate")
    if challenge_error is None:
        assert challenge is None or "error=" not in challenge
    else:
        assert challenge is not None and challenge.startswith("Bearer ")
        assert f'error="{challenge_error}"' in challenge
        assert f'error_description="{body["error_description"]}"' in challenge


def call_asgi(
    app: Any,
    path: str,
    *,
    root_path: str = "",
    method: str = "GET",
    headers: Sequence[tuple[str, str]] = (),
    kind: str = "http",
    query: bytes = b"",
) -> Reply:
    """One request straight through an ASGI app with a scope written by hand (paths
    and root paths that a test client would normalise). A websocket refusal answers
    through the denial-response extension; an accepted one reads as 200."""
    scope: dict[str, Any] = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http" if kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "extensions": {"websocket.http.response": {}} if kind == "websocket" else {},
    }
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request"}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"].endswith("response.start") or "accept" in m["type"])
    if start["type"] == "websocket.accept":
        return Reply(200, {}, b"")
    body = b"".join(m.get("body", b"") for m in sent if m["type"].endswith("response.body"))
    raw = [(k.decode(), v.decode("latin-1")) for k, v in start.get("headers", [])]
    return Reply(start["status"], {k.lower(): v for k, v in raw}, body, raw)


def public_jwk(keys: Keys, key_alg: str, kid: str, **extra: Any) -> dict[str, Any]:
    private = {"RS256": keys.rsa, "ES256": keys.ec256, "ES384": keys.ec384}[key_alg]
    jwk = jose_jwk.construct(pem_public(private), key_alg).to_dict()
    jwk.pop("alg", None)
    return {**jwk, "kid": kid, **extra}


def rsa_jwk(keys: Keys, **extra: Any) -> dict[str, Any]:
    jwk = jose_jwk.construct(pem_public(keys.rsa), "RS256").to_dict()
    jwk.pop("alg", None)
    return {**jwk, **extra}
