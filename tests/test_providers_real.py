"""Every provider profile against a real OpenID Provider on loopback: the npm package
oidc-provider (tests/oidc/provider.mjs) issues each provider's token shape from its
client_credentials grant, serves discovery and its JWKS, and rotates its keys on
request. The profiles fetch those keys for real, through both adapters."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from jwt_middleware import ClaimsRejected, InvalidToken, Verifier, providers

from .conftest import AdapterClient
from .helpers import assert_refused, bearer
from .oidc_provider import Provider, running_provider

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
APP = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
K8S = {"namespace": "shop", "serviceaccount": {"name": "orders", "uid": "0b7e"}}

# Each client's tokens look like one provider's ("{issuer}" is the test provider's URL;
# null removes a claim). The provider fills in jti, iat, exp, client_id and scope.
SHAPES: dict[str, dict[str, Any]] = {
    "entra": {
        "iss": f"{{issuer}}/{TENANT}/v2.0",
        "tid": TENANT,
        "ver": "2.0",
        "aud": APP,
        "azp": "caller",
        "roles": ["Orders.Read"],
        "scp": "orders.read",
        "scope": None,
    },
    "entra-other-tenant": {
        "iss": f"{{issuer}}/{OTHER_TENANT}/v2.0",
        "tid": OTHER_TENANT,
        "ver": "2.0",
        "aud": APP,
    },
    "entra-v1": {
        "iss": f"{{issuer}}/sts/{TENANT}/",
        "tid": TENANT,
        "ver": "1.0",
        "aud": "api://orders",
        "appid": "caller",
    },
    "entra-other-client": {
        "iss": f"{{issuer}}/{TENANT}/v2.0",
        "tid": TENANT,
        "ver": "2.0",
        "aud": APP,
        "azp": "intruder",
    },
    "auth0": {
        "iss": "{issuer}/",
        "aud": ["https://api.example.com", "{issuer}/userinfo"],
        "permissions": ["read:orders"],
        "https://example.com/roles": ["auditor"],
    },
    "auth0-other-api": {"iss": "{issuer}/", "aud": "https://other.example.com"},
    "okta": {
        "iss": "{issuer}/oauth2/default",
        "aud": "api://default",
        "cid": "okta",
        "scp": ["orders:read"],
        "scope": None,
        "groups": ["Admins"],
    },
    "okta-other-client": {"iss": "{issuer}/oauth2/default", "aud": "api://default", "cid": "x"},
    "keycloak": {
        "iss": "{issuer}/realms/shop",
        "aud": "orders-api",
        "typ": "Bearer",
        "azp": "web",
        "realm_access": {"roles": ["user"]},
        "resource_access": {"orders-api": {"roles": ["auditor"]}},
    },
    "keycloak-id-token": {"iss": "{issuer}/realms/shop", "aud": "orders-api", "typ": "ID"},
    "keycloak-refresh-token": {
        "iss": "{issuer}/realms/shop",
        "aud": "orders-api",
        "typ": "Refresh",
    },
    "cognito": {
        "iss": "{issuer}/eu-west-1_Test",
        "aud": None,
        "token_use": "access",
        "cognito:groups": ["admins"],
    },
    "cognito-id-token": {"iss": "{issuer}/eu-west-1_Test", "aud": "cognito", "token_use": "id"},
    "cognito-id-token-without-aud": {
        "iss": "{issuer}/eu-west-1_Test",
        "aud": None,
        "token_use": "id",
        "client_id": "cognito",
    },
    "cognito-other-client": {"iss": "{issuer}/eu-west-1_Test", "aud": None, "token_use": "access"},
    "google": {
        "aud": "https://orders.example.run.app",
        "azp": "1234",
        "email": "caller@project.iam.gserviceaccount.com",
        "email_verified": True,
    },
    "google-other-caller": {"aud": "https://orders.example.run.app", "azp": "9999"},
    "google-unverified-email": {
        "aud": "https://orders.example.run.app",
        "azp": "1234",
        "email": "caller@project.iam.gserviceaccount.com",
        "email_verified": False,
    },
    "kubernetes": {"aud": "orders-api", "kubernetes.io": K8S},
    "kubernetes-other-namespace": {
        "aud": "orders-api",
        "kubernetes.io": {**K8S, "namespace": "dev"},
    },
    "kubernetes-other-account": {
        "aud": "orders-api",
        "kubernetes.io": {**K8S, "serviceaccount": {"name": "web", "uid": "1"}},
    },
    "github": {
        "aud": "https://github.com/octo-org",
        "repository": "octo-org/deploy",
        "repository_id": "42",
        "ref": "refs/heads/main",
        "environment": "production",
    },
    "github-feature-branch": {
        "aud": "https://github.com/octo-org",
        "repository": "octo-org/deploy",
        "repository_id": "42",
        "ref": "refs/heads/feature",
        "environment": "production",
    },
    "github-no-environment": {
        "aud": "https://github.com/octo-org",
        "repository": "octo-org/deploy",
        "repository_id": "42",
        "ref": "refs/heads/main",
    },
    "github-fork": {
        "aud": "https://github.com/octo-org",
        "repository": "someone/deploy",
        "ref": "refs/heads/main",
    },
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider(SHAPES, tmp_path_factory.mktemp("oidc")) as running:
        yield running


JWKS = {"refresh_cooldown": 0.2, "timeout": 5.0}


def profiles(issuer: str) -> dict[str, Callable[[], Verifier]]:
    jwks = f"{issuer}/jwks"
    return {
        "entra": lambda: providers.entra(
            tenant=TENANT,
            audience=[APP, "api://orders"],
            accept_v1=True,
            clients=["caller"],
            authority=issuer,
            v1_authority=f"{issuer}/sts",
            jwks_url=jwks,
            jwks_options=JWKS,
        ),
        "entra-v2-only": lambda: providers.entra(
            tenant=TENANT,
            audience=[APP, "api://orders"],
            authority=issuer,
            v1_authority=f"{issuer}/sts",
            jwks_url=jwks,
            jwks_options=JWKS,
        ),
        "auth0": lambda: providers.auth0(
            issuer,
            "https://api.example.com",
            roles_claim="https://example.com/roles",
            jwks_url=jwks,
            jwks_options=JWKS,
        ),
        "okta": lambda: providers.okta(
            f"{issuer}/oauth2/default",
            "api://default",
            clients=["okta"],
            jwks_url=jwks,
            jwks_options=JWKS,
        ),
        "keycloak": lambda: providers.keycloak(
            issuer, "shop", "orders-api", jwks_url=jwks, jwks_options=JWKS
        ),
        "cognito": lambda: providers.cognito(
            "eu-west-1",
            "eu-west-1_Test",
            ["cognito"],
            issuer=f"{issuer}/eu-west-1_Test",
            jwks_url=jwks,
            jwks_options=JWKS,
        ),
        "google": lambda: providers.google(
            "https://orders.example.run.app",
            authorized_parties=["1234"],
            emails=["caller@project.iam.gserviceaccount.com"],
            issuers=[issuer],
            jwks_url=jwks,
            jwks_options=JWKS,
        ),
        "kubernetes": lambda: providers.kubernetes(
            audience="orders-api",
            namespaces=["shop"],
            service_accounts=["shop/orders"],
            issuer=issuer,
            jwks_url=jwks,
            ca_file=None,
            token_file=None,
            jwks_options=JWKS,
        ),
        "github": lambda: providers.github_actions(
            "https://github.com/octo-org",
            ["octo-org/deploy"],
            refs=["refs/heads/main"],
            environments=["production"],
            repository_ids=["42"],
            issuer=issuer,
            jwks_url=jwks,
            jwks_options=JWKS,
        ),
    }


# (profile, client whose token it accepts, the roles the app then sees)
ACCEPTED = [
    ("entra", "entra", ["Orders.Read"]),
    ("entra", "entra-v1", []),
    ("entra-v2-only", "entra", ["Orders.Read"]),
    ("auth0", "auth0", ["read:orders", "auditor"]),
    ("okta", "okta", ["Admins"]),
    ("keycloak", "keycloak", ["user", "auditor"]),
    ("cognito", "cognito", ["admins"]),
    ("google", "google", []),
    ("kubernetes", "kubernetes", []),
    ("github", "github", []),
]
# (profile, client whose token it refuses, the refusal's reason)
REFUSED = [
    ("entra", "entra-other-tenant", "untrusted_issuer"),
    ("entra", "entra-other-client", "wrong_client"),
    ("entra-v2-only", "entra-v1", "invalid_claims"),  # the v1 issuer form is not trusted
    ("auth0", "auth0-other-api", "invalid_claims"),
    ("auth0", "keycloak", "invalid_claims"),  # another issuer, same keys
    ("okta", "okta-other-client", "wrong_client"),
    ("keycloak", "keycloak-id-token", "wrong_token_use"),
    ("keycloak", "keycloak-refresh-token", "wrong_token_use"),
    ("cognito", "cognito-id-token", "invalid_claims"),  # an ID token names an audience
    ("cognito", "cognito-id-token-without-aud", "wrong_token_use"),
    ("cognito", "cognito-other-client", "wrong_client"),
    ("google", "google-other-caller", "wrong_authorized_party"),
    ("google", "google-unverified-email", "email_not_verified"),
    ("kubernetes", "kubernetes-other-namespace", "wrong_namespace"),
    ("kubernetes", "kubernetes-other-account", "wrong_service_account"),
    ("github", "github-fork", "wrong_repository"),
    ("github", "github-feature-branch", "wrong_ref"),
    ("github", "github-no-environment", "wrong_environment"),
]


@pytest.mark.parametrize(("profile", "client", "roles"), ACCEPTED)
def test_the_profile_accepts_its_providers_tokens(
    provider: Provider,
    adapter: Callable[..., AdapterClient],
    profile: str,
    client: str,
    roles: list[str],
) -> None:
    verifier = profiles(provider.issuer)[profile]()
    token = provider.token(client)
    reply = adapter(verifier).get("/", bearer(token))
    assert reply.status == 200, reply.body
    seen = reply.json()
    assert seen["roles"] == roles
    assert seen["claims"]["client_id"] == client
    assert seen["header"]["typ"] == "at+jwt"


@pytest.mark.parametrize(("profile", "client", "reason"), REFUSED)
def test_the_profile_refuses_what_it_promises(
    provider: Provider,
    adapter: Callable[..., AdapterClient],
    profile: str,
    client: str,
    reason: str,
) -> None:
    verifier = profiles(provider.issuer)[profile]()
    token = provider.token(client)
    reply = adapter(verifier).get("/", bearer(token))
    assert_refused(reply, 401, "invalid_token", challenge_error="invalid_token")
    with pytest.raises(InvalidToken) as caught:
        verifier.verify(token)
    assert caught.value.reason == reason


def test_cognito_id_tokens_where_id_tokens_are_expected(provider: Provider) -> None:
    verifier = providers.cognito(
        "eu-west-1",
        "eu-west-1_Test",
        ["cognito"],
        token_use="id",
        issuer=f"{provider.issuer}/eu-west-1_Test",
        jwks_url=f"{provider.issuer}/jwks",
    )
    assert verifier.verify(provider.token("cognito-id-token"))["token_use"] == "id"
    with pytest.raises(InvalidToken):  # the access token has no aud
        verifier.verify(provider.token("cognito"))


def test_keys_rotated_at_the_provider(
    provider: Provider, adapter: Callable[..., AdapterClient]
) -> None:
    verifier = profiles(provider.issuer)["keycloak"]()
    client = adapter(verifier)
    before = provider.token("keycloak")
    assert client.get("/", bearer(before)).status == 200
    kid = provider.rotate()
    after = provider.token("keycloak")
    assert json.loads(httpx.get(f"{provider.issuer}/jwks", timeout=5).text)["keys"][0]["kid"] == kid
    time.sleep(0.3)  # past the refresh cooldown: an unknown kid may fetch again
    reply = client.get("/", bearer(after))
    assert reply.status == 200 and reply.json()["header"]["kid"] == kid
    assert client.get("/", bearer(before)).status == 200  # the old key is still published


def test_discovery_finds_the_same_keys(provider: Provider) -> None:
    """oidc-provider's own issuer, its keys found through discovery (as ``okta`` or any
    OpenID provider without a profile would be used)."""
    from jwt_middleware import RemoteJWKS

    verifier = Verifier(
        RemoteJWKS.discover(provider.issuer), issuer=provider.issuer, audience="orders-api"
    )
    claims = verifier.verify(provider.token("kubernetes-other-namespace"))
    assert claims["iss"] == provider.issuer
    with pytest.raises(ClaimsRejected):
        profiles(provider.issuer)["kubernetes"]().verify(
            provider.token("kubernetes-other-namespace")
        )
