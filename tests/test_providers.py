"""Provider profiles, issuer templates, roles, claim validators: each profile's
acceptance and every refusal it promises, through both adapters, with keys in memory.
(tests/test_providers_real.py runs the same shapes against a real OpenID Provider.)"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from jwt_middleware import (
    ClaimsRejected,
    ConfigurationError,
    InvalidClaims,
    IssuerTemplate,
    KeysUnavailable,
    Rule,
    UntrustedIssuer,
    VerificationFailed,
    Verifier,
    providers,
)

from .conftest import NOW, AdapterClient, Keys, sign_raw
from .helpers import assert_refused, bearer, rsa_jwk

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
CLIENT = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
ENTRA = "https://login.microsoftonline.com"


def rs256(keys: Keys, claims: dict[str, Any], *, typ: str = "JWT") -> str:
    body = {"sub": "subject-1", "iat": NOW, "exp": NOW + 3600, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return sign_raw(
        {"alg": "RS256", "typ": typ, "kid": "k1"}, body, keys.signing_material("RS256"), "RS256"
    )


@pytest.fixture
def key(keys: Keys) -> Any:
    return keys.verification_key("RS256", kid="k1")


def fixed(**options: Any) -> dict[str, Any]:
    return {"clock": lambda: NOW, **options}


def refused_with(verifier: Verifier, token: str) -> str:
    with pytest.raises(InvalidClaims) as caught:
        verifier.verify(token)
    return caught.value.reason


# -- Entra ID ----------------------------------------------------------------------------


def entra_claims(tid: str = TENANT, ver: str = "2.0", **extra: Any) -> dict[str, Any]:
    iss = f"{ENTRA}/{tid}/v2.0" if ver == "2.0" else f"https://sts.windows.net/{tid}/"
    return {"iss": iss, "tid": tid, "ver": ver, "aud": CLIENT, "azp": "caller", **extra}


class TestEntra:
    def test_single_tenant(self, keys: Keys, key: Any) -> None:
        verifier = providers.entra(tenant=TENANT, audience=CLIENT, keys=key, **fixed())
        token = rs256(keys, entra_claims(roles=["Orders.Read"], scp="orders.read profile"))
        verified = verifier.verify_token(token)
        assert verified.roles == ("Orders.Read",)
        assert verified.scopes == ("orders.read", "profile")

    def test_another_tenant_is_untrusted(self, keys: Keys, key: Any) -> None:
        verifier = providers.entra(tenant=TENANT, audience=CLIENT, keys=key, **fixed())
        with pytest.raises(UntrustedIssuer):
            verifier.verify(rs256(keys, entra_claims(tid=OTHER_TENANT)))

    def test_issuer_must_be_filled_with_the_tokens_own_tid(self, keys: Keys, key: Any) -> None:
        verifier = providers.entra(
            tenants=[TENANT, OTHER_TENANT], audience=CLIENT, keys=key, **fixed()
        )
        mixed = {**entra_claims(), "iss": f"{ENTRA}/{OTHER_TENANT}/v2.0"}  # tid says TENANT
        assert refused_with(verifier, rs256(keys, mixed)) == "invalid_claims"
        for hostile in (f"{TENANT}/../{OTHER_TENANT}", "", None, 7, f"{TENANT}/v2.0#"):
            claims = {**entra_claims(), "tid": hostile, "iss": f"{ENTRA}/{hostile}/v2.0"}
            assert refused_with(verifier, rs256(keys, claims)) == "invalid_claims"
        assert verifier.verify(rs256(keys, entra_claims(tid=OTHER_TENANT)))["tid"] == OTHER_TENANT

    def test_multi_tenant_any_tenant_only_when_asked(self, keys: Keys, key: Any) -> None:
        verifier = providers.entra(multi_tenant=True, audience=CLIENT, keys=key, **fixed())
        assert verifier.verify(rs256(keys, entra_claims(tid=OTHER_TENANT)))
        with pytest.raises(ConfigurationError):
            providers.entra(audience=CLIENT, keys=key)  # no tenant choice at all
        with pytest.raises(ConfigurationError):
            providers.entra(tenant=TENANT, multi_tenant=True, audience=CLIENT, keys=key)

    def test_v1_tokens(self, keys: Keys, key: Any) -> None:
        v1 = rs256(keys, entra_claims(ver="1.0", aud="api://orders", appid="caller"))
        strict = providers.entra(
            tenant=TENANT, audience=[CLIENT, "api://orders"], keys=key, **fixed()
        )
        assert refused_with(strict, v1) == "invalid_claims"  # the v1 issuer is not trusted
        lenient = providers.entra(
            tenant=TENANT,
            audience=[CLIENT, "api://orders"],
            accept_v1=True,
            clients=["caller"],
            keys=key,
            **fixed(),
        )
        assert lenient.verify(v1)["ver"] == "1.0"
        # A v2 issuer claiming ver 1.0 (or the reverse) is refused.
        odd = rs256(keys, {**entra_claims(), "ver": "1.0"})
        assert refused_with(lenient, odd) == "version_mismatch"
        assert refused_with(strict, odd) == "v1_token"
        no_ver = {**entra_claims(), "ver": None}
        assert refused_with(strict, rs256(keys, no_ver)) == "unknown_version"

    def test_clients(self, keys: Keys, key: Any) -> None:
        verifier = providers.entra(
            tenant=TENANT, audience=CLIENT, clients=["caller"], keys=key, **fixed()
        )
        assert refused_with(verifier, rs256(keys, entra_claims(azp="intruder"))) == "wrong_client"

    def test_one_tenant_as_tenants(self, keys: Keys, key: Any) -> None:
        verifier = providers.entra(tenants=TENANT, audience=CLIENT, keys=key, **fixed())
        assert verifier.verify(rs256(keys, entra_claims()))["tid"] == TENANT

    def test_tenant_must_be_an_id(self, key: Any) -> None:
        with pytest.raises(ConfigurationError, match="GUID"):
            providers.entra(tenant="contoso.onmicrosoft.com", audience=CLIENT, keys=key)

    def test_the_default_keys(self) -> None:
        verifier = providers.entra(tenant=TENANT, audience=CLIENT)
        assert verifier.resolver._jwks_url == f"{ENTRA}/{TENANT}/discovery/v2.0/keys"  # type: ignore[attr-defined]
        sovereign = providers.entra(
            multi_tenant=True, audience=CLIENT, authority="https://login.microsoftonline.us/"
        )
        assert sovereign.resolver._jwks_url == (  # type: ignore[attr-defined]
            "https://login.microsoftonline.us/common/discovery/v2.0/keys"
        )


# -- the others --------------------------------------------------------------------------


def test_auth0(keys: Keys, key: Any) -> None:
    verifier = providers.auth0(
        "example.eu.auth0.com",
        "https://api.example.com",
        roles_claim="https://example.com/roles",
        keys=key,
        **fixed(),
    )
    claims = {
        "iss": "https://example.eu.auth0.com/",
        "aud": ["https://api.example.com", "https://example.eu.auth0.com/userinfo"],
        "permissions": ["read:orders"],
        "https://example.com/roles": ["auditor"],
    }
    assert verifier.verify_token(rs256(keys, claims)).roles == ("read:orders", "auditor")
    no_slash = {**claims, "iss": "https://example.eu.auth0.com"}
    assert refused_with(verifier, rs256(keys, no_slash)) == "invalid_claims"


def test_okta(keys: Keys, key: Any) -> None:
    issuer = "https://example.okta.com/oauth2/default"
    verifier = providers.okta(issuer, "api://default", clients=["app-1"], keys=key, **fixed())
    claims = {
        "iss": issuer,
        "aud": "api://default",
        "cid": "app-1",
        "scp": ["orders:read"],
        "groups": ["Admins"],
    }
    verified = verifier.verify_token(rs256(keys, claims))
    assert verified.scopes == ("orders:read",) and verified.roles == ("Admins",)
    assert refused_with(verifier, rs256(keys, {**claims, "cid": "app-2"})) == "wrong_client"
    with pytest.raises(ConfigurationError, match="custom authorization server"):
        providers.okta("https://example.okta.com", "api://default", keys=key)
    assert providers.okta(issuer, "api://default").resolver._jwks_url == f"{issuer}/v1/keys"  # type: ignore[attr-defined]


def test_keycloak(keys: Keys, key: Any) -> None:
    verifier = providers.keycloak(
        "https://sso.example.com", "shop", "orders-api", keys=key, **fixed()
    )
    claims = {
        "iss": "https://sso.example.com/realms/shop",
        "aud": "orders-api",
        "typ": "Bearer",
        "azp": "web",
        "realm_access": {"roles": ["user"]},
        "resource_access": {"orders-api": {"roles": ["auditor"]}, "other": {"roles": ["x"]}},
    }
    assert verifier.verify_token(rs256(keys, claims)).roles == ("user", "auditor")
    for typ in ("ID", "Refresh", None):
        assert refused_with(verifier, rs256(keys, {**claims, "typ": typ})) == "wrong_token_use"
    assert providers.keycloak("https://sso.example.com/auth/", "shop", "a").resolver._jwks_url == (  # type: ignore[attr-defined]
        "https://sso.example.com/auth/realms/shop/protocol/openid-connect/certs"
    )


class TestCognito:
    ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"

    def access(self, **extra: Any) -> dict[str, Any]:
        return {
            "iss": self.ISSUER,
            "token_use": "access",
            "client_id": "app-1",
            "scope": "orders/read",
            "cognito:groups": ["admins"],
            **extra,
        }

    def idtoken(self, **extra: Any) -> dict[str, Any]:
        return {"iss": self.ISSUER, "token_use": "id", "aud": "app-1", **extra}

    def test_access_tokens(self, keys: Keys, key: Any) -> None:
        verifier = providers.cognito(
            "eu-west-1", "eu-west-1_AbC123", ["app-1"], keys=key, **fixed()
        )
        verified = verifier.verify_token(rs256(keys, self.access()))
        assert verified.roles == ("admins",) and verified.scopes == ("orders/read",)
        assert refused_with(verifier, rs256(keys, self.access(client_id="app-2"))) == "wrong_client"
        # An ID token where an access token is expected: it names an audience.
        assert refused_with(verifier, rs256(keys, self.idtoken())) == "invalid_claims"
        no_aud_id = {**self.idtoken(), "aud": None, "client_id": "app-1"}
        assert refused_with(verifier, rs256(keys, no_aud_id)) == "wrong_token_use"

    def test_id_tokens(self, keys: Keys, key: Any) -> None:
        verifier = providers.cognito(
            "eu-west-1", "eu-west-1_AbC123", "app-1", token_use="id", keys=key, **fixed()
        )
        assert verifier.verify(rs256(keys, self.idtoken()))["aud"] == "app-1"
        assert refused_with(verifier, rs256(keys, self.access())) == "invalid_claims"  # no aud
        assert refused_with(verifier, rs256(keys, self.access(aud="app-1"))) == "wrong_token_use"

    def test_pool_and_region_must_agree(self, key: Any) -> None:
        with pytest.raises(ConfigurationError, match="region"):
            providers.cognito("us-east-1", "eu-west-1_AbC123", ["app-1"], keys=key)
        with pytest.raises(ConfigurationError, match="token_use"):
            providers.cognito("eu-west-1", "eu-west-1_AbC123", ["app-1"], token_use="refresh")


def test_google(keys: Keys, key: Any) -> None:
    verifier = providers.google(
        "https://orders.example.run.app",
        authorized_parties=["1234"],
        emails=["caller@project.iam.gserviceaccount.com"],
        keys=key,
        **fixed(),
    )
    claims = {
        "iss": "https://accounts.google.com",
        "aud": "https://orders.example.run.app",
        "azp": "1234",
        "email": "caller@project.iam.gserviceaccount.com",
        "email_verified": True,
    }
    assert verifier.verify(rs256(keys, claims))
    assert verifier.verify(rs256(keys, {**claims, "iss": "accounts.google.com"}))
    one = providers.google("aud", issuers="https://issuer.example", keys=key, **fixed())
    assert one.trusted_issuers == ("https://issuer.example",)
    assert refused_with(verifier, rs256(keys, {**claims, "azp": "9"})) == "wrong_authorized_party"
    assert refused_with(verifier, rs256(keys, {**claims, "azp": None})) == "wrong_authorized_party"
    assert refused_with(verifier, rs256(keys, {**claims, "email": "x@y"})) == "wrong_email"
    unverified = {**claims, "email_verified": "true"}  # a string is not true
    assert refused_with(verifier, rs256(keys, unverified)) == "email_not_verified"


class TestKubernetes:
    def claims(self, namespace: Any = "shop", account: Any = "orders") -> dict[str, Any]:
        return {
            "iss": "https://kubernetes.default.svc.cluster.local",
            "aud": "orders-api",
            "sub": f"system:serviceaccount:{namespace}:{account}",
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": account, "uid": "u"},
            },
        }

    def test_namespaces_and_service_accounts(self, keys: Keys, key: Any) -> None:
        verifier = providers.kubernetes(
            audience="orders-api",
            namespaces=["shop"],
            service_accounts=["shop/orders"],
            keys=key,
            **fixed(),
        )
        assert verifier.verify(rs256(keys, self.claims()))
        assert (
            refused_with(verifier, rs256(keys, self.claims(namespace="dev"))) == "wrong_namespace"
        )
        assert (
            refused_with(verifier, rs256(keys, self.claims(account="web")))
            == "wrong_service_account"
        )
        bare = {k: v for k, v in self.claims().items() if k != "kubernetes.io"}
        assert refused_with(verifier, rs256(keys, bare)) == "wrong_namespace"

    def test_fails_closed_at_start_up(self, key: Any, tmp_path: Any) -> None:
        with pytest.raises(ConfigurationError, match="namespaces"):
            providers.kubernetes(audience="orders-api", keys=key)
        with pytest.raises(ConfigurationError, match="API server"):
            providers.kubernetes(
                audience="https://kubernetes.default.svc.cluster.local", namespaces=["a"], keys=key
            )
        with pytest.raises(ConfigurationError, match="does not exist"):
            providers.kubernetes(audience="orders-api", namespaces=["a"])  # not in a pod
        with pytest.raises(ConfigurationError, match="namespace/name"):
            providers.kubernetes(audience="orders-api", service_accounts=["orders"], keys=key)


def test_kubernetes_reads_keys_with_the_pods_own_token(
    keys: Keys, key: Any, docserver: Any, tmp_path: Any
) -> None:
    """The API server wants a bearer token to serve its JWKS; the kubelet rotates the
    pod's token in place, so it is read on every fetch, and never sent anywhere else."""
    jwks = {"keys": [rsa_jwk(keys, kid="k1")]}
    token_file = tmp_path / "token"
    token_file.write_text("pod-token-1\n")
    docserver.serve("/openid/v1/jwks", jwks, authorization="Bearer pod-token-1")
    claims = TestKubernetes().claims()
    make = lambda: providers.kubernetes(  # noqa: E731
        audience="orders-api",
        namespaces=["shop"],
        jwks_url=docserver.url("/openid/v1/jwks"),
        ca_file=None,
        token_file=str(token_file),
        **fixed(),
    )
    assert make().verify(rs256(keys, claims))
    token_file.write_text("pod-token-2")  # rotated, and the server wants the new one
    docserver.serve("/openid/v1/jwks", jwks, authorization="Bearer pod-token-2")
    assert make().verify(rs256(keys, claims))
    unread = make()
    token_file.unlink()
    with pytest.raises(KeysUnavailable):
        unread.verify(rs256(keys, claims))
    bad_ca = tmp_path / "ca.crt"
    bad_ca.write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="CA file"):
        providers.kubernetes(
            audience="orders-api",
            namespaces=["shop"],
            jwks_url="https://kubernetes.default.svc/openid/v1/jwks",
            ca_file=str(bad_ca),
            token_file=None,
        )


