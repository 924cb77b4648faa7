"""Property-based tests: whatever a client sends, the answer is 200/400/401/403 (never a
500), and nothing but a token that verifies reaches the app."""

from __future__ import annotations

import contextlib
import json
import os
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jwt_middleware import (
    AuthError,
    BearerHeader,
    Cookie,
    Header,
    MalformedToken,
    StaticKey,
    Verifier,
)
from jwt_middleware._compact import parse

from .conftest import NOW, ASGIAdapterClient, WSGIAdapterClient, sign_raw

SECRET = b"property-based tests need a fixed 32+ byte secret"
VERIFIER = Verifier(StaticKey(SECRET, "HS256"), clock=lambda: NOW)
OPTIONS: dict[str, Any] = {
    "sources": [BearerHeader(), Header("X-Token"), Cookie("access_token")],
    "exempt": ["/health", "/public/"],
}
CLIENTS = [WSGIAdapterClient(VERIFIER, **OPTIONS), ASGIAdapterClient(VERIFIER, **OPTIONS)]
VALID = sign_raw({"alg": "HS256", "typ": "JWT"}, {"sub": "alice", "exp": NOW + 60}, SECRET, "HS256")
ALLOWED = {200, 400, 401, 403}

# Header values a client can put on the wire: no CR/LF/NUL, printable Latin-1.
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
)
token_like = st.one_of(
    header_text,
    st.text(alphabet=string.ascii_letters + string.digits + "-_.=+/~", max_size=400),
    st.lists(
        st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=60),
        min_size=1,
        max_size=6,
    ).map(".".join),
)
# HYPOTHESIS_PROFILE=thorough runs twenty times as many examples (a few minutes).
settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def check(status: int, body: bytes) -> None:
    assert status in ALLOWED
    if status == 200:
        assert b'"sub": "alice"' in body or b'"claims": null' in body


@pytest.mark.parametrize("client", CLIENTS, ids=["wsgi", "asgi"])
@given(
    authorization=header_text,
    x_token=header_text,
    cookie=header_text,
    method=st.sampled_from(["GET", "POST", "DELETE", "OPTIONS"]),
    path=st.sampled_from(["/", "/health", "/public/x", "/publicity", "/api/v1"]),
)
@example(authorization="Bearer ", x_token="", cookie="", method="GET", path="/")
@example(authorization=f"Bearer {VALID}", x_token="", cookie="", method="GET", path="/")
def test_any_headers(
    client: Any, authorization: str, x_token: str, cookie: str, method: str, path: str
) -> None:
    headers = [
        (name, value)
        for name, value in (
            ("Authorization", authorization),
            ("X-Token", x_token),
            ("Cookie", cookie),
        )
        if value
    ]
    reply = client.request(method, path, headers)
    check(reply.status, reply.body)
    if reply.status == 200 and path not in ("/health", "/public/x") and method != "OPTIONS":
        assert reply.json()["claims"] is not None


@pytest.mark.parametrize("client", CLIENTS, ids=["wsgi", "asgi"])
@given(token=token_like)
def test_any_token(client: Any, token: str) -> None:
    reply = client.get("/", [("X-Token", token)] if token.strip() else [])
    assert reply.status in {400, 401}


@pytest.mark.parametrize("client", CLIENTS, ids=["wsgi", "asgi"])
@given(
    position=st.integers(min_value=0, max_value=len(VALID) - 1),
    replacement=st.sampled_from(string.ascii_letters + string.digits + "-_.="),
)
def test_mutated_token_never_passes(client: Any, position: int, replacement: str) -> None:
    mutated = VALID[:position] + replacement + VALID[position + 1 :]
    reply = client.get("/", [("Authorization", f"Bearer {mutated}")])
    if mutated == VALID:
        assert reply.status == 200
    else:
        assert reply.status in {400, 401}


@given(token=st.text(max_size=600))
def test_parser_only_raises_malformed(token: str) -> None:
    with contextlib.suppress(MalformedToken):  # anything else fails the test
        parse(token, 512)


@given(
    header=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=10,
        ),
        max_size=6,
    ),
    claims=st.dictionaries(
        st.sampled_from(["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "scope", "x"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=10)
        | st.lists(st.text(max_size=5), max_size=3),
        max_size=9,
    ),
)
def test_signed_but_odd_headers_and_claims(header: dict[str, Any], claims: dict[str, Any]) -> None:
    """Even with a valid signature, odd JSON never raises anything but an AuthError."""
    header = {**header, "alg": "HS256"}
    try:
        token = sign_raw(header, claims, SECRET, "HS256")
    except ValueError:  # a value json.dumps cannot write
        return
    try:
        expected = VERIFIER.verify(token)
    except AuthError:
        expected = None
    for client in CLIENTS:
        reply = client.get("/", [("Authorization", f"Bearer {token}")])
        if expected is None:
            assert reply.status == 401
        else:
            assert reply.status == 200
            assert reply.json()["claims"] == json.loads(json.dumps(expected))
