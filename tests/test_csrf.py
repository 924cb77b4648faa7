"""Origin normalisation for the CSRF check (the behaviour runs in the contract tests)."""

from __future__ import annotations

import pytest

from jwt_middleware._csrf import normalize_origin


@pytest.mark.parametrize(
    ("origin", "normalized"),
    [
        ("https://A.Example", "https://a.example"),
        ("https://a.example:443", "https://a.example"),
        ("http://a.example:80", "http://a.example"),
        ("http://a.example:443", "http://a.example:443"),
        ("https://a.example:8443", "https://a.example:8443"),
        ("HTTP://[::1]:80", "http://[::1]"),
    ],
)
def test_normalize_origin(origin: str, normalized: str) -> None:
    assert normalize_origin(origin) == normalized
