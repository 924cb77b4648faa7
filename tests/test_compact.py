"""The strict compact parser: exactly what RFC 7515 allows, nothing more."""

from __future__ import annotations

import pytest

from jwt_middleware import MalformedToken
from jwt_middleware._compact import json_object, parse
from jwt_middleware._encoding import b64url_decode

from .conftest import b64url

HEADER = b64url(b'{"alg":"HS256"}')
PAYLOAD = b64url(b'{"sub":"a"}')


def token(payload: bytes) -> str:
    return f"{HEADER}.{b64url(payload)}.c2ln"


def test_parses_three_segments() -> None:
    parsed = parse(f"{HEADER}.{PAYLOAD}.c2ln", 8192)
    assert parsed.header == {"alg": "HS256"}
    assert parsed.claims == {"sub": "a"}
    assert parsed.signing_input == f"{HEADER}.{PAYLOAD}".encode()
    assert parsed.signature == b"sig"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param(f"{HEADER}.{PAYLOAD}", id="two-segments"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c2ln.c2ln.c2ln", id="jwe-five-segments"),
        pytest.param(f"{HEADER}..c2ln", id="empty-payload"),
        pytest.param(f"{HEADER}.{PAYLOAD}.", id="empty-signature"),
        pytest.param(f" {HEADER}.{PAYLOAD}.c2ln", id="leading-space"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c2ln\n", id="trailing-newline"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c2ln==", id="padding"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c2l+", id="standard-alphabet"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c2lu\u00e9", id="non-ascii"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c", id="impossible-length"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c2l", id="non-canonical-last-char"),
        pytest.param(f"{b64url(b'[1]')}.{PAYLOAD}.c2ln", id="header-array"),
        pytest.param(f"{b64url(b'{}x')}.{PAYLOAD}.c2ln", id="header-trailing-junk"),
        pytest.param(token(b'{"a":NaN}'), id="nan"),
        pytest.param(token(b'{"a":Infinity}'), id="infinity"),
        pytest.param(token(b'{"a":1,"a":2}'), id="duplicate-member"),
        pytest.param(token(b'{"a":{"b":1,"b":1}}'), id="nested-duplicate"),
        pytest.param(token(b"\xff\xfe{}"), id="not-utf8"),
        pytest.param(token("{}".encode("utf-16")), id="utf16-json"),
        pytest.param(token(b"[" * 3000 + b"]" * 3000), id="deep-nesting"),
        pytest.param(token(b'{"a":' + b"9" * 5000 + b"}"), id="huge-int"),
        # Found by the fuzzer: the bare JSON scanner says "missing value" with StopIteration.
        pytest.param(token(b'{"a":}'), id="missing-value"),
        pytest.param(token(b'{"a":[}'), id="missing-array-item"),
        pytest.param(token(b'{"a":1} {}'), id="second-object"),
        pytest.param(f"{HEADER}.{PAYLOAD}.c2ln.", id="four-segments-trailing-dot"),
        pytest.param(f".{HEADER}.{PAYLOAD}", id="empty-header"),
    ],
)
def test_rejects(token: str) -> None:
    with pytest.raises(MalformedToken):
        parse(token, 16384)


def test_whitespace_around_the_object_is_json() -> None:
    assert parse(token(b' {"sub": "a"}\n'), 8192).claims == {"sub": "a"}


def test_size_is_checked_first() -> None:
    with pytest.raises(MalformedToken, match="max_token_bytes"):
        parse("a" * 101, 100)


def test_deep_objects_are_refused_not_crashing() -> None:
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    with pytest.raises(MalformedToken):
        json_object(deep, "payload")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", b""), ("YQ", b"a"), ("YWI", b"ab"), ("YWJj", b"abc"), ("-_8", b"\xfb\xff")],
)
def test_base64url(text: str, expected: bytes) -> None:
    assert b64url_decode(text) == expected


@pytest.mark.parametrize("text", ["YR", "YWJ", "Y", "YQ=", "Y Q", "YQ\n"])
def test_base64url_strict(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)
