"""The behaviour table of DESIGN.md and the issue, run through both adapters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jwt_middleware import AuthEvent, BearerHeader, Cookie, Header, KeySet, StaticKey, Verifier

from .conftest import (
    NOW,
    AdapterClient,
    Keys,
    TokenFactory,
    b64url,
    pem_public,
    sign_raw,
    tampered,
)
from .helpers import assert_refused, bearer

Adapter = Callable[..., AdapterClient]


# (id, build(make_token, keys) -> token, verifier options, status, reason)
TOKEN_CASES: list[Any] = [
    pytest.param(lambda mk, k: mk(), {}, 200, "ok", id="valid"),
    pytest.param(lambda mk, k: mk(exp=NOW), {}, 401, "expired", id="exp-equal-to-now-is-expired"),
    pytest.param(lambda mk, k: mk(exp=NOW + 1), {}, 200, "ok", id="exp-one-second-ahead"),
    pytest.param(
        lambda mk, k: mk(exp=NOW - 5), {"leeway": 10}, 200, "ok", id="expired-within-leeway"
    ),
    pytest.param(lambda mk, k: mk(exp=None), {}, 401, "invalid_claims", id="exp-missing"),
    pytest.param(
        lambda mk, k: mk(exp=None),
        {"required_claims": ()},
        200,
        "ok",
        id="exp-optional-when-configured",
    ),
    pytest.param(lambda mk, k: mk(exp=str(NOW + 60)), {}, 401, "invalid_claims", id="exp-string"),
    pytest.param(lambda mk, k: mk(exp=True), {}, 401, "invalid_claims", id="exp-bool"),
    pytest.param(lambda mk, k: mk(exp=[NOW + 60]), {}, 401, "invalid_claims", id="exp-list"),
    pytest.param(lambda mk, k: mk(exp=10**30), {}, 401, "invalid_claims", id="exp-huge"),
    pytest.param(lambda mk, k: mk(nbf=NOW + 30), {}, 401, "not_yet_valid", id="nbf-future"),
    pytest.param(lambda mk, k: mk(nbf=NOW + 30), {"leeway": 60}, 200, "ok", id="nbf-within-leeway"),
    pytest.param(lambda mk, k: mk(iat=NOW + 30), {}, 401, "not_yet_valid", id="iat-future"),
    pytest.param(
        lambda mk, k: mk(iat=NOW - 600), {"max_age": 300}, 401, "expired", id="older-than-max-age"
    ),
    pytest.param(
        lambda mk, k: mk(iat=None), {"max_age": 300}, 401, "invalid_claims", id="max-age-needs-iat"
    ),
    pytest.param(
        lambda mk, k: mk(iss="https://idp/"),
        {"issuer": "https://idp/"},
        200,
        "ok",
        id="issuer-match",
    ),
    pytest.param(
        lambda mk, k: mk(iss="https://b/"),
        {"issuer": ["https://a/", "https://b/"]},
        200,
        "ok",
        id="issuer-in-list",
    ),
    pytest.param(
        lambda mk, k: mk(iss="https://evil/"),
        {"issuer": "https://idp/"},
        401,
        "invalid_claims",
        id="issuer-mismatch",
    ),
    pytest.param(
        lambda mk, k: mk(), {"issuer": "https://idp/"}, 401, "invalid_claims", id="issuer-missing"
    ),
    pytest.param(lambda mk, k: mk(aud="api"), {"audience": "api"}, 200, "ok", id="aud-match"),
    pytest.param(
        lambda mk, k: mk(aud=["x", "api"]), {"audience": "api"}, 200, "ok", id="aud-list-match"
    ),
    pytest.param(
        lambda mk, k: mk(aud="other"), {"audience": "api"}, 401, "invalid_claims", id="aud-mismatch"
    ),
    pytest.param(
        lambda mk, k: mk(),
        {"audience": "api"},
        401,
        "invalid_claims",
        id="aud-required-when-configured",
    ),
    pytest.param(
        lambda mk, k: mk(aud="api"), {}, 401, "invalid_claims", id="aud-present-but-none-configured"
    ),
    pytest.param(
        lambda mk, k: mk(aud=[]), {"audience": "api"}, 401, "invalid_claims", id="aud-empty-list"
    ),
    pytest.param(
        lambda mk, k: mk(aud=["api", 7]),
        {"audience": "api"},
        401,
        "invalid_claims",
        id="aud-list-with-number",
    ),
    pytest.param(lambda mk, k: mk(sub=42), {}, 401, "invalid_claims", id="sub-not-string"),
    pytest.param(
        lambda mk, k: mk(header={"typ": "refresh+jwt"}),
        {},
        401,
        "wrong_token_type",
        id="refresh-token-typ",
    ),
    pytest.param(
        lambda mk, k: mk(header={"typ": "application/at+jwt"}),
        {},
        200,
        "ok",
        id="typ-at-jwt-with-prefix",
    ),
    pytest.param(lambda mk, k: mk(header={"typ": None}), {}, 200, "ok", id="typ-absent"),
    pytest.param(
        lambda mk, k: mk(header={"typ": "JWT"}),
        {"token_types": ["at+jwt"]},
        401,
        "wrong_token_type",
        id="typ-not-configured",
    ),
    pytest.param(
        lambda mk, k: mk(header={"crit": ["exp"], "exp": 1}),
        {},
        401,
        "malformed",
        id="unknown-crit",
    ),
    pytest.param(lambda mk, k: mk(header={"cty": "JWT"}), {}, 401, "malformed", id="nested-jwt"),
    pytest.param(lambda mk, k: mk(header={"kid": 7}), {}, 401, "malformed", id="kid-not-string"),
    pytest.param(
        lambda mk, k: tampered(mk()),
        {},
        401,
        "bad_signature",
        id="tampered-signature",
    ),
    pytest.param(
        lambda mk, k: sign_raw(
            {"alg": "HS256"},
            {"sub": "a", "exp": NOW + 60},
            b"another secret of thirty-two bytes!",
            "HS256",
        ),
        {},
        401,
        "bad_signature",
        id="other-secret",
    ),
    pytest.param(
        lambda mk, k: mk("RS256"), {}, 401, "disallowed_algorithm", id="rs256-token-for-hs-key"
    ),
    pytest.param(
        lambda mk, k: mk(),
        {"algorithms": ["HS512"]},
        401,
        "disallowed_algorithm",
        id="alg-outside-allowlist",
    ),
    pytest.param(
        lambda mk, k: b64url(b'{"alg":"none"}') + "." + b64url(b'{"sub":"a"}') + ".",
        {},
        401,
        "malformed",
        id="alg-none-empty-signature",
    ),
    pytest.param(
        lambda mk, k: b64url(b'{"alg":"none"}') + "." + b64url(b'{"sub":"a"}') + ".AA",
        {},
        401,
        "disallowed_algorithm",
        id="alg-none",
    ),
    pytest.param(
        lambda mk, k: b64url(b'{"alg":"nOnE"}') + "." + b64url(b'{"sub":"a"}') + ".AA",
        {},
        401,
        "disallowed_algorithm",
        id="alg-none-mixed-case",
    ),
    pytest.param(lambda mk, k: "abc.def", {}, 401, "malformed", id="two-segments"),
    pytest.param(lambda mk, k: mk() + ".x", {}, 401, "malformed", id="four-segments"),
    pytest.param(lambda mk, k: mk() + "=", {}, 401, "malformed", id="padding"),
    pytest.param(lambda mk, k: "a" * 9000, {}, 401, "malformed", id="oversized"),
    pytest.param(
        lambda mk, k: sign_raw({"alg": "HS256"}, b"not json", k.signing_material("HS256"), "HS256"),
        {},
        401,
        "malformed",
        id="payload-not-json",
    ),
    pytest.param(
        lambda mk, k: sign_raw({"alg": "HS256"}, b"[1,2]", k.signing_material("HS256"), "HS256"),
        {},
        401,
        "malformed",
        id="payload-array",
    ),
    pytest.param(
        lambda mk, k: sign_raw(
            b'{"alg":"HS256","alg":"none"}', {"exp": NOW + 9}, k.signing_material("HS256"), "HS256"
        ),
        {},
        401,
        "malformed",
        id="duplicate-header-member",
    ),
]


@pytest.mark.parametrize(("build", "options", "status", "reason"), TOKEN_CASES)
def test_token_table(
    adapter: Adapter,
    make_token: TokenFactory,
    keys: Keys,
    build: Any,
    options: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    events: list[AuthEvent] = []
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: NOW, **options)
    client = adapter(verifier, realm="api", on_decision=events.append)

    reply = client.get("/resource", bearer(build(make_token, keys)))

    assert [event.reason for event in events] == [reason]
    if status == 200:
        assert reply.status == 200
        seen = reply.json()
        assert seen["user"] == "alice"
        assert seen["claims"]["sub"] == "alice"
        assert seen["header"]["alg"] == "HS256"
    else:
        assert_refused(reply, status, "invalid_token", challenge_error="invalid_token")
        assert reply.header("WWW-Authenticate").startswith('Bearer realm="api", ')


REQUEST_CASES: list[Any] = [
    pytest.param([], 401, "missing_token", None, "missing", id="no-credentials"),
    pytest.param(
        [("Authorization", "Basic dXNlcjpwdw==")],
        401,
        "missing_token",
        None,
        "missing",
        id="other-scheme",
    ),
    pytest.param(
        [("Authorization", "Bearer")],
        400,
        "invalid_request",
        "invalid_request",
        "invalid_request",
        id="bearer-without-token",
    ),
    pytest.param(
        [("Authorization", "Bearer   ")],
        400,
        "invalid_request",
        "invalid_request",
        "invalid_request",
        id="bearer-blank",
    ),
    pytest.param(
        [("Authorization", "Bearer a b")],
        400,
        "invalid_request",
        "invalid_request",
        "invalid_request",
        id="bearer-two-tokens",
    ),
    pytest.param(
        [("Authorization", 'Bearer a"b')],
        400,
        "invalid_request",
        "invalid_request",
        "invalid_request",
        id="bearer-bad-characters",
    ),
    pytest.param(
        [("Authorization", "Bearer x.y.z"), ("Authorization", "Bearer x.y.z")],
        400,
        "invalid_request",
        "invalid_request",
        "invalid_request",
        id="two-authorization-headers",
    ),
    pytest.param(
        [("Authorization", "Basic dXNlcjpwdw=="), ("Authorization", "Bearer x.y.z")],
        400,
        "invalid_request",
        "invalid_request",
        "invalid_request",
        id="bearer-behind-basic",
    ),
]


@pytest.mark.parametrize(("headers", "status", "error", "challenge_error", "reason"), REQUEST_CASES)
def test_request_table(
    adapter: Adapter,
    hs_verifier: Verifier,
    headers: list[tuple[str, str]],
    status: int,
    error: str,
    challenge_error: str | None,
    reason: str,
) -> None:
    events: list[AuthEvent] = []
    client = adapter(hs_verifier, realm="api", on_decision=events.append)
    reply = client.get("/resource", headers)
    assert_refused(reply, status, error, challenge_error=challenge_error)
    assert [event.reason for event in events] == [reason]
    if status == 401:
        assert reply.header("WWW-Authenticate") == 'Bearer realm="api"'


def test_scheme_is_case_insensitive(
    adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    reply = adapter(hs_verifier).get("/", [("Authorization", f"bEaReR {make_token()}")])
    assert reply.status == 200


def test_no_realm_still_gives_an_auth_param(adapter: Adapter, hs_verifier: Verifier) -> None:
    reply = adapter(hs_verifier).get("/")  # RFC 6750 section 3: never a bare "Bearer"
    assert reply.status == 401
    assert reply.header("WWW-Authenticate") == 'Bearer realm="api"'


class TestQueryString:
    def test_token_in_query_is_a_bad_request(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        token = make_token()
        reply = adapter(hs_verifier).get(f"/r?access_token={token}", bearer(token))
        assert_refused(reply, 400, "invalid_request", challenge_error="invalid_request")
        assert token not in reply.body.decode() + json.dumps(reply.raw_headers)

    def test_encoded_parameter_name_is_caught(
        self, adapter: Adapter, hs_verifier: Verifier
    ) -> None:
        reply = adapter(hs_verifier).get("/r?a=1&access%5Ftoken=x")
        assert reply.status == 400

    def test_query_token_is_never_used_when_rejection_is_off(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, reject_query_token=False)
        assert client.get(f"/r?access_token={make_token()}").status == 401
        assert client.get("/r?access_token=x", bearer(make_token())).status == 200


class TestSources:
    def test_custom_header(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, sources=[Header("X-Access-Token")])
        assert client.get("/", [("X-Access-Token", make_token())]).status == 200
        assert client.get("/", bearer(make_token())).status == 401

    def test_sources_tried_in_order(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, sources=[BearerHeader(), Cookie("access_token")])
        good, bad = make_token(sub="from-header"), make_token(exp=NOW - 1)
        reply = client.get("/", [*bearer(good), ("Cookie", f"access_token={bad}")])
        assert reply.json()["user"] == "from-header"
        reply = client.get("/", [("Cookie", f"access_token={make_token(sub='from-cookie')}")])
        assert reply.json()["user"] == "from-cookie"

    def test_cookie_is_read_among_others(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, sources=[Cookie("access_token")])
        cookie = f'theme=dark; broken="x; access_token={make_token()}; lang=en'
        assert client.get("/", [("Cookie", cookie)]).status == 200

    def test_two_token_cookies_are_refused(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, sources=[Cookie("access_token")])
        cookie = f"access_token={make_token()}; access_token={make_token(sub='mallory')}"
        assert_refused(
            client.get("/", [("Cookie", cookie)]),
            400,
            "invalid_request",
            challenge_error="invalid_request",
        )

    def test_non_utf8_cookie_header_is_no_crash(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        """Found by hypothesis: werkzeug.http.parse_cookie raises on a non-UTF-8 byte."""
        client = adapter(hs_verifier, sources=[Cookie("access_token")])
        assert client.get("/", [("Cookie", "a=\x80\xff")]).status == 401
        reply = client.get("/", [("Cookie", f"x=\xe9; access_token={make_token()}")])
        assert reply.status == 200

    def test_crashing_custom_source_fails_closed(
        self, adapter: Adapter, hs_verifier: Verifier
    ) -> None:
        class Broken:
            sent_automatically = False

            def extract(self, request: Any) -> str | None:
                raise UnicodeError("a bug in a custom source")

        events: list[AuthEvent] = []
        reply = adapter(hs_verifier, sources=[Broken()], on_decision=events.append).get("/")
        assert_refused(reply, 401, "invalid_token", challenge_error="invalid_token")
        assert events[0].reason == "internal_error"

    def test_empty_cookie_is_no_token(self, adapter: Adapter, hs_verifier: Verifier) -> None:
        client = adapter(hs_verifier, sources=[Cookie("access_token")])
        assert client.get("/", [("Cookie", "access_token=")]).status == 401


class TestCSRF:
    """Cookie-borne tokens on unsafe methods need proof of a same-origin request."""

    @pytest.fixture
    def client(self, adapter: Adapter, hs_verifier: Verifier) -> AdapterClient:
        return adapter(
            hs_verifier,
            sources=[Cookie("access_token"), BearerHeader()],
            trusted_origins=["https://app.example"],
        )

    def cookie(self, make_token: TokenFactory, extra: str = "") -> tuple[str, str]:
        return ("Cookie", f"access_token={make_token()}{extra}")

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_cross_site_unsafe_method_refused(
        self, client: AdapterClient, method: str, make_token: TokenFactory
    ) -> None:
        reply = client.request(
            method,
            "/",
            [
                self.cookie(make_token),
                ("Origin", "https://evil.example"),
                ("Sec-Fetch-Site", "cross-site"),
            ],
        )
        assert_refused(reply, 403, "csrf_failed", challenge_error=None)
        assert reply.header("WWW-Authenticate") is None

    def test_no_evidence_refused(self, client: AdapterClient, make_token: TokenFactory) -> None:
        assert client.request("POST", "/", [self.cookie(make_token)]).status == 403

    def test_same_site_is_not_same_origin(
        self, client: AdapterClient, make_token: TokenFactory
    ) -> None:
        reply = client.request(
            "POST", "/", [self.cookie(make_token), ("Sec-Fetch-Site", "same-site")]
        )
        assert reply.status == 403

    @pytest.mark.parametrize("site", ["same-origin", "none", "Same-Origin"])
    def test_fetch_metadata_same_origin(
        self, client: AdapterClient, site: str, make_token: TokenFactory
    ) -> None:
        reply = client.request("POST", "/", [self.cookie(make_token), ("Sec-Fetch-Site", site)])
        assert reply.status == 200

    @pytest.mark.parametrize(
        "origin",
        [
            "http://testserver",
            "HTTP://TestServer:80",
            "https://app.example",
            "https://app.example:443",
        ],
    )
    def test_matching_origin(
        self, client: AdapterClient, origin: str, make_token: TokenFactory
    ) -> None:
        reply = client.request("POST", "/", [self.cookie(make_token), ("Origin", origin)])
        assert reply.status == 200

    @pytest.mark.parametrize(
        "origin",
        [
            "null",
            "https://testserver",
            "http://testserver.evil",
            "http://app.example",
            "https://app.example.evil",
        ],
    )
    def test_other_origins(
        self, client: AdapterClient, origin: str, make_token: TokenFactory
    ) -> None:
        reply = client.request("POST", "/", [self.cookie(make_token), ("Origin", origin)])
        assert reply.status == 403

    def test_double_submit(self, client: AdapterClient, make_token: TokenFactory) -> None:
        cookie = self.cookie(make_token, "; csrf_token=abc123")
        assert client.request("POST", "/", [cookie, ("X-CSRF-Token", "abc123")]).status == 200
        assert client.request("POST", "/", [cookie, ("X-CSRF-Token", "abc124")]).status == 403
        assert (
            client.request("POST", "/", [self.cookie(make_token), ("X-CSRF-Token", "")]).status
            == 403
        )

    def test_safe_methods_need_no_proof(
        self, client: AdapterClient, make_token: TokenFactory
    ) -> None:
        for method in ("GET", "HEAD"):
            assert client.request(method, "/", [self.cookie(make_token)]).status == 200

    def test_header_tokens_need_no_proof(
        self, client: AdapterClient, make_token: TokenFactory
    ) -> None:
        reply = client.request(
            "POST", "/", [*bearer(make_token()), ("Origin", "https://evil.example")]
        )
        assert reply.status == 200

    def test_can_be_switched_off(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, sources=[Cookie("access_token")], csrf=False)
        assert client.request("POST", "/", [self.cookie(make_token)]).status == 200


class TestExemptAndModes:
    def test_exempt_exact_and_prefix(self, adapter: Adapter, hs_verifier: Verifier) -> None:
        client = adapter(hs_verifier, exempt=["/health", "/public/"])
        assert client.get("/health").status == 200
        assert client.get("/public/logo.png").status == 200
        assert client.get("/public/").status == 200
        # (clients normalise literal dot segments; encoded slashes reach the server)
        for path in (
            "/health/",
            "/healthz",
            "/publicity",
            "/public",
            "/PUBLIC/x",
            "/public%2F..%2Fadmin",
            "/public/%2E%2E/admin",
        ):
            assert client.get(path).status == 401, path

    def test_root_is_exact(self, adapter: Adapter, hs_verifier: Verifier) -> None:
        client = adapter(hs_verifier, exempt=["/"])
        assert client.get("/").status == 200
        assert client.get("/admin").status == 401

    def test_exempt_request_is_anonymous(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        seen = adapter(hs_verifier, exempt=["/health"]).get("/health", bearer("junk")).json()
        assert seen["claims"] is None and seen["user"] is None

    def test_optional_mode(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, optional=True)
        anonymous = client.get("/")
        assert anonymous.status == 200
        assert anonymous.json() == {
            "claims": None,
            "header": None,
            "user": None,
            "scopes": [],
            "roles": [],
            "dpop_jkt": None,
        }
        assert client.get("/", bearer(make_token())).json()["user"] == "alice"
        assert client.get("/", bearer(make_token(exp=NOW - 1))).status == 401
        assert client.get("/", [("Authorization", "Bearer")]).status == 400

    @pytest.mark.parametrize(
        ("claims", "status"),
        [
            pytest.param({"scope": "read write"}, 200, id="scope-string"),
            pytest.param({"scp": ["write", "read"]}, 200, id="scp-list"),
            pytest.param({"scp": "read write admin"}, 200, id="scp-string"),
            pytest.param({"scope": "read"}, 403, id="one-missing"),
            pytest.param({}, 403, id="no-scopes"),
            pytest.param({"scope": ["read", "write"]}, 200, id="scope-as-list"),
            pytest.param({"scope": 5}, 403, id="scope-wrong-type"),
        ],
    )
    def test_required_scopes(
        self,
        adapter: Adapter,
        hs_verifier: Verifier,
        make_token: TokenFactory,
        claims: dict[str, Any],
        status: int,
    ) -> None:
        client = adapter(hs_verifier, required_scopes=["read", "write"], realm="api")
        reply = client.get("/", bearer(make_token(**claims)))
        if status == 200:
            assert reply.status == 200
            assert set(reply.json()["scopes"]) >= {"read", "write"}
        else:
            assert_refused(reply, 403, "insufficient_scope", challenge_error="insufficient_scope")
            assert reply.header("WWW-Authenticate").endswith(', scope="read write"')


class TestHooks:
    def test_error_response_hook(self, adapter: Adapter, hs_verifier: Verifier) -> None:
        from jwt_middleware import ErrorResponse

        def problem(error: Any, default: ErrorResponse) -> ErrorResponse:
            body = json.dumps({"title": error.description, "status": error.status}).encode()
            # keeps the default's (now stale) Content-Length: the policy must fix it
            headers = [h for h in default.headers if h[0] != "Content-Type"]
            return ErrorResponse(
                default.status, (*headers, ("Content-Type", "application/problem+json")), body
            )

        reply = adapter(hs_verifier, error_response=problem).get("/")
        assert reply.status == 401
        assert reply.header("Content-Type") == "application/problem+json"
        assert reply.header("Content-Length") == str(len(reply.body))
        assert reply.json()["status"] == 401
        assert reply.header("WWW-Authenticate") == 'Bearer realm="api"'

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param(lambda e, d: None, id="returns-none"),
            pytest.param(lambda e, d: 1 / 0, id="raises"),
            pytest.param(lambda e, d: type(d)(200, d.headers, d.body), id="opens-the-door"),
            pytest.param(
                lambda e, d: type(d)(401, (("X-A", "é\u2603"),), d.body), id="not-latin-1"
            ),
            pytest.param(
                lambda e, d: type(d)(401, (("X-A", "a\r\nSet-Cookie: x=y"),), d.body),
                id="header-injection",
            ),
        ],
    )
    def test_broken_hook_falls_back_to_default(
        self, adapter: Adapter, hs_verifier: Verifier, bad: Any
    ) -> None:
        reply = adapter(hs_verifier, error_response=bad).get("/")
        assert_refused(reply, 401, "missing_token", challenge_error=None)

    def test_failing_observer_does_not_change_the_answer(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        def explode(event: AuthEvent) -> None:
            raise RuntimeError("metrics backend down")

        client = adapter(hs_verifier, on_decision=explode)
        assert client.get("/", bearer(make_token())).status == 200
        assert client.get("/").status == 401

    def test_events_carry_kid_and_issuer(
        self, adapter: Adapter, keys: Keys, make_token: TokenFactory
    ) -> None:
        events: list[AuthEvent] = []
        verifier = Verifier(keys.verification_key("HS256", kid="k1"), clock=lambda: NOW)
        client = adapter(verifier, on_decision=events.append)
        client.get("/", bearer(make_token(kid="k1", iss="https://idp/")))
        client.get("/", bearer(make_token(kid="k2", iss="https://idp/")))
        assert [(e.reason, e.status, e.kid, e.issuer, e.subject) for e in events] == [
            ("ok", None, "k1", "https://idp/", "alice"),
            ("unknown_key", 401, "k2", "https://idp/", None),
        ]


class TestKeys:
    def test_key_set_selects_by_kid(
        self, adapter: Adapter, keys: Keys, make_token: TokenFactory
    ) -> None:
        key_set = KeySet(
            [
                keys.verification_key("RS256", kid="rsa"),
                keys.verification_key("ES256", kid="ec"),
                keys.verification_key("HS256", kid="hs"),
            ]
        )
        client = adapter(Verifier(key_set, clock=lambda: NOW))
        for alg, kid in (("RS256", "rsa"), ("ES256", "ec"), ("HS256", "hs")):
            assert client.get("/", bearer(make_token(alg, kid=kid))).status == 200
        assert client.get("/", bearer(make_token("RS256", kid="nope"))).status == 401
        assert client.get("/", bearer(make_token("RS256"))).status == 401  # no kid, several keys
        # the right key under the wrong kid: the algorithm comes from the key
        assert client.get("/", bearer(make_token("ES256", kid="rsa"))).status == 401

    def test_hs_rs_key_confusion(self, adapter: Adapter, keys: Keys) -> None:
        """CVE-2015-9235 style: an HS256 token signed with the RSA public key as secret."""
        public_pem = pem_public(keys.rsa)
        forged = sign_raw({"alg": "HS256"}, {"sub": "root", "exp": NOW + 60}, public_pem, "HS256")
        client = adapter(Verifier(StaticKey(public_pem, "RS256"), clock=lambda: NOW))
        assert client.get("/", bearer(forged)).status == 401

    def test_sync_callable_resolver(
        self, adapter: Adapter, keys: Keys, make_token: TokenFactory
    ) -> None:
        seen: list[tuple[Any, Any]] = []

        def resolver(header: Any, claims: Any) -> bytes:
            seen.append((header.get("kid"), claims.get("iss")))
            return pem_public(keys.ec256)

        client = adapter(Verifier(resolver, clock=lambda: NOW))
        assert client.get("/", bearer(make_token("ES256", kid="a", iss="i"))).status == 200
        assert client.get("/", bearer(make_token("HS256", kid="a", iss="i"))).status == 401
        assert seen == [("a", "i"), ("a", "i")]

    def test_resolver_crash_fails_closed(self, adapter: Adapter, make_token: TokenFactory) -> None:
        events: list[AuthEvent] = []

        def resolver(header: Any, claims: Any) -> bytes:
            raise KeyError("database down")

        client = adapter(Verifier(resolver, clock=lambda: NOW), on_decision=events.append)
        reply = client.get("/", bearer(make_token()))
        assert_refused(reply, 401, "invalid_token", challenge_error="invalid_token")
        assert events[0].reason == "internal_error"

    def test_keys_unavailable_is_503(self, adapter: Adapter, make_token: TokenFactory) -> None:
        from jwt_middleware import KeysUnavailable

        def resolver(header: Any, claims: Any) -> bytes:
            raise KeysUnavailable(retry_after=12)

        reply = adapter(Verifier(resolver, clock=lambda: NOW)).get("/", bearer(make_token()))
        assert_refused(reply, 503, "temporarily_unavailable", challenge_error=None)
        assert reply.header("Retry-After") == "12"
        assert reply.header("WWW-Authenticate") is None


def test_token_never_echoed(
    adapter: Adapter,
    hs_verifier: Verifier,
    make_token: TokenFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="jwt_middleware")
    client = adapter(hs_verifier)
    for token in (make_token(exp=NOW - 1), make_token(), make_token(header={"kid": "k\r\nX: y"})):
        reply = client.get("/", bearer(token))
        signature = token.rsplit(".", 1)[1]
        assert signature not in reply.body.decode()
        assert signature not in json.dumps(reply.raw_headers)
        assert signature not in caplog.text
    assert "\r\nX: y" not in caplog.text
