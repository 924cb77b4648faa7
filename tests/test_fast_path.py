"""The adapters' fast path for tokens seen before: taken only in the plain case, and
every answer identical to the full path's (which it falls back to for everything else)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jwt_middleware import Cookie, MemoryDenylist, Verifier

from .conftest import NOW, AdapterClient, FakeClock, Keys, TokenFactory
from .helpers import bearer

Adapter = Callable[..., AdapterClient]


def spy_full_path(client: AdapterClient) -> list[int]:
    """Count the requests that took the full path."""
    calls: list[int] = []
    policy = client.middleware.policy  # type: ignore[attr-defined]
    sync, asynchronous = policy.authenticate, policy.aauthenticate

    def authenticate(request: Any) -> Any:
        calls.append(1)
        return sync(request)

    async def aauthenticate(request: Any) -> Any:
        calls.append(1)
        return await asynchronous(request)

    policy.authenticate, policy.aauthenticate = authenticate, aauthenticate
    return calls


@pytest.fixture
def verifier(keys: Keys, clock: FakeClock) -> Verifier:
    return Verifier(keys.verification_key("HS256"), clock=clock)


def test_a_seen_token_takes_the_fast_path(
    adapter: Adapter, verifier: Verifier, make_token: TokenFactory
) -> None:
    client = adapter(verifier)
    full = spy_full_path(client)
    token = make_token(scope="read")
    first = client.get("/", bearer(token))
    again = [client.get("/", bearer(token)) for _ in range(3)]
    assert len(full) == 1  # only the first sight
    assert all(reply.status == 200 and reply.json() == first.json() for reply in again)


@pytest.mark.parametrize(
    "case",
    [
        "expired-since",
        "missing-scope",
        "two-headers",
        "query-token",
        "preflight",
        "trailing-space",
        "lower-scheme",
        "other-token",
    ],
)
def test_answers_match_the_full_path(
    adapter: Adapter, keys: Keys, clock: FakeClock, make_token: TokenFactory, case: str
) -> None:
    """The same requests to a fast-path setup and to one without it (an observer forces
    the full path) get the same answers."""
    token = make_token(exp=NOW + 10, scope="read")
    headers = bearer(token)
    method, path = "GET", "/"
    options: dict[str, Any] = {}
    if case == "expired-since":
        pass
    elif case == "missing-scope":
        options["required_scopes"] = ["write"]
    elif case == "two-headers":
        headers = headers * 2
    elif case == "query-token":
        path = "/?access_token=x"
    elif case == "preflight":
        method = "OPTIONS"
        headers = [*headers, ("Access-Control-Request-Method", "POST")]
    elif case == "trailing-space":
        headers = [("Authorization", f"Bearer {token}  ")]
    elif case == "lower-scheme":
        headers = [("Authorization", f"bearer {token}")]
    elif case == "other-token":
        headers = bearer(make_token(exp=NOW + 10, sub="bob"))
    replies = []
    for observe in (False, True):
        clock.now = NOW
        verifier = Verifier(keys.verification_key("HS256"), clock=clock)
        extra = {"on_decision": lambda event: None} if observe else {}
        client = adapter(verifier, **options, **extra)
        client.get("/", bearer(token))  # seen once: cached where it was accepted
        if case == "expired-since":
            clock.advance(10)
        reply = client.request(method, path, headers)
        replies.append((reply.status, reply.body, reply.header("WWW-Authenticate")))
    assert replies[0] == replies[1]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"sources": [Cookie("access_token")]}, id="cookie-source"),
        pytest.param({"exempt": ["/health"]}, id="exempt-paths"),
        pytest.param({"on_decision": lambda event: None}, id="observer"),
    ],
)
def test_not_taken_when_the_setup_needs_the_full_path(
    adapter: Adapter, verifier: Verifier, make_token: TokenFactory, options: dict[str, Any]
) -> None:
    client = adapter(verifier, **options)
    full = spy_full_path(client)
    token = make_token()
    headers = [*bearer(token), ("Cookie", f"access_token={token}")]
    for _ in range(3):
        assert client.get("/", headers).status == 200
    assert len(full) == 3


def test_not_taken_with_a_denylist(
    adapter: Adapter, keys: Keys, clock: FakeClock, make_token: TokenFactory
) -> None:
    denylist = MemoryDenylist(clock=clock)
    client = adapter(Verifier(keys.verification_key("HS256"), clock=clock, denylist=denylist))
    full = spy_full_path(client)
    token = make_token(jti="j1")
    assert client.get("/", bearer(token)).status == 200
    denylist.revoke("jti:j1", NOW + 3600)
    assert client.get("/", bearer(token)).status == 401
    assert len(full) == 2


def test_debug_logging_takes_the_full_path(
    adapter: Adapter, verifier: Verifier, make_token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="jwt_middleware")
    client = adapter(verifier)
    full = spy_full_path(client)
    token = make_token()
    client.get("/", bearer(token))
    client.get("/", bearer(token))
    assert len(full) == 2
    assert caplog.text.count("allowed 'GET'") == 2
