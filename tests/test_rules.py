"""Per-route rules: first match wins on the routed path; public routes, scopes and claim
conditions; the same answers through both adapters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jwt_middleware import ConfigurationError, Rule, Verifier
from jwt_middleware._rules import Rules

from .conftest import AdapterClient, TokenFactory
from .helpers import assert_refused, bearer

Adapter = Callable[..., AdapterClient]

RULES = [
    Rule("/health", public=True),
    Rule("/admin/", scopes=["admin"]),
    Rule("/orders/", methods=["POST", "DELETE"], scopes=["orders:write"]),
    Rule("/reports/", claims={"realm_access.roles": "auditor"}),
    Rule("/docs/", public=True),
    Rule("/docs/private/", scopes=["admin"]),  # after /docs/: never reached
]


class TestMatching:
    rules = Rules(RULES)

    @pytest.mark.parametrize(
        ("method", "path", "expected"),
        [
            ("GET", "/health", "/health"),
            ("GET", "/health/", None),
            ("GET", "/healthz", None),
            ("GET", "/admin/", "/admin/"),
            ("GET", "/admin/users/1", "/admin/"),
            ("GET", "/admin", None),
            ("GET", "/administrator", None),
            ("POST", "/orders/1", "/orders/"),
            ("DELETE", "/orders/1", "/orders/"),
            ("GET", "/orders/1", None),
            ("GET", "/docs/private/x", "/docs/"),  # first match wins
            ("GET", "/docs/../admin/x", None),  # dot segments ride on no public rule
            ("GET", "/docs/a\\..\\..\\admin", None),
            ("GET", "/", None),
        ],
    )
    def test_first_match_on_the_routed_path(
        self, method: str, path: str, expected: str | None
    ) -> None:
        rule = self.rules.match(path, method)
        assert (rule.path if rule else None) == expected

    def test_an_unknown_routed_path_matches_nothing(self) -> None:
        assert self.rules.match(None, "GET") is None

    def test_get_rules_cover_head(self) -> None:
        rules = Rules([Rule("/admin/", methods=["GET"], scopes=["admin"])])
        assert rules.match("/admin/x", "HEAD") is not None
        assert rules.match("/admin/x", "POST") is None

    def test_order_decides_between_exact_and_prefix(self) -> None:
        prefix_first = Rules([Rule("/a/", scopes=["x"]), Rule("/a/b", public=True)])
        exact_first = Rules([Rule("/a/b", public=True), Rule("/a/", scopes=["x"])])
        assert prefix_first.match("/a/b", "GET").path == "/a/"  # type: ignore[union-attr]
        assert exact_first.match("/a/b", "GET").path == "/a/b"  # type: ignore[union-attr]

    def test_deep_paths_cost_only_the_rules_depth(self) -> None:
        rules = Rules([Rule("/a/", scopes=["x"])])
        assert rules.match("/a" + "/x" * 100_000, "GET") is not None
        assert rules.match("/b" + "/x" * 100_000, "GET") is None

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda: Rule("health"), "start with '/'"),
            (lambda: Rule("/a/../b"), "dot segments"),
            (lambda: Rule("/a", public=True, scopes=["x"]), "public"),
            (lambda: Rule("/a", scopes=["bad scope"]), "scope tokens"),
            (lambda: Rule("/a", methods=[]), "match nothing"),
            (lambda: Rule("/a", claims={"": "x"}), "dotted claim name"),
            (lambda: Rule("/a", claims={"a..b": "x"}), "dotted claim name"),
            (lambda: Rule("/a", claims={"roles": ["x", "y"]}), "one value"),
            (lambda: Rules(["/a"]), "not a jwt_middleware.Rule"),  # type: ignore[list-item]
        ],
    )
    def test_unsafe_or_meaningless_rules_fail_at_start(
        self, make: Callable[[], Any], message: str
    ) -> None:
        with pytest.raises(ConfigurationError, match=message):
            make()


ROLES = "realm_access.roles"


class TestClaimConditions:
    @pytest.mark.parametrize(
        ("claims", "condition", "holds"),
        [
            ({"tenant": "t1"}, {"tenant": "t1"}, True),
            ({"tenant": "t2"}, {"tenant": "t1"}, False),
            ({}, {"tenant": "t1"}, False),
            (
                {"realm_access": {"roles": ["a", "auditor"]}},
                {"realm_access.roles": "auditor"},
                True,
            ),
            ({"realm_access": {"roles": ["a"]}}, {"realm_access.roles": "auditor"}, False),
            ({"realm_access": "auditor"}, {"realm_access.roles": "auditor"}, False),
            ({"groups": "staff auditor"}, {"groups": "auditor"}, True),
            ({"groups": "staff auditors"}, {"groups": "auditor"}, False),
            ({"level": 3}, {"level": 3}, True),
            ({"level": "3"}, {"level": 3}, False),
            ({"admin": 1}, {"admin": True}, False),  # True == 1 in Python, not here
            ({"admin": True}, {"admin": True}, True),
            ({"a": "x", "b": "y"}, {"a": "x", "b": "z"}, False),  # all must hold
        ],
    )
    def test_conditions(
        self, claims: dict[str, Any], condition: dict[str, Any], holds: bool
    ) -> None:
        refusal = Rule("/", claims=condition).refusal(claims, frozenset())
        assert (refusal is None) is holds


@pytest.fixture
def rules_client(adapter: Adapter, hs_verifier: Verifier) -> AdapterClient:
    return adapter(hs_verifier, rules=RULES)


class TestThroughTheAdapters:
    def test_public_route(self, rules_client: AdapterClient) -> None:
        reply = rules_client.get("/health")
        assert reply.status == 200 and reply.json()["claims"] is None

    def test_unmatched_routes_need_a_token(self, rules_client: AdapterClient) -> None:
        assert_refused(rules_client.get("/anything"), 401, "missing_token", challenge_error=None)

    def test_missing_scope_is_a_403_naming_it(
        self, rules_client: AdapterClient, make_token: TokenFactory
    ) -> None:
        reply = rules_client.get("/admin/users", bearer(make_token(scope="read")))
        assert_refused(reply, 403, "insufficient_scope", challenge_error="insufficient_scope")
        assert 'scope="admin"' in reply.header("WWW-Authenticate")  # type: ignore[operator]
        ok = rules_client.get("/admin/users", bearer(make_token(scope="read admin")))
        assert ok.status == 200 and ok.json()["claims"]["sub"] == "alice"

    def test_methods_narrow_a_rule(
        self, rules_client: AdapterClient, make_token: TokenFactory
    ) -> None:
        token = bearer(make_token(scope="read"))
        assert rules_client.get("/orders/1", token).status == 200
        reply = rules_client.request("POST", "/orders/1", token)
        assert_refused(reply, 403, "insufficient_scope", challenge_error="insufficient_scope")
        assert 'scope="orders:write"' in reply.header("WWW-Authenticate")  # type: ignore[operator]

    def test_claim_condition(self, rules_client: AdapterClient, make_token: TokenFactory) -> None:
        auditor = make_token(realm_access={"roles": ["auditor"]})
        assert rules_client.get("/reports/q3", bearer(auditor)).status == 200
        reply = rules_client.get("/reports/q3", bearer(make_token(realm_access={"roles": []})))
        assert_refused(reply, 403, "insufficient_scope", challenge_error="insufficient_scope")
        assert "scope=" not in reply.header("WWW-Authenticate")  # type: ignore[operator]
        assert reply.json()["error_description"] == (
            "The access token lacks a claim this resource requires"
        )

    def test_global_scopes_add_to_a_rule(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, rules=RULES, required_scopes=["api"])
        reply = client.get("/admin/x", bearer(make_token(scope="admin")))
        assert 'scope="api admin"' in reply.header("WWW-Authenticate")  # type: ignore[operator]
        assert client.get("/admin/x", bearer(make_token(scope="api admin"))).status == 200
        assert client.get("/health").status == 200

    def test_optional_mode_still_needs_a_token_where_a_rule_matches(
        self, adapter: Adapter, hs_verifier: Verifier, make_token: TokenFactory
    ) -> None:
        client = adapter(hs_verifier, rules=[*RULES, Rule("/account/")], optional=True)
        assert client.get("/anything").json()["claims"] is None  # anonymous
        assert_refused(client.get("/account/me"), 401, "missing_token", challenge_error=None)
        assert_refused(client.get("/admin/x"), 401, "missing_token", challenge_error=None)
        assert client.get("/account/me", bearer(make_token())).status == 200

    def test_exempt_is_sugar_for_public_rules_ahead_of_the_others(
        self, adapter: Adapter, hs_verifier: Verifier
    ) -> None:
        client = adapter(hs_verifier, exempt=["/admin/status"], rules=RULES)
        assert client.get("/admin/status").status == 200
        assert client.get("/admin/other").status == 401

    def test_dot_segments_never_ride_on_a_public_rule(self, rules_client: AdapterClient) -> None:
        assert rules_client.get("/docs/%2e%2e/admin/x").status == 401