def test_github_actions(keys: Keys, key: Any) -> None:
    verifier = providers.github_actions(
        "https://github.com/octo-org",
        ["octo-org/deploy"],
        refs=["refs/heads/main"],
        environments=["production"],
        repository_ids=["123"],
        keys=key,
        **fixed(),
    )
    claims = {
        "iss": "https://token.actions.githubusercontent.com",
        "aud": "https://github.com/octo-org",
        "repository": "Octo-Org/Deploy",
        "repository_id": "123",
        "ref": "refs/heads/main",
        "environment": "production",
    }
    assert verifier.verify(rs256(keys, claims))
    for change, reason in (
        ({"repository": "octo-org/deploy-fork"}, "wrong_repository"),
        ({"repository": None}, "wrong_repository"),
        ({"repository_id": "124"}, "wrong_repository"),
        ({"ref": "refs/heads/feature"}, "wrong_ref"),
        ({"environment": None}, "wrong_environment"),
    ):
        assert refused_with(verifier, rs256(keys, {**claims, **change})) == reason


def test_profiles_pass_verifier_options_through(keys: Keys, key: Any) -> None:
    seen: list[Mapping[str, Any]] = []

    def mine(claims: Mapping[str, Any]) -> str | None:
        seen.append(claims)
        return None if claims.get("amr") == ["mfa"] else "no_mfa"

    verifier = providers.auth0(
        "https://tenant.example.com", "api", validators=[mine], leeway=5, keys=key, **fixed()
    )
    claims = {"iss": "https://tenant.example.com/", "aud": "api"}
    assert refused_with(verifier, rs256(keys, claims)) == "no_mfa"
    assert verifier.verify(rs256(keys, {**claims, "amr": ["mfa"]}))
    with pytest.raises(ConfigurationError, match="set by the profile"):
        providers.auth0("tenant.example.com", "api", keys=key, issuer="x")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="jwks_options"):
        providers.auth0("tenant.example.com", "api", keys=key, jwks_options={"timeout": 1})


