"""IssuerKeys: one key source per trusted issuer, picked by the token's iss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jwt_middleware import (
    AuthEvent,
    ConfigurationError,
    IssuerKeys,
    KeySet,
    RemoteJWKS,
    UntrustedIssuer,
    Verifier,
)

from .conftest import AdapterClient, FakeClock, Keys, TokenFactory
from .docserver import DocumentServer
from .helpers import bearer, public_jwk

Adapter = Callable[..., AdapterClient]


@pytest.fixture(name="make_token")
def unique_tokens(unique_token: TokenFactory) -> TokenFactory:
    return unique_token  # every request here should reach the key resolver


IDP_A, IDP_B = "https://idp-a.example/", "https://idp-b.example/"


@pytest.fixture
def two_issuers(keys: Keys, docserver: DocumentServer, clock: FakeClock) -> IssuerKeys:
    docserver.serve("/a/jwks", {"keys": [public_jwk(keys, "RS256", "a1")]})
    docserver.serve("/b/jwks", {"keys": [public_jwk(keys, "ES256", "b1")]})
    return IssuerKeys(
        {
            IDP_A: RemoteJWKS(docserver.url("/a/jwks"), clock=clock),
            IDP_B: RemoteJWKS(docserver.url("/b/jwks"), clock=clock),
        }
    )


def test_each_issuer_uses_its_own_keys(
    adapter: Adapter,
    two_issuers: IssuerKeys,
    docserver: DocumentServer,
    clock: FakeClock,
    make_token: TokenFactory,
) -> None:
    client = adapter(Verifier(two_issuers, clock=clock), warm_start=False)
    assert client.get("/", bearer(make_token("RS256", kid="a1", iss=IDP_A))).status == 200
    assert (docserver.count("/a/jwks"), docserver.count("/b/jwks")) == (1, 0)
    assert client.get("/", bearer(make_token("ES256", kid="b1", iss=IDP_B))).status == 200
    assert (docserver.count("/a/jwks"), docserver.count("/b/jwks")) == (1, 1)


def test_keys_of_one_issuer_never_vouch_for_another(
    adapter: Adapter, two_issuers: IssuerKeys, clock: FakeClock, make_token: TokenFactory
) -> None:
    client = adapter(Verifier(two_issuers, clock=clock), warm_start=False)
    # signed with B's key, claiming to come from A: A's keys do not have b1
    assert client.get("/", bearer(make_token("ES256", kid="b1", iss=IDP_A))).status == 401


@pytest.mark.parametrize(
    "iss", [None, "https://evil.example/", "https://idp-a.example", "HTTPS://IDP-A.EXAMPLE/", 42]
)
def test_unknown_issuer_is_refused_without_any_fetch(
    adapter: Adapter,
    two_issuers: IssuerKeys,
    docserver: DocumentServer,
    clock: FakeClock,
    make_token: TokenFactory,
    iss: Any,
) -> None:
    events: list[AuthEvent] = []
    client = adapter(
        Verifier(two_issuers, clock=clock), warm_start=False, on_decision=events.append
    )
    reply = client.get("/", bearer(make_token("RS256", kid="a1", iss=iss)))
    assert reply.status == 401
    assert events[0].reason in ("untrusted_issuer", "invalid_claims")
    assert docserver.count("/a/jwks") == docserver.count("/b/jwks") == 0


def test_static_and_remote_keys_mix(
    keys: Keys, docserver: DocumentServer, clock: FakeClock, make_token: TokenFactory
) -> None:
    docserver.serve("/a/jwks", {"keys": [public_jwk(keys, "RS256", "a1")]})
    issuer_keys = IssuerKeys(
        {
            IDP_A: RemoteJWKS(docserver.url("/a/jwks"), clock=clock),
            "internal": keys.verification_key("HS256"),
            "partner": KeySet([keys.verification_key("ES384", kid="p")]),
        }
    )
    verifier = Verifier(issuer_keys, clock=clock)
    assert verifier.verify(make_token("HS256", iss="internal"))["iss"] == "internal"
    assert verifier.verify(make_token("ES384", kid="p", iss="partner"))["iss"] == "partner"
    assert verifier.verify(make_token("RS256", kid="a1", iss=IDP_A))["iss"] == IDP_A
    with pytest.raises(UntrustedIssuer):
        verifier.verify(make_token("HS256", iss="intern"))


def test_configured_issuers_must_have_keys(keys: Keys) -> None:
    issuer_keys = IssuerKeys({IDP_A: keys.verification_key("HS256")})
    Verifier(issuer_keys, issuer=IDP_A)
    with pytest.raises(ConfigurationError):
        Verifier(issuer_keys, issuer=[IDP_A, IDP_B])


@pytest.mark.parametrize("bad", [{}, {"": "x"}, [("a", "b")]])
def test_bad_mappings(bad: Any) -> None:
    with pytest.raises(ConfigurationError):
        IssuerKeys(bad)


def test_sync_support_follows_the_resolvers(keys: Keys) -> None:
    async def resolver(header: Any, claims: Any) -> Any:
        return keys.verification_key("HS256")

    assert IssuerKeys({IDP_A: keys.verification_key("HS256")}).supports_sync
    assert not IssuerKeys({IDP_A: keys.verification_key("HS256"), IDP_B: resolver}).supports_sync
