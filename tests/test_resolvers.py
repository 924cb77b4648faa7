"""Resolvers from whatever Verifier(keys) is given; callables, sync and async."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_middleware import ConfigurationError, KeySet, StaticKey
from jwt_middleware._resolvers import CallableResolver, as_resolver

from .conftest import Keys, pem_public
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
