"""Reading scopes from claims, and the claim rules' types and windows on their own
(the rules also run through both adapters in test_middleware_contract)."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_middleware import ExpiredToken, InvalidClaims, NotYetValid
from jwt_middleware._claims import ClaimRules, scopes_of


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


# The claim rules compare plainly; these pin the types they refuse (a JSON null is a
# present claim, not an absent one).
NOW = 1_700_000_000


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": None}, id="exp-null"),
        pytest.param({"exp": True}, id="exp-bool"),
        pytest.param({"exp": float("nan")}, id="exp-nan"),
        pytest.param({"exp": float("inf")}, id="exp-infinity"),
        pytest.param({"exp": 2**53 + 1}, id="exp-beyond-float-precision"),
        pytest.param({"exp": NOW + 60, "nbf": None}, id="nbf-null"),
        pytest.param({"exp": NOW + 60, "iat": False}, id="iat-bool"),
        pytest.param({"exp": NOW + 60, "iss": None}, id="iss-null"),
        pytest.param({"exp": NOW + 60, "sub": 7}, id="sub-number"),
        pytest.param({"exp": NOW + 60, "jti": ["x"]}, id="jti-list"),
        pytest.param({"exp": NOW + 60, "aud": None}, id="aud-null"),
        pytest.param({"exp": NOW + 60, "aud": []}, id="aud-empty-list"),
    ],
)
def test_claims_of_the_wrong_type_are_refused(claims: dict[str, Any]) -> None:
    rules = ClaimRules(issuers=None, audiences=None, leeway=0, required=("exp",), max_age=None)
    with pytest.raises(InvalidClaims):
        rules.check(claims, NOW)


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"exp": NOW}, ExpiredToken),
        ({"exp": NOW + 0.5}, None),
        ({"exp": NOW + 60, "nbf": NOW + 0.5}, NotYetValid),
        ({"exp": NOW + 60, "iat": NOW - 301}, ExpiredToken),
        ({"exp": NOW + 60, "iat": NOW - 299.5, "aud": ["x", "api"]}, None),
        ({"exp": NOW + 60, "iat": NOW, "aud": "other"}, InvalidClaims),
    ],
)
def test_time_and_audience_rules(claims: dict[str, Any], error: type[Exception] | None) -> None:
    rules = ClaimRules(
        issuers=None, audiences=frozenset({"api"}), leeway=0, required=(), max_age=300
    )
    if error is None:
        rules.check({"aud": "api", "iat": NOW, **claims}, NOW)
    else:
        with pytest.raises(error):
            rules.check({"aud": "api", "iat": NOW, **claims}, NOW)