# -- the Verifier features under the profiles ----------------------------------------------


class TestValidators:
    def make(self, key: Any, check: Callable[[Mapping[str, Any]], Any]) -> Verifier:
        return Verifier(key, validators=[check], clock=lambda: NOW)

    def test_reason_codes(self, keys: Keys, key: Any) -> None:
        verifier = self.make(key, lambda claims: None if claims.get("ok") else "not_ok")
        assert verifier.verify(rs256(keys, {"ok": True}))
        with pytest.raises(ClaimsRejected) as caught:
            verifier.verify(rs256(keys, {}))
        assert caught.value.reason == "not_ok"
        assert caught.value.status == 401 and caught.value.error == "invalid_token"

    def test_a_bad_answer_or_a_crash_fails_closed(
        self, keys: Keys, key: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.ERROR, "jwt_middleware"):
            for answer in (False, "Not A Code", "x" * 60, 0):
                with pytest.raises(ClaimsRejected) as caught:
                    self.make(key, lambda claims, a=answer: a).verify(rs256(keys, {}))
                assert caught.value.reason == "claims_rejected"

            def crash(claims: Mapping[str, Any]) -> None:
                raise KeyError("boom")

            with pytest.raises(VerificationFailed):
                self.make(key, crash).verify(rs256(keys, {}))
        assert "claim validator" in caplog.text

    def test_runs_once_per_token(self, keys: Keys, key: Any) -> None:
        calls: list[int] = []
        verifier = self.make(key, lambda claims: calls.append(1))
        token = rs256(keys, {})
        verifier.verify(token)
        verifier.verify(token)
        assert calls == [1]  # the second answer is the cache's

    def test_must_be_callables(self, key: Any) -> None:
        with pytest.raises(ConfigurationError):
            Verifier(key, validators=["repository"])  # type: ignore[list-item]


