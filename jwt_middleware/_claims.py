"""The rules for a token's claims (RFC 7519 section 4.1), checked with strict types,
and how scopes are read from them. Pure: the clock's reading comes in as ``now``."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from ._resource import normalize_resource
from .errors import (
    ConfigurationError,
    ExpiredToken,
    InvalidClaims,
    NotYetValid,
    UnsupportedConfirmation,
    UntrustedIssuer,
)

_MAX_NUMERIC_DATE = 2**53  # beyond this a float loses whole seconds; no real token needs it
_ABSENT: Any = object()  # tells a missing claim from a JSON null


_TEMPLATE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class IssuerTemplate:
    """An issuer that names a tenant, as Entra ID's
    ``https://login.microsoftonline.com/{tid}/v2.0``: the token's ``iss`` must be the
    template filled with the token's own ``claim`` (``tid`` here), and that value one of
    ``allowed``, or any value when ``any_value=True`` is asked for explicitly (then the
    audience is all that keeps other tenants' tokens out). Values are plain names
    (letters, digits, ``.``, ``_``, ``-``), so no value can reshape the issuer."""

    __slots__ = ("_prefix", "_suffix", "allowed", "claim", "template")

    def __init__(
        self,
        template: str,
        *,
        claim: str = "tid",
        allowed: Iterable[str] | None = None,
        any_value: bool = False,
    ) -> None:
        placeholder = "{" + claim + "}"
        if not isinstance(template, str) or template.count(placeholder) != 1:
            raise ConfigurationError(f"an issuer template holds {placeholder} once: {template!r}")
        if template.count("{") != 1 or template.count("}") != 1:
            raise ConfigurationError(f"an issuer template has one placeholder: {template!r}")
        self.template, self.claim = template, claim
        self._prefix, self._suffix = template.split(placeholder)
        if (allowed is None) == (not any_value):
            raise ConfigurationError(
                "an issuer template needs the allowed values, or any_value=True (not both)"
            )
        self.allowed = None if allowed is None else string_set(allowed, "allowed values")
        if self.allowed is not None and not all(map(_TEMPLATE_VALUE.fullmatch, self.allowed)):
            raise ConfigurationError("an issuer template's allowed values are plain names")

    def issuer_for(self, value: str) -> str:
        return f"{self._prefix}{value}{self._suffix}"

    def check(self, claims: dict[str, Any], iss: object) -> bool:
        """True when ``iss`` is this template's, filled with the token's own claim value;
        False when ``iss`` has another shape. Raises for a value not allowed."""
        if not isinstance(iss, str) or not (
            iss.startswith(self._prefix) and iss.endswith(self._suffix)
        ):
            return False
        value = claims.get(self.claim)
        if not isinstance(value, str) or not _TEMPLATE_VALUE.fullmatch(value):
            return False
        if iss != self.issuer_for(value):
            return False
        if self.allowed is not None and value not in self.allowed:
            raise UntrustedIssuer(f"{self.claim} {value!r} is not an allowed one")
        return True

    def __repr__(self) -> str:
        allowed = "any_value=True" if self.allowed is None else f"allowed={sorted(self.allowed)}"
        return f"IssuerTemplate({self.template!r}, claim={self.claim!r}, {allowed})"


class ClaimRules:
    """``exp``/``nbf``/``iat`` must be JSON numbers (``exp`` equal to now is expired;
    ``leeway`` extends all three, ``clock_skew`` only how far ``nbf``/``iat`` may be
    ahead); a ``cnf`` claim may only name DPoP's ``jkt`` and mTLS's ``x5t#S256``
    (whose proofs the middleware checks, see ``confirmation``);
    ``iss``/``sub``/``jti`` strings; ``iss`` and ``aud`` must match when configured, a
    configured audience makes ``aud`` required, and a token naming an audience is
    refused when none is configured (RFC 7519 section 4.1.3)."""

    def __init__(
        self,
        *,
        issuers: frozenset[str] | None,
        audiences: frozenset[str] | None,
        issuer_templates: tuple[IssuerTemplate, ...] = (),
        leeway: float,
        required: Iterable[str],
        max_age: float | None,
        clock_skew: float = 0,
    ) -> None:
        if not is_number(leeway) or leeway < 0:
            raise ConfigurationError("leeway must be a non-negative number of seconds")
        if not is_number(clock_skew) or clock_skew < 0:
            raise ConfigurationError("clock_skew must be a non-negative number of seconds")
        if max_age is not None and (not is_number(max_age) or max_age <= 0):
            raise ConfigurationError("max_age must be a positive number of seconds")
        if isinstance(required, str):
            raise ConfigurationError("required_claims is a list of claim names")
        self.required = tuple(required)
        if max_age is not None and "iat" not in self.required:
            self.required += ("iat",)
        self.issuers, self.audiences = issuers, audiences
        # URIs also compare after RFC 3986 normalisation (RFC 8707 resource indicators).
        self._normal_audiences = frozenset(normalize_resource(a) for a in audiences or ())
        self.issuer_templates = issuer_templates
        self.leeway, self.max_age = leeway, max_age
        # How far nbf and iat may lie ahead of our clock: the issuer's clock may run fast.
        self.ahead = max(leeway, clock_skew)

    def check(self, claims: dict[str, Any], now: float) -> tuple[float, float]:
        """Raise for claims that are refused now; else answer the window they stay
        acceptable in, leeway included, (not before, expires at): what a cached token
        is held to on every later request."""
        for name in self.required:
            if name not in claims:
                raise InvalidClaims(f"the {name} claim is required")
        leeway = self.leeway
        not_before, expires_at = -math.inf, math.inf
        exp = claims.get("exp", _ABSENT)
        if exp is not _ABSENT:
            expires_at = _numeric_date(exp, "exp") + leeway
            if now >= expires_at:
                raise ExpiredToken()
        ahead = self.ahead
        nbf = claims.get("nbf", _ABSENT)
        if nbf is not _ABSENT:
            not_before = _numeric_date(nbf, "nbf") - ahead
            if now < not_before:
                raise NotYetValid("nbf is in the future")
        iat = claims.get("iat", _ABSENT)
        if iat is not _ABSENT:
            issued = _numeric_date(iat, "iat")
            if now + ahead < issued:
                raise NotYetValid("iat is in the future")
            not_before = max(not_before, issued - ahead)
            if self.max_age is not None:
                too_old = issued + self.max_age + leeway
                if now >= too_old:
                    raise ExpiredToken("older than max_age")
                expires_at = min(expires_at, too_old)
        for name in ("iss", "sub", "jti"):
            if not isinstance(claims.get(name, ""), str):  # a JSON null is not a string
                raise InvalidClaims(f"{name} is not a string")
        if self.issuers is not None or self.issuer_templates:
            self._check_issuer(claims)
        self._check_audience(claims.get("aud", _ABSENT))
        if "cnf" in claims:
            # Bound to a key (DPoP) or a certificate (mTLS): the policy checks the
            # request holds it. A method nobody here checks is refused now.
            confirmation(claims)
        return not_before, expires_at

    def _check_issuer(self, claims: dict[str, Any]) -> None:
        iss = claims.get("iss")
        if self.issuers is not None and iss in self.issuers:
            return
        for template in self.issuer_templates:
            if template.check(claims, iss):
                return
        raise InvalidClaims("wrong or missing issuer")

    def _check_audience(self, aud: object) -> None:
        if aud is _ABSENT:
            if self.audiences is not None:
                raise InvalidClaims("the aud claim is required")
            return
        if isinstance(aud, str):
            token_audiences: list[str] = [aud]
        elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
            token_audiences = aud
        else:
            raise InvalidClaims("aud is not a string or a list of strings")
        if self.audiences is None:
            raise InvalidClaims("the token names an audience but none is configured")
        if self.audiences.isdisjoint(token_audiences) and self._normal_audiences.isdisjoint(
            normalize_resource(a) for a in token_audiences
        ):
            raise InvalidClaims("wrong audience")


_CONFIRMATION_METHODS = frozenset({"jkt", "x5t#S256"})


def confirmation(claims: dict[str, Any]) -> dict[str, str] | None:
    """The token's ``cnf`` when it names only methods checked here (RFC 9449 ``jkt``,
    RFC 8705 ``x5t#S256``), each a string; None without one. ``UnsupportedConfirmation``
    for anything else (``jwk``, ``kid``, an odd shape): fail closed."""
    if "cnf" not in claims:
        return None
    cnf = claims["cnf"]
    if (
        not isinstance(cnf, dict)
        or not cnf
        or not _CONFIRMATION_METHODS.issuperset(cnf)
        or not all(isinstance(value, str) and value for value in cnf.values())
    ):
        raise UnsupportedConfirmation("the token's cnf names a method that is not checked here")
    return cnf


def scopes_of(claims: dict[str, Any]) -> tuple[str, ...]:
    """Scopes from ``scope`` (space-separated, RFC 8693) or ``scp`` (list or string)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return tuple(value.split())
        if isinstance(value, list):
            return tuple(item for item in value if isinstance(item, str))
    return ()


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numeric_date(value: object, name: str) -> float:
    """A JSON number within float's exact range (NaN and infinities compare False)."""
    if (type(value) is int or type(value) is float) and (  # exact types: bool is not
        -_MAX_NUMERIC_DATE <= value <= _MAX_NUMERIC_DATE
    ):
        return value
    raise InvalidClaims(f"{name} is not a NumericDate")


def string_set(value: str | Iterable[str] | None, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    values = (value,) if isinstance(value, str) else tuple(value)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise ConfigurationError(f"{name} must be a non-empty string or list of strings")
    return frozenset(values)
