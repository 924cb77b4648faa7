"""What an ASGI app finds in ``scope["user"]`` and ``scope["auth"]``.

Duck-typed to Starlette's ``BaseUser`` and ``AuthCredentials`` so ``request.user``,
``request.auth`` and ``@requires("scope")`` work with no other auth middleware, while
the adapter itself stays free of any framework import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class TokenUser:
    """An authenticated caller; ``identity`` is the token's ``sub``."""

    __slots__ = ("claims",)

    is_authenticated = True

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    @property
    def identity(self) -> str:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else ""

    @property
    def display_name(self) -> str:
        return self.identity

    def __repr__(self) -> str:
        return f"TokenUser(identity={self.identity!r})"


class AnonymousUser:
    """The caller of an exempt path, a preflight, or an optional-mode request."""

    __slots__ = ()

    is_authenticated = False
    identity = ""
    display_name = ""
    claims = None

    def __repr__(self) -> str:
        return "AnonymousUser()"


class TokenCredentials:
    """``scope["auth"]``: the token's scopes (Starlette reads ``.scopes``) and roles,
    tuples of strings."""

    __slots__ = ("roles", "scopes")

    def __init__(self, scopes: Iterable[str] = (), roles: Iterable[str] = ()) -> None:
        self.scopes = tuple(scopes)  # the same object when given a tuple: no copy
        self.roles = tuple(roles)

    def __repr__(self) -> str:
        return f"TokenCredentials({self.scopes!r}, roles={self.roles!r})"


ANONYMOUS = AnonymousUser()
