"""Resolvers from whatever Verifier(keys) is given; callables, sync and async."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest

from jwt_middleware import (
    ConfigurationError,
    InvalidClaims,
    KeyResolver,
    KeySet,
    StaticKey,
    Verifier,
)
from jwt_middleware._resolvers import CallableResolver, as_resolver

from .conftest import FakeClock, Keys, TokenFactory, pem_public
from .helpers import rsa_jwk


class TestResolvers:
    def test_as_resolver(self, keys: Keys) -> None:
        key = keys.verification_key("HS256")
        assert as_resolver(key) is key
        assert isinstance(as_resolver({"keys": [rsa_jwk(keys)]}), KeySet)
        assert isinstance(as_resolver(rsa_jwk(keys)), StaticKey)
        assert isinstance(as_resolver([key]), KeySet)
        assert isinstance(as_resolver(lambda h, c: key), CallableResolver)
        with pytest.raises(ConfigurationError, match="StaticKey"):
            as_resolver("a secret string that is long enough")
        with pytest.raises(ConfigurationError):
            as_resolver(42)

    def test_callable_results(self, keys: Keys) -> None:
        key = keys.verification_key("HS256")
        pem = pem_public(keys.rsa)
        calls: list[Any] = []

        def fn(header: Any, claims: Any) -> Any:
            calls.append(1)
            return {"one": key, "pem": pem, "list": [key, pem], "none": None}[header["x"]]

        resolver = CallableResolver(fn)
        assert resolver.supports_sync
        assert resolver.resolve({"x": "one"}, {}) == (key,)
        first = resolver.resolve({"x": "pem"}, {})[0]
        assert first.algorithms == {"RS256", "RS384", "RS512"}
        assert resolver.resolve({"x": "pem"}, {})[0] is first  # PEM parsed once
        assert len(resolver.resolve({"x": "list"}, {})) == 2
        assert resolver.resolve({"x": "none"}, {}) == ()

    @pytest.mark.anyio
    async def test_async_callable(self, keys: Keys) -> None:
        key = keys.verification_key("HS256")

        async def fn(header: Any, claims: Any) -> Any:
            return key

        resolver = CallableResolver(fn)
        assert not resolver.supports_sync
        assert await resolver.aresolve({}, {}) == (key,)
        with pytest.raises(TypeError, match="async"):
            resolver.resolve({}, {})

    @pytest.mark.anyio
    async def test_async_callable_object(self, keys: Keys) -> None:
        class Resolver:
            async def __call__(self, header: Any, claims: Any) -> Any:
                return keys.verification_key("HS256")

        assert not CallableResolver(Resolver()).supports_sync


class TestResolverProtocol:
    """Every member the verifier reads is declared on KeyResolver, with a default."""

    def test_a_subclass_gets_the_defaults_and_is_used_as_is(self, keys: Keys) -> None:
        key = keys.verification_key("HS256")

        class Mine(KeyResolver):
            def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
                return (key,)

            async def aresolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
                return (key,)

        mine = Mine()
        assert as_resolver(mine) is mine
        assert mine.generation is None and mine.supports_sync and mine.issuers is None
        assert mine.prefetch() is True
        assert not Verifier(mine).can_prefetch

    def test_the_abstract_methods_are_required(self) -> None:
        class Half(KeyResolver):
            def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
                return ()

        with pytest.raises(TypeError, match="aresolve"):
            Half()  # type: ignore[abstract]

    def test_a_resolver_without_generation_is_not_cached_and_says_so(
        self,
        keys: Keys,
        make_token: TokenFactory,
        clock: FakeClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        key = keys.verification_key("HS256")

        class Duck:  # only the two required methods, no base class
            def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
                return (key,)

            async def aresolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
                return (key,)

        with caplog.at_level(logging.INFO, logger="jwt_middleware"):
            verifier = Verifier(Duck(), clock=clock)
        assert verifier.cache is None
        assert "no key generation" in caplog.text and "Duck" in caplog.text
        assert verifier.verify(make_token())["sub"] == "alice"

    def test_a_duck_typed_resolver_keeps_its_optional_members(
        self, keys: Keys, make_token: TokenFactory, clock: FakeClock
    ) -> None:
        key = keys.verification_key("HS256")

        class Duck:
            supports_sync = False
            issuers = ("https://idp.example/",)

            def __init__(self) -> None:
                self.generation = 1
                self.prefetched = 0

            def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
                return (key,)

            async def aresolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
                return (key,)

            def prefetch(self) -> bool:
                self.prefetched += 1
                return True

        duck = Duck()
        verifier = Verifier(duck, clock=clock)
        resolver = verifier.resolver
        assert not verifier.supports_sync and resolver.issuers == {"https://idp.example/"}
        assert verifier.cache is not None and resolver.generation == 1
        duck.generation = 2  # read on every call: key rotation still empties the cache
        assert resolver.generation == 2
        assert verifier.prefetch() and duck.prefetched == 1
        assert verifier.verify(make_token(iss="https://idp.example/"))["sub"] == "alice"
        with pytest.raises(InvalidClaims, match="issuer"):  # iss must be one of its issuers
            verifier.verify(make_token(iss="https://other.example/"))