class TestIssuerTemplate:
    def test_configuration(self) -> None:
        for bad in ("https://x/{tid}/{tid}", "https://x/", "https://x/{tenant}/{tid}"):
            with pytest.raises(ConfigurationError):
                IssuerTemplate(bad, allowed=["a"])
        with pytest.raises(ConfigurationError):
            IssuerTemplate("https://x/{tid}", allowed=["a/b"])
        with pytest.raises(ConfigurationError):
            IssuerTemplate("https://x/{tid}")  # neither allowed nor any_value
        assert "any_value=True" in repr(IssuerTemplate("https://x/{tid}", any_value=True))

    def test_beside_plain_issuers(self, keys: Keys, key: Any) -> None:
        template = IssuerTemplate("https://x/{org}/", claim="org", allowed=["acme"])
        verifier = Verifier(key, issuer=["https://plain", template], clock=lambda: NOW)
        assert verifier.verify(rs256(keys, {"iss": "https://plain"}))
        assert verifier.verify(rs256(keys, {"iss": "https://x/acme/", "org": "acme"}))
        with pytest.raises(UntrustedIssuer):
            verifier.verify(rs256(keys, {"iss": "https://x/evil/", "org": "evil"}))
        assert refused_with(verifier, rs256(keys, {"iss": "https://x/acme/"})) == "invalid_claims"


