"""Checked by tests/test_typing.py with mypy --strict: what Verifier(keys=...) accepts."""

from collections.abc import Sequence
from typing import Any

from jwt_middleware import KeyResolver, StaticKey, Verifier


class Duck:
    def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
        return ()

    async def aresolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
        return ()


class Mine(KeyResolver):
    @property
    def generation(self) -> int:
        return 1

    def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
        return ()

    async def aresolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
        return ()


class Half(KeyResolver):
    def resolve(self, header: Any, claims: Any) -> Sequence[StaticKey]:
        return ()


def by_tenant(header: Any, claims: Any) -> bytes:
    return b"x" * 32


Verifier(Duck())
Verifier(Mine())
Verifier(Half())  # E: aresolve is missing
Verifier(by_tenant)
Verifier(StaticKey(b"x" * 32, algorithm="HS256"))
Verifier({"keys": []})
Verifier(42)  # E: refused by the type
