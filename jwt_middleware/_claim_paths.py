"""Paths into a token's claims: ``"realm_access.roles"`` or, for names that hold dots
themselves (``kubernetes.io``, Auth0's ``https://example.com/roles``), a tuple of names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ConfigurationError

ClaimPath = tuple[str, ...]
MISSING: Any = object()


def claim_path(name: object) -> ClaimPath:
    """A dotted string, or a sequence of names taken as they are."""
    if isinstance(name, str):
        parts = tuple(name.split("."))
    elif isinstance(name, Sequence) and all(isinstance(part, str) for part in name):
        parts = tuple(name)
    else:
        raise ConfigurationError(f"a claim path is a dotted claim name or a tuple: {name!r}")
    if not parts or any(not part for part in parts):
        raise ConfigurationError(f"a claim path needs a dotted claim name, not {name!r}")
    return parts


def lookup(claims: Mapping[str, Any], path: ClaimPath) -> Any:
    """The value at ``path``, or ``MISSING``."""
    value: Any = claims
    for part in path:
        if not isinstance(value, Mapping):
            return MISSING
        value = value.get(part, MISSING)
        if value is MISSING:
            return MISSING
    return value


def strings_at(claims: Mapping[str, Any], path: ClaimPath) -> tuple[str, ...]:
    """The strings at ``path``: a list's string items, a space-separated string's words,
    nothing for any other shape."""
    value = lookup(claims, path)
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def roles_of(claims: Mapping[str, Any], paths: Sequence[ClaimPath]) -> tuple[str, ...]:
    """Every role found at ``paths``, in order, each once."""
    if not paths:
        return ()
    if len(paths) == 1:
        return tuple(dict.fromkeys(strings_at(claims, paths[0])))
    found: dict[str, None] = {}
    for path in paths:
        found.update(dict.fromkeys(strings_at(claims, path)))
    return tuple(found)
