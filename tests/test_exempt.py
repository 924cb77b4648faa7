"""Exempt paths: exact and prefix entries, no prefix confusion, no dot segments."""

from __future__ import annotations

import pytest

from jwt_middleware._exempt import ExemptPaths


@pytest.mark.parametrize(
    ("path", "exempt"),
    [
        ("/health", True),
        ("/health/", False),
        ("/public/a/b", True),
        ("/public/", True),
        ("/public", False),
        ("/publicity", False),
        ("/public/../admin", False),
        ("/public/./a", False),
        ("/public/..", False),
        ("/public/a\\..\\..\\admin", False),
        ("/public/.well-known", True),
        ("/public/a..b", True),
        ("/", True),
        ("/x", False),
    ],
)
def test_exempt_paths(path: str, exempt: bool) -> None:
    assert ExemptPaths(["/health", "/public/", "/"]).matches(path) is exempt
