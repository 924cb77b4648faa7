"""Reading scopes from claims (the claim checks run in test_verifier and the
behaviour table of test_middleware_contract)."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_middleware.claims import scopes_of


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "a  b\tc"}, ("a", "b", "c")),
        ({"scp": ["a", 1, "b"]}, ("a", "b")),
        ({"scope": "a", "scp": ["b"]}, ("a",)),
        ({"scope": None, "scp": "x y"}, ("x", "y")),
        ({}, ()),
    ],
)
def test_scopes_of(claims: dict[str, Any], scopes: tuple[str, ...]) -> None:
    assert scopes_of(claims) == scopes
