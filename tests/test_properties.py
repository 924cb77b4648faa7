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
    DPoP,
    DPoPKey,
    Header,
    MalformedToken,
    StaticKey,
    Verifier,
)
from jwt_middleware._compact import parse
from jwt_middleware.errors import InvalidDPoPProof

from .conftest import NOW, ASGIAdapterClient, WSGIAdapterClient, b64url, sign_raw

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


# -- DPoP: hostile proofs, confirmation values and forwarding headers ------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | header_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(header_text, inner, max_size=3),
    max_leaves=8,
)


def _signed_proof(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A proof whose header and claims are anything, signed by a real P-256 key."""
    from jwt_middleware import _jose
    from jwt_middleware._dpop_client import _segment

    signing_input = f"{_segment(header)}.{_segment(claims)}"
    return f"{signing_input}.{b64url(_jose.sign(DPOP_KEY._signer, signing_input.encode()))}"


DPOP_KEY = DPoPKey.generate()


@given(
    header=st.dictionaries(
        st.sampled_from(["typ", "alg", "jwk", "crit", "kid", "x5c"]), json_values, max_size=5
    ),
    claims=st.dictionaries(
        st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce"]), json_values, max_size=6
    ),
    jwk_changes=st.dictionaries(
        st.sampled_from(["kty", "crv", "x", "y", "n", "e", "d", "k"]), json_values, max_size=3
    ),
)
def test_any_proof_is_refused_with_a_reason_or_passes(
    header: dict[str, Any], claims: dict[str, Any], jwk_changes: dict[str, Any]
) -> None:
    """Whatever the proof holds, checking it raises InvalidDPoPProof (never anything else)."""
    proof_header = {
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": {**DPOP_KEY.public_jwk, **jwk_changes},
    }
    proof_header.update(header)
    proof = _signed_proof(proof_header, claims)
    try:
        DPoP().check_proof(proof, method="GET", uri="http://api/x", access_token="t.t.t", now=NOW)
    except InvalidDPoPProof as refused:
        reason = refused.reason
    else:
        reason = "dpop_passed"
    assert reason.startswith("dpop_")


@given(cnf=json_values, proof_text=token_like)
def test_any_confirmation_or_proof_header_through_the_middleware(cnf: Any, proof_text: str) -> None:
    from werkzeug.test import Client

    from jwt_middleware import StaticKey, TokenIssuer, Verifier
    from jwt_middleware.wsgi import JWTMiddleware

    def ok(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    key = StaticKey(b"k" * 32, "HS256")
    claims = {"sub": "alice", "exp": NOW + 60, "cnf": cnf}
    token = TokenIssuer(key, clock=lambda: NOW)._sign("at+jwt", claims)  # a None cnf is left out
    reasons: list[str] = []
    app = JWTMiddleware(
        ok,
        verifier=Verifier(key, clock=lambda: NOW),
        dpop=DPoP(),
        on_decision=lambda event: reasons.append(event.reason),
    )
    for scheme in ("Bearer", "DPoP"):
        headers = {"Authorization": f"{scheme} {token}", "DPoP": proof_text}
        reply = Client(app).get("/x", headers=headers)
        allowed = (200, 400, 401) if cnf is None and scheme == "Bearer" else (400, 401)
        assert reply.status_code in allowed, (scheme, cnf, proof_text)
    assert "internal_error" not in reasons  # every refusal has its own reason


@given(forwarded_for=header_text, proto=header_text, host=header_text, forwarded=header_text)
def test_any_forwarding_headers_give_a_sane_origin(
    forwarded_for: str, proto: str, host: str, forwarded: str
) -> None:
    from jwt_middleware import OriginPolicy, TrustedProxies

    environ = {
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "app.internal",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": forwarded_for,
        "HTTP_X_FORWARDED_PROTO": proto,
        "HTTP_X_FORWARDED_HOST": host,
        "HTTP_FORWARDED": forwarded,
    }
    for headers in ("x-forwarded", "forwarded"):
        seen = OriginPolicy(
            trusted_proxies=TrustedProxies(["127.0.0.0/8"], headers=headers)
        ).for_environ(environ)
        assert seen.scheme in ("http", "https")
        assert not any(c in seen.host for c in "/?#@ \t")
