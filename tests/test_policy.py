"""Policy configuration and the pure helpers behind it."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_middleware import AuthPolicy, ConfigurationError, Verifier


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"realm": 'a"b'}, id="realm-with-quote"),
        pytest.param({"realm": "a\\b"}, id="realm-with-backslash"),
        pytest.param({"realm": "a\nb"}, id="realm-with-newline"),
        pytest.param({"required_scopes": ['a"b']}, id="scope-with-quote"),
        pytest.param({"required_scopes": ["read"], "optional": True}, id="optional-with-scopes"),
        pytest.param({"sources": []}, id="no-sources"),
        pytest.param({"exempt": ["health"]}, id="relative-exempt"),
        pytest.param({"trusted_origins": ["app.example"]}, id="origin-without-scheme"),
        pytest.param({"trusted_origins": ["https://app.example/path"]}, id="origin-with-path"),
        pytest.param({"csrf_cookie": None}, id="half-double-submit"),
    ],
)
def test_bad_configuration(hs_verifier: Verifier, options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        AuthPolicy(hs_verifier, **options)


def test_scopes_as_a_string(hs_verifier: Verifier) -> None:
    policy = AuthPolicy(hs_verifier, required_scopes="read write")
    assert policy._required_scopes == ("read", "write")
