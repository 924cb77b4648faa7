"""DPoP (RFC 9449) through both adapters: acceptance, every refusal by its reason,
replay (memory and a Redis shared by two "machines"), nonces, challenges, downgrades,
and RFC 9449's own examples as known-answer vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from jwt_middleware import (
    DPoP,
    DPoPKey,
    DPoPNonces,
    MemoryReplayCache,
    RedisReplayCache,
    Verifier,
)
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi
from jwt_middleware._dpop import access_token_hash
from jwt_middleware._jwk import thumbprint
from jwt_middleware.errors import (
    ConfigurationError,
    InvalidDPoPProof,
    UnsupportedConfirmation,
    UseDPoPNonce,
)

from .conftest import NOW, AdapterClient, FakeClock, Keys, TokenFactory, asgi_echo, b64url
from .helpers import call_asgi

URL = "http://testserver/api"

# RFC 9449 section 4.1: a proof for a token request, its key and its thumbprint
# (section 6.1), and the ath of section 7.1's access token.
RFC_PROOF = (
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik"
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdC"
    "RnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1"
    "JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj"
    "oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia"
    "WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg"
    "4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
)
RFC_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
RFC_ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC_ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


# -- known answers ----------------------------------------------------------------------


def test_rfc9449_proof_verifies_and_names_its_key() -> None:
    dpop = DPoP()
    jkt = dpop.verify_proof(
        RFC_PROOF, method="POST", url="https://server.example.com/token", now=1562262616
    )
    assert jkt == RFC_JKT
    with pytest.raises(InvalidDPoPProof) as replayed:
        dpop.verify_proof(
            RFC_PROOF, method="POST", url="https://server.example.com/token", now=1562262616
        )
    assert replayed.value.reason == "dpop_replay"


def test_rfc9449_thumbprint_and_ath() -> None:
    header = json.loads(base64.urlsafe_b64decode(RFC_PROOF.split(".")[0] + "=="))
    assert thumbprint(header["jwk"]) == RFC_JKT
    assert access_token_hash(RFC_ACCESS_TOKEN) == RFC_ATH


def test_rfc9449_proof_refused_elsewhere() -> None:
    dpop = DPoP()
    for method, url, now, reason in [
        ("GET", "https://server.example.com/token", 1562262616, "dpop_htm"),
        ("POST", "https://server.example.com/other", 1562262616, "dpop_htu"),
        ("POST", "https://server.example.com/token", 1562262616 + 61, "dpop_iat"),
    ]:
        with pytest.raises(InvalidDPoPProof) as refused:
            dpop.verify_proof(RFC_PROOF, method=method, url=url, now=now)
        assert refused.value.reason == reason


# -- the fixtures: a DPoP-bound token, a key, both adapters -------------------------------


@pytest.fixture
def client_key() -> DPoPKey:
    return DPoPKey.generate()


@pytest.fixture
def bound_token(make_token: TokenFactory, client_key: DPoPKey) -> str:
    return make_token(cnf={"jkt": client_key.thumbprint})


class Recorder:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def __call__(self, event: Any) -> None:
        self.reasons.append(event.reason)


@pytest.fixture
def dpop_client(
    adapter: Callable[..., AdapterClient], keys: Keys, clock: FakeClock
) -> Callable[..., tuple[AdapterClient, Recorder]]:
    def make(**options: Any) -> tuple[AdapterClient, Recorder]:
        recorder = Recorder()
        verifier = Verifier(keys.verification_key("HS256"), clock=clock)
        dpop = options.pop("dpop", None) or DPoP(replay=MemoryReplayCache(clock=clock))
        client = adapter(verifier, dpop=dpop, on_decision=recorder, **options)
        return client, recorder

    return make


def dpop_headers(token: str, proof: str | None) -> list[tuple[str, str]]:
    headers = [("Authorization", f"DPoP {token}")]
    if proof is not None:
        headers.append(("DPoP", proof))
    return headers


def test_a_bound_token_with_its_proof_passes(
    dpop_client: Any, client_key: DPoPKey, bound_token: str
) -> None:
    client, recorder = dpop_client()
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    reply = client.get("/api", dpop_headers(bound_token, proof))
    assert reply.status == 200, reply.body
    seen = reply.json()
    assert seen["claims"]["sub"] == "alice"
    assert seen["dpop_jkt"] == client_key.thumbprint
    assert recorder.reasons == ["ok"]


def test_a_proof_is_accepted_once(dpop_client: Any, client_key: DPoPKey, bound_token: str) -> None:
    client, recorder = dpop_client()
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    assert client.get("/api", dpop_headers(bound_token, proof)).status == 200
    replayed = client.get("/api", dpop_headers(bound_token, proof))
    assert replayed.status == 401
    assert replayed.json()["error"] == "invalid_dpop_proof"
    assert recorder.reasons[-1] == "dpop_replay"
    # A fresh proof from the same key is fine.
    fresh = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    assert client.get("/api", dpop_headers(bound_token, fresh)).status == 200


def test_the_query_is_not_part_of_htu(
    dpop_client: Any, client_key: DPoPKey, bound_token: str
) -> None:
    client, _ = dpop_client()
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    assert client.get("/api?page=2", dpop_headers(bound_token, proof)).status == 200


def _forged(key: DPoPKey, header: dict[str, Any], claims: dict[str, Any], hmac_key: bytes) -> str:
    import hmac as hmac_module

    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac_module.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def _resigned(key: DPoPKey, header_changes: dict[str, Any], claim_changes: dict[str, Any]) -> str:
    """A proof signed by ``key`` with header and claims changed (None drops a member)."""
    from jwt_middleware import _jose
    from jwt_middleware._dpop_client import _segment

    header = {"typ": "dpop+jwt", "alg": key.algorithm, "jwk": key.public_jwk, **header_changes}
    claims = {"jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW, **claim_changes}
    header = {k: v for k, v in header.items() if v is not None}
    claims = {k: v for k, v in claims.items() if v is not None}
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = _jose.sign(key._signer, signing_input.encode())
    return f"{signing_input}.{b64url(signature)}"


PROOF_REFUSALS: list[tuple[str, str, Callable[[DPoPKey, str], str | None]]] = [
    ("no proof", "dpop_missing", lambda k, t: None),
    ("not a JWS", "dpop_malformed", lambda k, t: "not-a-proof"),
    ("four segments", "dpop_malformed", lambda k, t: k.proof("GET", URL, access_token=t) + ".x"),
    ("too large", "dpop_too_large", lambda k, t: "a" * 9000),
    (
        "typ JWT",
        "dpop_typ",
        lambda k, t: _resigned(k, {"typ": "JWT"}, {"ath": access_token_hash(t)}),
    ),
    ("no typ", "dpop_typ", lambda k, t: _resigned(k, {"typ": None}, {"ath": access_token_hash(t)})),
    (
        "alg none",
        "dpop_alg",
        lambda k, t: _resigned(k, {"alg": "none"}, {"ath": access_token_hash(t)}),
    ),
    (
        "alg HS256 keyed with the public jwk",
        "dpop_alg",
        lambda k, t: _forged(
            k,
            {"typ": "dpop+jwt", "alg": "HS256", "jwk": k.public_jwk},
            {"jti": "x", "htm": "GET", "htu": URL, "iat": NOW, "ath": access_token_hash(t)},
            json.dumps(k.public_jwk).encode(),
        ),
    ),
    ("no jwk", "dpop_jwk", lambda k, t: _resigned(k, {"jwk": None}, {"ath": access_token_hash(t)})),
    (
        "jwk with a private member",
        "dpop_jwk",
        lambda k, t: _resigned(
            k, {"jwk": {**k.public_jwk, "d": "AAAA"}}, {"ath": access_token_hash(t)}
        ),
    ),
    (
        "jwk an oct key",
        "dpop_jwk",
        lambda k, t: _resigned(
            k, {"jwk": {"kty": "oct", "k": "AAAA"}}, {"ath": access_token_hash(t)}
        ),
    ),
    (
        "jwk kty a list",
        "dpop_jwk",
        lambda k, t: _resigned(
            k, {"jwk": {**k.public_jwk, "kty": ["EC"]}}, {"ath": access_token_hash(t)}
        ),
    ),
    (
        "jwk of another curve",
        "dpop_jwk",
        lambda k, t: _resigned(
            k, {"jwk": {**k.public_jwk, "crv": "P-384"}}, {"ath": access_token_hash(t)}
        ),
    ),
    (
        "critical extension",
        "dpop_malformed",
        lambda k, t: _resigned(k, {"crit": ["x"]}, {"ath": access_token_hash(t)}),
    ),
    (
        "signed by another key",
        "dpop_signature",
        lambda k, t: _resigned(
            k, {"jwk": DPoPKey.generate().public_jwk}, {"ath": access_token_hash(t)}
        ),
    ),
    (
        "no jti",
        "dpop_jti",
        lambda k, t: _resigned(k, {}, {"jti": None, "ath": access_token_hash(t)}),
    ),
    (
        "jti a number",
        "dpop_jti",
        lambda k, t: _resigned(k, {}, {"jti": 7, "ath": access_token_hash(t)}),
    ),
    ("another method", "dpop_htm", lambda k, t: k.proof("POST", URL, access_token=t, iat=NOW)),
    ("method in lower case", "dpop_htm", lambda k, t: k.proof("get", URL, access_token=t, iat=NOW)),
    (
        "another path",
        "dpop_htu",
        lambda k, t: k.proof("GET", "http://testserver/other", access_token=t, iat=NOW),
    ),
    (
        "another host",
        "dpop_htu",
        lambda k, t: k.proof("GET", "http://evil.example/api", access_token=t, iat=NOW),
    ),
    (
        "https for http",
        "dpop_htu",
        lambda k, t: k.proof("GET", "https://testserver/api", access_token=t, iat=NOW),
    ),
    (
        "htu not a string",
        "dpop_htu",
        lambda k, t: _resigned(k, {}, {"htu": ["x"], "ath": access_token_hash(t)}),
    ),
    ("iat too old", "dpop_iat", lambda k, t: k.proof("GET", URL, access_token=t, iat=NOW - 61)),
    ("iat ahead", "dpop_iat", lambda k, t: k.proof("GET", URL, access_token=t, iat=NOW + 11)),
    (
        "iat a string",
        "dpop_iat",
        lambda k, t: _resigned(k, {}, {"iat": str(NOW), "ath": access_token_hash(t)}),
    ),
    (
        "iat true",
        "dpop_iat",
        lambda k, t: _resigned(k, {}, {"iat": True, "ath": access_token_hash(t)}),
    ),
    ("no ath", "dpop_ath", lambda k, t: k.proof("GET", URL, iat=NOW)),
    (
        "ath of another token",
        "dpop_ath",
        lambda k, t: k.proof("GET", URL, access_token=t + "x", iat=NOW),
    ),
    (
        "another key than cnf.jkt",
        "dpop_key_mismatch",
        lambda k, t: DPoPKey.generate().proof("GET", URL, access_token=t, iat=NOW),
    ),
]


@pytest.mark.parametrize(
    ("case", "reason", "make_proof"), PROOF_REFUSALS, ids=[c[0] for c in PROOF_REFUSALS]
)
def test_every_proof_refusal_has_its_reason(
    dpop_client: Any,
    client_key: DPoPKey,
    bound_token: str,
    case: str,
    reason: str,
    make_proof: Callable[[DPoPKey, str], str | None],
) -> None:
    client, recorder = dpop_client()
    reply = client.get("/api", dpop_headers(bound_token, make_proof(client_key, bound_token)))
    assert reply.status == 401, (case, reply.body)
    assert recorder.reasons == [reason], case
    body = reply.json()
    expected = "invalid_token" if reason == "dpop_key_mismatch" else "invalid_dpop_proof"
    assert body["error"] == expected
    challenges = [v for k, v in reply.raw_headers if k.lower() == "www-authenticate"]
    dpop_challenge = next(c for c in challenges if c.startswith("DPoP "))
    assert f'error="{expected}"' in dpop_challenge
    assert 'algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA"' in dpop_challenge
    assert any(c.startswith("Bearer ") and "error=" not in c for c in challenges)


def test_two_proofs_are_refused(dpop_client: Any, client_key: DPoPKey, bound_token: str) -> None:
    client, recorder = dpop_client()
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    headers = [*dpop_headers(bound_token, proof), ("DPoP", proof)]
    if client.name == "wsgi":  # a WSGI server joins repeated headers with a comma
        headers = [*dpop_headers(bound_token, None), ("DPoP", f"{proof}, {proof}")]
    reply = client.get("/api", headers)
    assert reply.status == 401
    assert recorder.reasons == ["dpop_multiple"]


def test_a_bound_token_sent_as_bearer_is_refused_even_when_cached(
    dpop_client: Any, client_key: DPoPKey, bound_token: str
) -> None:
    client, recorder = dpop_client()
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    assert client.get("/api", dpop_headers(bound_token, proof)).status == 200  # now cached
    for _ in range(2):
        reply = client.get("/api", [("Authorization", f"Bearer {bound_token}")])
        assert reply.status == 401
        assert reply.json()["error"] == "invalid_token"
    assert recorder.reasons[1:] == ["dpop_downgrade", "dpop_downgrade"]
    challenges = [v for k, v in reply.raw_headers if k.lower() == "www-authenticate"]
    assert any(c.startswith("DPoP ") and 'error="invalid_token"' in c for c in challenges)


def test_an_unbound_token_under_the_dpop_scheme_is_refused(
    dpop_client: Any, client_key: DPoPKey, make_token: TokenFactory
) -> None:
    client, recorder = dpop_client()
    token = make_token()
    reply = client.get(
        "/api", dpop_headers(token, client_key.proof("GET", URL, access_token=token, iat=NOW))
    )
    assert reply.status == 401
    assert recorder.reasons == ["dpop_unbound"]
    # ... while the same token as a bearer token still passes (DPoP not required).
    assert client.get("/api", [("Authorization", f"Bearer {token}")]).status == 200


def test_required_dpop_refuses_bearer_tokens(
    dpop_client: Any,
    client_key: DPoPKey,
    bound_token: str,
    make_token: TokenFactory,
    clock: FakeClock,
) -> None:
    client, recorder = dpop_client(dpop=DPoP(required=True, replay=MemoryReplayCache(clock=clock)))
    reply = client.get("/api", [("Authorization", f"Bearer {make_token()}")])
    assert reply.status == 401
    assert recorder.reasons == ["dpop_required"]
    challenges = [v for k, v in reply.raw_headers if k.lower() == "www-authenticate"]
    assert len(challenges) == 1 and challenges[0].startswith("DPoP algs=")
    assert 'error="invalid_token"' in challenges[0]
    missing = client.get("/api")
    assert [v for k, v in missing.raw_headers if k.lower() == "www-authenticate"] == [
        'DPoP algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA"'
    ]
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    assert client.get("/api", dpop_headers(bound_token, proof)).status == 200


def test_a_missing_token_is_challenged_with_both_schemes(dpop_client: Any) -> None:
    client, _ = dpop_client()
    reply = client.get("/api")
    assert reply.status == 401
    challenges = [v for k, v in reply.raw_headers if k.lower() == "www-authenticate"]
    assert challenges == [
        'Bearer realm="api"',
        'DPoP algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA"',
    ]


@pytest.mark.parametrize(
    "value",
    ["DPoP", "DPoP ", "DPoP a b", "DPoP:abc", "DPoP\tabc", "DPoP abc, Bearer abc"],
)
def test_malformed_dpop_credentials_are_400(dpop_client: Any, value: str) -> None:
    client, _ = dpop_client()
    reply = client.get("/api", [("Authorization", value), ("DPoP", "x.y.z")])
    assert reply.status == 400, value
    assert reply.json()["error"] == "invalid_request"


def test_nonces_are_required_issued_and_rotated(
    dpop_client: Any, client_key: DPoPKey, bound_token: str, clock: FakeClock
) -> None:
    nonces = DPoPNonces("n" * 32, lifetime=60)
    client, recorder = dpop_client(dpop=DPoP(nonces=nonces, replay=MemoryReplayCache(clock=clock)))
    first = client.get(
        "/api",
        dpop_headers(bound_token, client_key.proof("GET", URL, access_token=bound_token, iat=NOW)),
    )
    assert first.status == 401
    assert first.json()["error"] == "use_dpop_nonce"
    assert recorder.reasons == ["dpop_nonce"]
    nonce = first.header("DPoP-Nonce")
    assert nonce == nonces.current(NOW)
    challenge = [
        v for k, v in first.raw_headers if k.lower() == "www-authenticate" and v.startswith("DPoP")
    ]
    assert 'error="use_dpop_nonce"' in challenge[0]

    def call(nonce_value: str | None) -> Any:
        proof = client_key.proof(
            "GET", URL, access_token=bound_token, iat=clock(), nonce=nonce_value
        )
        return client.get("/api", dpop_headers(bound_token, proof))

    ok = call(nonce)
    assert ok.status == 200 and ok.header("DPoP-Nonce") is None
    clock.advance(60)  # the next window: the old nonce still works, and a new one comes back
    rotated = call(nonce)
    assert rotated.status == 200
    assert rotated.header("DPoP-Nonce") == nonces.current(clock())
    clock.advance(60)  # two windows on: stale
    stale = call(nonce)
    assert stale.status == 401 and stale.header("DPoP-Nonce") == nonces.current(clock())
    assert call("x" * 43).status == 401
    assert call("é" * 43).status == 401  # not ASCII: refused, not a crash
    assert call(None).status == 401
    assert recorder.reasons.count("internal_error") == 0


def test_nonces_agree_across_instances_with_one_secret() -> None:
    a, b = DPoPNonces("s" * 32), DPoPNonces("s" * 32)
    assert a.current(NOW) == b.current(NOW)
    assert b.check(a.current(NOW), NOW) is True
    assert DPoPNonces("t" * 32).check(a.current(NOW), NOW) is None
    with pytest.raises(ConfigurationError):
        DPoPNonces("short")


@pytest.fixture
def asgi_app(keys: Keys, clock: FakeClock) -> Any:
    """The ASGI adapter with DPoP, for scopes written by hand (call_asgi)."""
    verifier = Verifier(keys.verification_key("HS256"), clock=clock)
    dpop = DPoP(replay=MemoryReplayCache(clock=clock))
    return jwt_asgi.JWTMiddleware(asgi_echo, verifier=verifier, dpop=dpop)


def test_a_websocket_handshake_takes_dpop(
    asgi_app: Any, client_key: DPoPKey, bound_token: str
) -> None:
    app = asgi_app
    proof = client_key.proof("GET", "ws://testserver/ws", access_token=bound_token, iat=NOW)
    headers = [("Host", "testserver"), *dpop_headers(bound_token, proof)]
    assert call_asgi(app, "/ws", kind="websocket", headers=headers).status == 200
    assert call_asgi(app, "/ws", kind="websocket", headers=headers).status == 401  # replayed


def test_the_proof_uri_is_the_mounted_path(
    asgi_app: Any, client_key: DPoPKey, bound_token: str
) -> None:
    app = asgi_app
    proof = client_key.proof(
        "GET", "http://testserver/mount/api", access_token=bound_token, iat=NOW
    )
    headers = [("Host", "testserver"), *dpop_headers(bound_token, proof)]
    assert call_asgi(app, "/mount/api", root_path="/mount", headers=headers).status == 200
    proof = client_key.proof("GET", "http://testserver/api", access_token=bound_token, iat=NOW)
    headers = [("Host", "testserver"), *dpop_headers(bound_token, proof)]
    assert call_asgi(app, "/mount/api", root_path="/mount", headers=headers).status == 401


def test_percent_encodings_compare_normalised(
    dpop_client: Any, client_key: DPoPKey, bound_token: str
) -> None:
    client, _ = dpop_client()
    proof = client_key.proof("GET", "http://TESTSERVER:80/%61pi", access_token=bound_token, iat=NOW)
    assert client.get("/api", dpop_headers(bound_token, proof)).status == 200


# -- bound tokens without DPoP, and the verifier alone -------------------------------------


def test_without_dpop_a_bound_token_is_unsupported(
    adapter: Any, keys: Keys, clock: FakeClock, bound_token: str
) -> None:
    recorder = Recorder()
    client = adapter(Verifier(keys.verification_key("HS256"), clock=clock), on_decision=recorder)
    reply = client.get("/api", [("Authorization", f"Bearer {bound_token}")])
    assert reply.status == 401
    assert recorder.reasons == ["unsupported_confirmation"]
    # and DPoP's scheme is not ours then: no token
    assert client.get("/api", dpop_headers(bound_token, "x")).status == 401
    assert recorder.reasons[-1] == "missing"


def test_the_verifier_alone_refuses_bound_tokens(
    keys: Keys, clock: FakeClock, bound_token: str
) -> None:
    verifier = Verifier(keys.verification_key("HS256"), clock=clock)
    with pytest.raises(UnsupportedConfirmation):
        verifier.verify(bound_token)
    with pytest.raises(UnsupportedConfirmation):
        verifier.verify_token(bound_token)


@pytest.mark.parametrize(
    "cnf",
    [
        {"jwk": {"kty": "EC"}},
        {"kid": "k"},
        {},
        "jkt",
        {"jkt": 7},
        {"jkt": ""},
        {"jkt": "a", "jwk": {}},
    ],
)
def test_confirmation_methods_not_checked_here_are_refused(
    dpop_client: Any, make_token: TokenFactory, client_key: DPoPKey, cnf: Any
) -> None:
    client, recorder = dpop_client()
    token = make_token(cnf=cnf)
    proof = client_key.proof("GET", URL, access_token=token, iat=NOW)
    assert client.get("/api", dpop_headers(token, proof)).status == 401
    assert recorder.reasons == ["unsupported_confirmation"]


def test_a_non_ascii_thumbprint_is_a_mismatch_not_a_crash(
    dpop_client: Any, make_token: TokenFactory, client_key: DPoPKey
) -> None:
    client, recorder = dpop_client()
    token = make_token(cnf={"jkt": "é" * 43})
    proof = client_key.proof("GET", URL, access_token=token, iat=NOW)
    assert client.get("/api", dpop_headers(token, proof)).status == 401
    assert recorder.reasons == ["dpop_key_mismatch"]


def test_dpop_configuration_is_checked() -> None:
    for bad in (
        {"algorithms": ["HS256"]},
        {"algorithms": ["none"]},
        {"algorithms": []},
        {"max_age": 0},
        {"max_age": -1},
        {"replay": object()},
        {"max_proof_bytes": 10},
    ):
        with pytest.raises(ConfigurationError):
            DPoP(**bad)


def test_dpop_needs_the_authorization_header(keys: Keys) -> None:
    from jwt_middleware import Cookie

    with pytest.raises(ConfigurationError):
        jwt_wsgi.JWTMiddleware(
            lambda e, s: [],
            verifier=Verifier(keys.verification_key("HS256")),
            dpop=DPoP(),
            sources=[Cookie("token")],
        )


# -- replay across machines sharing a Redis ---------------------------------------------


def test_replay_across_two_machines_sharing_redis(
    keys: Keys,
    clock: FakeClock,
    redis_url: str,
    redis_prefix: str,
    client_key: DPoPKey,
    bound_token: str,
) -> None:
    def machine() -> Any:
        verifier = Verifier(keys.verification_key("HS256"), clock=clock)
        dpop = DPoP(replay=RedisReplayCache(redis_url, prefix=redis_prefix))
        return jwt_asgi.JWTMiddleware(asgi_echo, verifier=verifier, dpop=dpop)

    first, second = machine(), machine()
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    headers = [("Host", "testserver"), *dpop_headers(bound_token, proof)]
    assert call_asgi(first, "/api", headers=headers).status == 200
    replayed = call_asgi(second, "/api", headers=headers)
    assert replayed.status == 401 and replayed.json()["error"] == "invalid_dpop_proof"
    wsgi = jwt_wsgi.JWTMiddleware(
        lambda e, s: [],
        verifier=Verifier(keys.verification_key("HS256"), clock=clock),
        dpop=DPoP(replay=RedisReplayCache(redis_url, prefix=redis_prefix)),
    )
    from werkzeug.test import Client

    response = Client(wsgi).get("/api", base_url="http://testserver", headers=headers)
    assert response.status_code == 401


def test_a_redis_that_is_down_fails_closed(
    adapter: Any, keys: Keys, clock: FakeClock, client_key: DPoPKey, bound_token: str
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    replay = RedisReplayCache(f"redis://127.0.0.1:{port}/0", timeout=0.2)
    client = adapter(
        Verifier(keys.verification_key("HS256"), clock=clock), dpop=DPoP(replay=replay)
    )
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=NOW)
    reply = client.get("/api", dpop_headers(bound_token, proof))
    assert reply.status == 503
    assert reply.header("Retry-After") is not None


def test_memory_replay_cache_forgets_expired_proofs_and_fails_closed_when_full(
    clock: FakeClock,
) -> None:
    cache = MemoryReplayCache(max_entries=2, clock=clock)
    assert cache.first_use("a", 10) and cache.first_use("b", 20)
    assert not cache.first_use("a", 10)
    from jwt_middleware.errors import ReplayCacheUnavailable

    with pytest.raises(ReplayCacheUnavailable):
        cache.first_use("c", 10)
    clock.advance(11)  # "a" expired: room again
    assert cache.first_use("c", 30)
    assert len(cache) == 2


def test_use_dpop_nonce_is_an_invalid_proof() -> None:
    assert issubclass(UseDPoPNonce, InvalidDPoPProof)
    assert UseDPoPNonce("n").error == "use_dpop_nonce"


# -- minting bound tokens -----------------------------------------------------------------


def test_the_issuer_binds_tokens_to_a_verified_proof(keys: Keys, clock: FakeClock) -> None:
    from jwt_middleware import StaticKey, TokenIssuer

    secret = keys.signing_material("HS256")
    issuer = TokenIssuer(StaticKey(secret, "HS256"), clock=clock)
    client = DPoPKey.generate()
    # The token endpoint checks the proof (no ath there), then binds the token to its key.
    token_endpoint = DPoP(replay=MemoryReplayCache(clock=clock))
    proof = client.proof("POST", "https://as.example/token", iat=NOW)
    jkt = token_endpoint.verify_proof(proof, method="POST", url="https://as.example/token", now=NOW)
    token = issuer.issue("alice", dpop_jkt=jkt)
    verifier = Verifier(StaticKey(secret, "HS256"), clock=clock, token_types=["at+jwt"])
    app = jwt_asgi.JWTMiddleware(
        asgi_echo, verifier=verifier, dpop=DPoP(replay=MemoryReplayCache(clock=clock))
    )
    api_proof = client.proof("GET", "http://testserver/api", access_token=token, iat=NOW)
    headers = [("Host", "testserver"), *dpop_headers(token, api_proof)]
    assert call_asgi(app, "/api", headers=headers).status == 200
    assert issuer.revoke(token)  # revoking needs no proof
    for bad in ("", "x" * 42, "+" * 43, 43):
        with pytest.raises(ValueError, match="thumbprint"):
            issuer.issue("alice", dpop_jkt=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cnf"):
        issuer.issue("alice", claims={"cnf": {"jkt": jkt}})


def test_replay_entries_live_as_long_as_the_proof_window(
    adapter: Any,
    keys: Keys,
    clock: FakeClock,
    client_key: DPoPKey,
    bound_token: str,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """Entries expire with the proof's window (max_age after its iat), not later: a
    one-entry memory cache has room again once the window is over, and Redis keys carry
    a TTL of at most the window."""
    memory = MemoryReplayCache(max_entries=1, clock=clock)
    client = adapter(
        Verifier(keys.verification_key("HS256"), clock=clock), dpop=DPoP(replay=memory)
    )

    def send() -> int:
        proof = client_key.proof("GET", URL, access_token=bound_token, iat=clock())
        return client.get("/api", dpop_headers(bound_token, proof)).status

    assert send() == 200
    assert send() == 503  # full: the first proof is still inside its window
    clock.advance(61)
    assert send() == 200

    import redis

    replay = RedisReplayCache(redis_url, prefix=redis_prefix)
    shared = adapter(
        Verifier(keys.verification_key("HS256"), clock=clock), dpop=DPoP(replay=replay)
    )
    proof = client_key.proof("GET", URL, access_token=bound_token, iat=clock() - 20)
    assert shared.get("/api", dpop_headers(bound_token, proof)).status == 200
    server = redis.Redis.from_url(redis_url)
    (key,) = server.keys(redis_prefix + "*")
    assert 38_000 <= server.pttl(key) <= 40_000  # 60 s window, 20 s of it gone


def test_bound_refresh_tokens_need_their_key(keys: Keys, clock: FakeClock) -> None:
    """RFC 9449 section 5: a pair issued for a DPoP key is bound to it, refresh token
    included; refreshing needs a proof by that key, checked before the refresh token is
    used up (a thief without the key cannot burn the session)."""
    import asyncio
    import base64 as b64

    from jwt_middleware import BindingMismatch, StaticKey, TokenIssuer

    def cnf(token: str) -> Any:
        payload = token.split(".")[1]
        return json.loads(b64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("cnf")

    issuer = TokenIssuer(StaticKey(keys.signing_material("HS256"), "HS256"), clock=clock)
    owner, thief = DPoPKey.generate(), DPoPKey.generate()
    pair = issuer.issue_pair("alice", dpop_jkt=owner.thumbprint)
    assert cnf(pair.access_token) == cnf(pair.refresh_token) == {"jkt": owner.thumbprint}
    assert pair.as_dict()["token_type"] == "DPoP"
    for proof_key, reason in ((None, "dpop_downgrade"), (thief.thumbprint, "dpop_key_mismatch")):
        with pytest.raises(BindingMismatch) as refused:
            issuer.refresh(pair.refresh_token, dpop_jkt=proof_key)
        assert refused.value.reason == reason
    renewed = issuer.refresh(pair.refresh_token, dpop_jkt=owner.thumbprint)  # not used up
    assert cnf(renewed.access_token) == cnf(renewed.refresh_token) == {"jkt": owner.thumbprint}
    again = asyncio.run(issuer.arefresh(renewed.refresh_token, dpop_jkt=owner.thumbprint))
    assert cnf(again.refresh_token) == {"jkt": owner.thumbprint}

    # An unbound (confidential client's) refresh token: the new access token is bound to
    # the proof's key, the refresh token stays unbound.
    plain = issuer.issue_pair("bob")
    bound_now = issuer.refresh(plain.refresh_token, dpop_jkt=owner.thumbprint)
    assert cnf(bound_now.access_token) == {"jkt": owner.thumbprint}
    assert cnf(bound_now.refresh_token) is None
    assert bound_now.token_type == "DPoP"
    unbound = issuer.refresh(bound_now.refresh_token)
    assert cnf(unbound.access_token) is None and unbound.token_type == "Bearer"


def test_nonce_rotation_reaches_a_websocket_accept(
    keys: Keys, clock: FakeClock, client_key: DPoPKey, bound_token: str
) -> None:
    import asyncio

    nonces = DPoPNonces("n" * 32, lifetime=60)
    verifier = Verifier(keys.verification_key("HS256"), clock=clock)
    dpop = DPoP(nonces=nonces, replay=MemoryReplayCache(clock=clock))

    async def accept(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-app", b"1")]})

    app = jwt_asgi.JWTMiddleware(accept, verifier=verifier, dpop=dpop)
    old = nonces.current(clock())
    clock.advance(60)  # the old nonce still passes; the accept should carry the new one
    proof = client_key.proof(
        "GET", "ws://testserver/ws", access_token=bound_token, iat=clock(), nonce=old
    )
    scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"DPoP {bound_token}".encode()),
            (b"dpop", proof.encode()),
        ],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["type"] == "websocket.accept"
    assert (b"dpop-nonce", nonces.current(clock()).encode()) in sent[0]["headers"]
    assert (b"x-app", b"1") in sent[0]["headers"]
