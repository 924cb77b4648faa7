"""Token sources and the query-string rule, on a bare request view."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jwt_middleware import BearerHeader, ConfigurationError, Cookie, Header, InvalidRequest
from jwt_middleware._request import RequestView
from jwt_middleware._sources import is_b64token, query_carries_token


class View(RequestView):
    def __init__(self, headers: list[tuple[str, str]], query: str = "") -> None:
        super().__init__("GET", "/", "/", "https", query, is_websocket=False)
        self._h = headers

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self._h if k.lower() == name]

    @property
    def host(self) -> str:
        return "api.example"


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("Bearer   abc  ", "abc"),
        ("Bearer a-b_c~d+e/f==", "a-b_c~d+e/f=="),
        ("Basic abc", None),
        ('Digest username="x", realm="y"', None),
    ],
)
def test_bearer_header(value: str, token: str | None) -> None:
    assert BearerHeader().extract(View([("authorization", value)])) == token


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer a,b",
        "Bearer =a",
        "Bearer a\tb",
        "Basic x,Bearer y",
        "Basic x, bearer y",
        "Bearerabc",  # a look-alike scheme is ours misspelt: broken, not absent
        "Bearer\tabc",
    ],
)
def test_bearer_header_malformed(value: str) -> None:
    with pytest.raises(InvalidRequest):
        BearerHeader().extract(View([("authorization", value)]))


def test_absent_is_none() -> None:
    assert BearerHeader().extract(View([])) is None
    assert Header("X-Token").extract(View([])) is None
    assert Cookie("t").extract(View([])) is None


def test_custom_scheme_and_header() -> None:
    source = BearerHeader("X-Auth", scheme="JWT")
    assert source.extract(View([("x-auth", "JWT abc")])) == "abc"
    assert source.extract(View([("authorization", "JWT abc")])) is None


def test_bare_header() -> None:
    assert Header("X-Token").extract(View([("x-token", " abc ")])) == "abc"
    for bad in ("a b", "a,b", ""):
        with pytest.raises(InvalidRequest):
            Header("X-Token").extract(View([("x-token", bad)]))
    with pytest.raises(InvalidRequest):
        Header("X-Token").extract(View([("x-token", "a"), ("x-token", "b")]))


def test_cookie_split_over_headers() -> None:
    view = View([("cookie", "a=1"), ("cookie", "t=tok; b=2")])
    assert Cookie("t").extract(view) == "tok"


@pytest.mark.parametrize(
    "make",
    [
        lambda: Header("Bad Name"),
        lambda: Header("Authorization"),
        lambda: Header("cookie"),
        lambda: Cookie("a;b"),
        lambda: Cookie(""),
        lambda: BearerHeader(scheme="Bad Scheme"),
        lambda: BearerHeader("X:Y"),
    ],
)
def test_bad_source_configuration(make: object) -> None:
    with pytest.raises(ConfigurationError):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", False),
        ("access_token=x", True),
        ("a=1&access_token=", True),
        ("access_token", True),
        ("access%5Ftoken=x", True),
        ("access%5ftoken=x", True),
        ("x=access_token", False),
        ("access_tokens=x", False),
        ("my_access_token=1", False),
        ("%%%=x", False),
    ],
)
def test_query_carries_token(query: str, found: bool) -> None:
    assert query_carries_token(query) is found


# RFC 6750 section 2.1, as the grammar reads; is_b64token must agree with it exactly.
B64TOKEN_GRAMMAR = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@pytest.mark.parametrize(
    "text", ["abc", "abc==", "a.b-c_d~e+f/g", "=", "", "a=b", "a b", "é", "abc=\n", "a\x00", "ab=="]
)
def test_b64token_examples(text: str) -> None:
    assert is_b64token(text) == bool(B64TOKEN_GRAMMAR.fullmatch(text))


@given(st.text(alphabet=st.sampled_from("aZ09-._~+/= \t\n,;é\x00\x7f"), max_size=24) | st.text())
def test_b64token_agrees_with_the_grammar(text: str) -> None:
    assert is_b64token(text) == bool(B64TOKEN_GRAMMAR.fullmatch(text))
