"""RFC 6750 challenges and bodies."""

from __future__ import annotations

import json

import pytest

from jwt_middleware import (
    CSRFFailed,
    ExpiredToken,
    InsufficientScope,
    InvalidRequest,
    KeysUnavailable,
    MissingToken,
)
from jwt_middleware._responses import render


@pytest.mark.parametrize(
    ("error", "realm", "challenge"),
    [
        (MissingToken(), None, 'Bearer realm="api"'),
        (MissingToken(), "api", 'Bearer realm="api"'),
        (
            ExpiredToken(),
            "api",
            'Bearer realm="api", error="invalid_token", '
            'error_description="The access token expired"',
        ),
        (
            InvalidRequest(),
            None,
            'Bearer realm="api", error="invalid_request", '
            'error_description="The request carries malformed or misplaced '
            'credentials"',
        ),
        (
            InsufficientScope(("a", "b")),
            "x",
            'Bearer realm="x", error="insufficient_scope", '
            'error_description="The access token lacks a required '
            'scope", scope="a b"',
        ),
        (CSRFFailed(), "x", None),
        (KeysUnavailable(), "x", None),
    ],
)
def test_challenge(error: object, realm: str | None, challenge: str | None) -> None:
    response = render(error, realm)  # type: ignore[arg-type]
    headers = dict(response.headers)
    assert headers.get("WWW-Authenticate") == challenge
    assert headers["Cache-Control"] == "no-store"
    assert int(headers["Content-Length"]) == len(response.body)
    body = json.loads(response.body)
    assert body["error_description"] == error.description  # type: ignore[attr-defined]


def test_operator_message_is_not_the_public_description() -> None:
    error = ExpiredToken("exp 1700000000 is before now")
    assert b"1700000000" not in render(error, None).body