# -- roles through the adapters ------------------------------------------------------------


def test_roles_in_the_request_and_in_rules(
    keys: Keys, key: Any, adapter: Callable[..., AdapterClient]
) -> None:
    verifier = providers.keycloak(
        "https://sso.example.com", "shop", "orders-api", keys=key, **fixed()
    )
    client = adapter(
        verifier,
        rules=[Rule("/audit/", roles=["auditor"]), Rule("/admin/", roles=["admin", "user"])],
    )
    claims = {
        "iss": "https://sso.example.com/realms/shop",
        "aud": "orders-api",
        "typ": "Bearer",
        "realm_access": {"roles": ["user"]},
        "resource_access": {"orders-api": {"roles": ["auditor"]}},
    }
    token = rs256(keys, claims)
    reply = client.get("/audit/log", bearer(token))
    assert reply.status == 200 and reply.json()["roles"] == ["user", "auditor"]
    refused = client.get("/admin/users", bearer(token))
    assert_refused(refused, 403, "insufficient_scope", challenge_error="insufficient_scope")
    assert "scope=" not in (refused.header("WWW-Authenticate") or "")
    assert client.get("/admin/users", bearer(token)).status == 403  # cached: the same answer
    wrong_use = client.get("/audit/log", bearer(rs256(keys, {**claims, "typ": "ID"})))
    assert_refused(wrong_use, 401, "invalid_token", challenge_error="invalid_token")


def test_rule_roles_configuration() -> None:
    with pytest.raises(ConfigurationError):
        Rule("/x", public=True, roles=["a"])
    with pytest.raises(ConfigurationError):
        Rule("/x", roles=[""])
    assert Rule("/x", roles="admin").roles == ("admin",)
    assert "roles=['admin']" in repr(Rule("/x", roles=["admin"]))
