"""The adapters' fast path for tokens seen before: taken only in the plain case, and
every answer identical to the full path's (which it falls back to for everything else)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from jwt_middleware import (
    AuthPolicy,
    BearerHeader,
    ClientCertificates,
    Cookie,
    DPoP,
    Header,
    IssuerKeys,
    KeySet,
    MemoryDenylist,
    ProtectedResource,
    Rule,
    Verifier,
)
from jwt_middleware._policy import MiddlewareOptions

from .conftest import NOW, AdapterClient, FakeClock, Keys, TokenFactory
from .helpers import bearer

Adapter = Callable[..., AdapterClient]


def spy_full_path(client: AdapterClient) -> list[int]:
    """Count the requests that took the full path."""
    calls: list[int] = []
    policy = client.middleware.policy  # type: ignore[attr-defined]
    sync, asynchronous = policy.authenticate, policy.aauthenticate

    def authenticate(request: Any) -> Any:
        calls.append(1)
        return sync(request)

    async def aauthenticate(request: Any) -> Any:
        calls.append(1)
        return await asynchronous(request)

    policy.authenticate, policy.aauthenticate = authenticate, aauthenticate
    return calls


@pytest.fixture
def verifier(keys: Keys, clock: FakeClock) -> Verifier:
    return Verifier(keys.verification_key("HS256"), clock=clock)


def test_a_seen_token_takes_the_fast_path(
    adapter: Adapter, verifier: Verifier, make_token: TokenFactory
) -> None:
    client = adapter(verifier)
    full = spy_full_path(client)
    token = make_token(scope="read")
    first = client.get("/", bearer(token))
    again = [client.get("/", bearer(token)) for _ in range(3)]
    assert len(full) == 1  # only the first sight
    assert all(reply.status == 200 and reply.json() == first.json() for reply in again)


ISSUER, AUDIENCE = "https://idp.example/", "api"


def _same_token_text(reply: Any) -> Any:
    return (reply.status, reply.body, sorted(reply.raw_headers))


class Battery:
    """The requests both setups get, in the same order, on the same clock: tokens seen
    before (the fast path's case) mixed with every shape the full path must refuse."""

    def __init__(self, make_token: TokenFactory) -> None:
        common = {"iss": ISSUER, "aud": AUDIENCE, "sid": "s1"}
        self.main = make_token(exp=NOW + 10, scope="read", jti="j1", **common)
        self.other = make_token(exp=NOW + 100, sub="bob", scope="read write", jti="j2", **common)
        self.untyped = make_token(exp=NOW + 100, sub="carol", header={"typ": "at+jwt"}, **common)
        # Bound to a DPoP key: refused as a bearer token, even once it is cached.
        self.bound = make_token(exp=NOW + 100, jti="j3", cnf={"jkt": "k" * 43}, **common)

    def requests(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        main, other = bearer(self.main), bearer(self.other)
        origin = [("Origin", "https://evil.example")]
        return [
            ("GET", "/", main),
            ("GET", "/", main),  # seen before
            ("GET", "/", other),
            ("GET", "/", other),
            ("GET", "/", bearer(self.untyped)),
            ("GET", "/", bearer(self.bound)),
            ("GET", "/", bearer(self.bound)),
            ("GET", "/?access_token=x", main),
            ("OPTIONS", "/", [*main, ("Access-Control-Request-Method", "POST")]),
            ("GET", "/", main * 2),
            ("GET", "/", [("Authorization", f"bearer {self.main}")]),
            ("GET", "/", [("Authorization", f"Bearer {self.main}  ")]),
            ("GET", "/", [("X-Auth", f"Token {self.main}")]),
            ("GET", "/health", main),
            ("GET", "/public/docs", []),
            ("GET", "/", [("Cookie", f"access_token={self.main}")]),
            ("POST", "/", [("Cookie", f"access_token={self.main}"), *origin]),
            ("POST", "/", [*main, *origin]),
            ("GET", "/", []),
            ("GET", "/admin/users", main),
            ("GET", "/admin/users", other),
            ("HEAD", "/admin/users", main),
            ("GET", "/public/../admin/users", other),
        ]


class _Revoking(MemoryDenylist):
    """Revokes ``j1`` once the clock passes NOW + 5."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self._clock_of = clock

    def is_revoked(self, key: str) -> bool:
        if key == "jti:j1" and self._clock_of() >= NOW + 5:
            return True
        return super().is_revoked(key)


def _error_response(error: Any, default: Any) -> Any:
    return default.__class__(default.status, default.headers, b'{"error":"custom"}')


# Every option of both adapters and of the Verifier, each with the values that change
# what the fast path must do. A new option fails test_every_option_is_covered until it
# is listed here (and so walked through the equivalence test below).
MIDDLEWARE_OPTIONS: dict[str, list[Callable[[], Any]]] = {
    "sources": [
        lambda: [Cookie("access_token")],
        lambda: [BearerHeader(), Cookie("access_token")],
        lambda: [BearerHeader("X-Auth", "Token")],
        lambda: [Header("X-Auth")],
    ],
    "rules": [
        lambda: [
            Rule("/health", public=True),
            Rule("/admin/", scopes=["write"]),
            Rule("/", methods=["POST"], scopes=["read"]),
        ],
        lambda: [Rule("/", claims={"sub": "bob"})],
        lambda: [Rule("/", roles=["admin"])],
        lambda: [Rule("/public/", public=True), Rule("/admin/", claims={"scope": "write"})],
    ],
    "exempt": [lambda: ["/health", "/public/"]],
    "optional": [lambda: True],
    "realm": [lambda: "orders"],
    "required_scopes": [lambda: ["read"], lambda: ["write"]],
    "allow_preflight": [lambda: True],
    "reject_query_token": [lambda: False],
    "csrf": [lambda: False],
    "trusted_origins": [lambda: ["https://evil.example"]],
    "csrf_cookie": [lambda: "xsrf"],
    "csrf_header": [lambda: "X-XSRF"],
    "error_response": [lambda: _error_response],
    "on_decision": [lambda: lambda event: None],
    "warm_start": [lambda: False],
    "resource": [
        lambda: ProtectedResource("https://api.example/orders", authorization_servers=[ISSUER])
    ],
    "dpop": [lambda: DPoP(), lambda: DPoP(required=True)],
    "client_certificates": [lambda: ClientCertificates()],
    "public_origin": [lambda: "https://api.example"],
    "trusted_proxies": [lambda: ["127.0.0.1", "10.0.0.0/8"]],
    "require_https": [lambda: True],
    "allow_loopback_http": [lambda: True],  # alone: no effect
}
VERIFIER_OPTIONS: dict[str, list[Callable[[Keys, FakeClock], Any]]] = {
    "keys": [
        lambda keys, clock: KeySet([keys.verification_key("HS256")]),
        lambda keys, clock: lambda header, claims: keys.verification_key("HS256"),
        lambda keys, clock: IssuerKeys({ISSUER: keys.verification_key("HS256")}),
    ],
    "algorithms": [lambda keys, clock: ["HS256"], lambda keys, clock: ["HS384"]],
    "issuer": [lambda keys, clock: ISSUER, lambda keys, clock: "https://other.example/"],
    "audience": [lambda keys, clock: AUDIENCE, lambda keys, clock: "other"],
    "leeway": [lambda keys, clock: 20],
    "clock_skew": [lambda keys, clock: 0],
    "required_claims": [lambda keys, clock: ("exp", "jti"), lambda keys, clock: ("nope",)],
    "max_age": [lambda keys, clock: 5],
    "token_types": [lambda keys, clock: ["JWT"], lambda keys, clock: [None, "JWT"]],
    "max_token_bytes": [lambda keys, clock: 64, lambda keys, clock: 400],
    "denylist": [lambda keys, clock: _Revoking(clock)],
    "cache_size": [lambda keys, clock: 0, lambda keys, clock: 1],
    "cache_ttl": [lambda keys, clock: 3],
    "roles_claims": [lambda keys, clock: ["roles", "realm_access.roles"]],
    "validators": [
        lambda keys, clock: [lambda claims: None if claims.get("sub") == "alice" else "not_alice"],
        lambda keys, clock: [lambda claims: "never"],
    ],
    "clock": [lambda keys, clock: clock],  # always the test's clock
}


def test_every_option_is_covered() -> None:
    middleware = set(inspect.signature(AuthPolicy).parameters) - {"verifier"}
    assert middleware == set(MiddlewareOptions.__annotations__)  # both adapters' options
    assert set(MIDDLEWARE_OPTIONS) == middleware
    assert set(VERIFIER_OPTIONS) == set(inspect.signature(Verifier).parameters)


# The setups where no request may take the fast path: it needs a single bearer-header
# source, no exempt paths, no observer, a token cache and no denylist; and where every
# token is refused there is nothing cached to serve. Every other setup must take it,
# so the comparison below is never between two full paths.
NEVER_FAST = {
    "sources-0",
    "sources-1",
    "sources-3",
    "on_decision-0",
    "verifier.keys-1",  # a plain function: nothing tells when its keys change
    "verifier.algorithms-1",
    "verifier.issuer-1",
    "verifier.audience-1",
    "verifier.required_claims-1",
    "verifier.max_token_bytes-0",
    "verifier.denylist-0",
    "verifier.cache_size-0",
    "verifier.validators-1",  # refuses every token
    "dpop-1",  # DPoP required: bearer tokens are all refused
    "require_https-0",  # every test request is plain http
}
CASES = [pytest.param("middleware", "", None, id="defaults")]
CASES += [
    pytest.param("middleware", name, make, id=f"{name}-{index}")
    for name, makers in MIDDLEWARE_OPTIONS.items()
    for index, make in enumerate(makers)
]
CASES += [
    pytest.param("verifier", name, make, id=f"verifier.{name}-{index}")
    for name, makers in VERIFIER_OPTIONS.items()
    for index, make in enumerate(makers)
]


def test_the_never_fast_list_names_cases() -> None:
    assert {case.id for case in CASES} >= NEVER_FAST


@pytest.mark.parametrize(("kind", "name", "make"), CASES)
def test_the_fast_path_answers_as_the_full_path_for_every_option(
    adapter: Adapter,
    keys: Keys,
    make_token: TokenFactory,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    kind: str,
    name: str,
    make: Callable[..., Any] | None,
) -> None:
    """One setup as configured, one with the fast path switched off: the same requests
    (three rounds, the clock moving between them) get byte-identical answers, and the
    app sees the same claims."""
    battery = Battery(make_token)

    def run(fast: bool) -> tuple[list[Any], int]:
        clock = FakeClock(NOW)
        verifier_options: dict[str, Any] = {"clock": clock, "issuer": ISSUER, "audience": AUDIENCE}
        options: dict[str, Any] = {}
        if make is not None and kind == "verifier":
            verifier_options[name] = make(keys, clock)
        elif make is not None:
            options[name] = make()
        keys_given = verifier_options.pop("keys", keys.verification_key("HS256"))
        verifier = Verifier(keys_given, **verifier_options)
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(AuthPolicy, "_fast_path", lambda self: None)
            client = adapter(verifier, **options)
        full = spy_full_path(client)
        replies, sent = [], 0
        for step in (0, 4, 4, 8):  # NOW, +4, +8 (max_age, cache_ttl), +16 (main expired)
            clock.advance(step)
            for method, path, headers in battery.requests():
                replies.append(_same_token_text(client.request(method, path, headers)))
                sent += 1
        return replies, sent - len(full)

    fast_replies, taken = run(fast=True)
    full_replies, none_taken = run(fast=False)
    assert none_taken == 0
    assert fast_replies == full_replies
    case = request.node.callspec.id.split("-", 1)[1]  # without the adapter's name
    assert (taken > 0) == (case not in NEVER_FAST), f"fast path taken {taken} times"


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"sources": [Cookie("access_token")]}, id="cookie-source"),
        pytest.param({"on_decision": lambda event: None}, id="observer"),
    ],
)
def test_not_taken_when_the_setup_needs_the_full_path(
    adapter: Adapter, verifier: Verifier, make_token: TokenFactory, options: dict[str, Any]
) -> None:
    client = adapter(verifier, **options)
    full = spy_full_path(client)
    token = make_token()
    headers = [*bearer(token), ("Cookie", f"access_token={token}")]
    for _ in range(3):
        assert client.get("/", headers).status == 200
    assert len(full) == 3


def test_not_taken_with_a_denylist(
    adapter: Adapter, keys: Keys, clock: FakeClock, make_token: TokenFactory
) -> None:
    denylist = MemoryDenylist(clock=clock)
    client = adapter(Verifier(keys.verification_key("HS256"), clock=clock, denylist=denylist))
    full = spy_full_path(client)
    token = make_token(jti="j1")
    assert client.get("/", bearer(token)).status == 200
    denylist.revoke("jti:j1", NOW + 3600)
    assert client.get("/", bearer(token)).status == 401
    assert len(full) == 2


def test_debug_logging_takes_the_full_path(
    adapter: Adapter, verifier: Verifier, make_token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="jwt_middleware")
    client = adapter(verifier)
    full = spy_full_path(client)
    token = make_token()
    client.get("/", bearer(token))
    client.get("/", bearer(token))
    assert len(full) == 2
    assert caplog.text.count("allowed 'GET'") == 2


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"require_https": True}, id="connection"),
        pytest.param(
            {"require_https": True, "public_origin": "https://api.example"}, id="public-origin"
        ),
    ],
)
def test_require_https_keeps_the_fast_path_for_https(
    verifier: Verifier, make_token: TokenFactory, options: dict[str, Any]
) -> None:
    """Cached tokens over https take the fast path; over http (by the connection) they
    go to the full path, which refuses them, as the first sight was."""
    from werkzeug.test import Client

    from jwt_middleware.wsgi import JWTMiddleware

    from .conftest import wsgi_echo

    app = JWTMiddleware(wsgi_echo, verifier=verifier, **options)
    full: list[int] = []
    sync = app.policy.authenticate
    app.policy.authenticate = lambda request: full.append(1) or sync(request)  # type: ignore[method-assign]
    headers = bearer(make_token())
    for _ in range(3):
        assert Client(app).get("/", "https://api.example", headers=headers).status_code == 200
    assert len(full) == 1
    plain = Client(app).get("/", "http://api.example", headers=headers).status_code
    assert plain == (200 if "public_origin" in options else 400)
    assert len(full) == (1 if "public_origin" in options else 2)


def test_require_https_behind_trusted_proxies_takes_the_full_path(
    verifier: Verifier, make_token: TokenFactory
) -> None:
    from jwt_middleware import AuthPolicy

    policy = AuthPolicy(verifier, require_https=True, trusted_proxies=["10.0.0.1"])
    assert policy._fast_header is None  # the proxies' headers decide each request
