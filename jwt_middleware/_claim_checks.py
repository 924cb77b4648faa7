"""Claim checks beyond RFC 7519's: the ``Verifier(validators=...)`` callables, how one is
run (failing closed), and the allowlist checks the provider profiles are built from."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._claim_paths import MISSING, lookup
from ._claims import string_set
from .errors import AuthError, ClaimsRejected, ConfigurationError, VerificationFailed

logger = logging.getLogger("jwt_middleware")

ClaimValidator = Callable[[Mapping[str, Any]], str | None]
"""A check of verified claims: ``None`` accepts, a string refuses with that reason code
(``ClaimsRejected``), an ``AuthError`` raised refuses as itself."""

_REASON = re.compile(r"[a-z][a-z0-9_]{0,47}")


def validate(check: ClaimValidator, claims: dict[str, Any]) -> None:
    """Run ``check``; a refusal, a raise or an answer that is no reason code refuses."""
    try:
        refused = check(claims)
    except AuthError:
        raise
    except Exception as exc:  # a broken check refuses: fail closed, and say so
        logger.exception("claim validator %r raised; the token is refused", check)
        raise VerificationFailed("a claim validator raised") from exc
    if refused is None:
        return
    if isinstance(refused, str) and _REASON.fullmatch(refused):
        raise ClaimsRejected(refused)
    logger.error("claim validator %r returned %r, not None or a reason code", check, refused)
    raise ClaimsRejected("claims_rejected")


def names(values: str | Iterable[str], what: str) -> frozenset[str]:
    """A non-empty set of non-empty strings (one string is one name)."""
    found = string_set(values, what)
    if found is None:
        raise ConfigurationError(f"{what} must be a string or a list of strings")
    return found


def one_of(where: str | tuple[str, ...], allowed: Iterable[str], reason: str) -> ClaimValidator:
    """The claim at ``where`` (a claim name, or a path of names) must be one of
    ``allowed``; a missing claim fails."""
    path = (where,) if isinstance(where, str) else where
    values = names(allowed, reason.removeprefix("wrong_") + " allowlist")

    def check(claims: Mapping[str, Any]) -> str | None:
        value = lookup(claims, path)
        return None if isinstance(value, str) and value in values else reason

    return _named(check, ".".join(path), reason)


def first_of(claim_names: tuple[str, ...], allowed: Iterable[str], reason: str) -> ClaimValidator:
    """The first of ``claim_names`` the token has must be one of ``allowed`` (Entra's
    ``azp``, which v1 tokens call ``appid``)."""
    values = names(allowed, reason.removeprefix("wrong_") + " allowlist")

    def check(claims: Mapping[str, Any]) -> str | None:
        value = next((claims[name] for name in claim_names if name in claims), MISSING)
        return None if isinstance(value, str) and value in values else reason

    return _named(check, "|".join(claim_names), reason)


def equals(name: str, expected: str, reason: str) -> ClaimValidator:
    def check(claims: Mapping[str, Any]) -> str | None:
        return None if claims.get(name) == expected else reason

    return _named(check, name, reason)


def _named(check: ClaimValidator, what: str, reason: str) -> ClaimValidator:
    """A name that says what the check is, for the log line of a broken one."""
    check.__qualname__ = f"check[{what} -> {reason}]"
    return check
