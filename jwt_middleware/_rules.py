"""Per-route rules: which paths need no token, and what a token must hold elsewhere.

Rules are matched on the path the app routes on (after ASGI's ``root_path``; WSGI's
``PATH_INFO``), first match wins, and compiled once into dictionaries, so matching costs
a few lookups however many rules there are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._claim_paths import MISSING, ClaimPath, claim_path, lookup
from ._claims import is_number
from ._responses import SCOPE_TOKEN
from .errors import AuthError, ConfigurationError, InsufficientScope, InsufficientUserAuthentication


class _ClaimConditionFailed(InsufficientScope):
    description = "The access token lacks a claim this resource requires"


class _RoleMissing(InsufficientScope):
    description = "The access token lacks a role this resource requires"


class Rule:
    """What one path (or path prefix) needs.

    ``path`` without a trailing slash is exact; with one it is a prefix at a segment
    boundary (``"/admin/"`` covers ``/admin/users``, never ``/administrator``, and
    ``"/"`` alone is only the home page). ``methods`` narrows the rule to those methods.
    ``public=True``: no token needed. Otherwise a valid token is needed, holding every
    scope in ``scopes`` and meeting every condition in ``claims``: a dotted path into
    the claims (``"realm_access.roles"``) and the value expected there, which the claim
    must equal or, when it is a list or a space-separated string, contain. A missing
    claim fails. ``roles``: every one must be among the token's roles, read where the
    verifier's ``roles_claims`` (or provider profile) says they live. A token that
    fails is refused with 403 ``insufficient_scope``.

    Step-up (RFC 9470): ``acr_values`` lists the authentication context classes
    accepted (the token's ``acr`` must be one), ``max_age`` how many seconds ago the
    user may have authenticated (``auth_time``); a token short of either, or without
    the claim, is refused with 401 ``insufficient_user_authentication`` and a challenge
    naming what to ask the authorization server for.
    """

    __slots__ = (
        "_conditions",
        "acr_values",
        "claims",
        "max_age",
        "methods",
        "path",
        "public",
        "roles",
        "scopes",
    )

    def __init__(
        self,
        path: str,
        *,
        methods: Iterable[str] | None = None,
        public: bool = False,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        roles: Iterable[str] = (),
        acr_values: Iterable[str] = (),
        max_age: int | None = None,
    ) -> None:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ConfigurationError(f"a rule's path must start with '/': {path!r}")
        if any(segment in (".", "..") for segment in path.split("/")) or "\\" in path:
            raise ConfigurationError(f"a rule's path has dot segments: {path!r}")
        self.path = path
        if isinstance(methods, str):
            methods = (methods,)
        if methods is None:
            self.methods: frozenset[str] | None = None
        else:
            wanted = {m.upper() for m in methods}
            if not wanted:
                raise ConfigurationError("methods=[] would match nothing; leave it out instead")
            if "GET" in wanted:
                wanted.add("HEAD")  # routers answer HEAD with the GET handler
            self.methods = frozenset(wanted)
        self.public = bool(public)
        if isinstance(scopes, str):
            scopes = scopes.split()
        self.scopes = tuple(scopes)
        if not all(isinstance(s, str) and SCOPE_TOKEN.fullmatch(s) for s in self.scopes):
            raise ConfigurationError("a rule's scopes must be RFC 6750 scope tokens")
        self.roles = (roles,) if isinstance(roles, str) else tuple(roles)
        if not all(isinstance(role, str) and role for role in self.roles):
            raise ConfigurationError("a rule's roles must be non-empty strings")
        self.acr_values = (acr_values,) if isinstance(acr_values, str) else tuple(acr_values)
        if not all(isinstance(v, str) and SCOPE_TOKEN.fullmatch(v) for v in self.acr_values):
            raise ConfigurationError("acr_values are names without spaces or quotes")
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
        ):
            raise ConfigurationError("max_age is a whole number of seconds, 0 or more")
        self.max_age = max_age
        self.claims = dict(claims or {})
        self._conditions = tuple(_condition(name, value) for name, value in self.claims.items())
        if self.public and (
            self.scopes or self._conditions or self.roles or self.acr_values or max_age is not None
        ):
            raise ConfigurationError(
                f"rule {path!r} is public: it cannot also require scopes, roles, claims "
                "or an authentication level"
            )

    @property
    def is_prefix(self) -> bool:
        return self.path.endswith("/") and self.path != "/"

    def refusal(
        self,
        claims: Mapping[str, Any],
        scopes: Iterable[str],
        also: tuple[str, ...] = (),
        roles: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> AuthError | None:
        """None when a verified token's claims, scopes and roles meet this rule (and
        hold the scopes ``also`` required everywhere); else the refusal: 401 for a
        step-up (checked first: a new login can also grant the scopes), or the 403
        naming every scope the request needs."""
        if self.acr_values or self.max_age is not None:
            step_up = self._step_up(claims, clock)
            if step_up is not None:
                return step_up
        needed = also + self.scopes
        if needed and not all(scope in scopes for scope in needed):
            return InsufficientScope(needed)
        if self.roles and not all(role in roles for role in self.roles):
            return _RoleMissing(needed, "a required role is missing")
        if not all(_holds(claims, path, expected) for path, expected in self._conditions):
            return _ClaimConditionFailed(needed, "a claim condition failed")
        return None

    def _step_up(self, claims: Mapping[str, Any], clock: Callable[[], float]) -> AuthError | None:
        if self.acr_values and claims.get("acr") not in self.acr_values:
            return InsufficientUserAuthentication(
                self.acr_values, self.max_age, "acr is missing or not accepted"
            )
        if self.max_age is not None:
            auth_time: Any = claims.get("auth_time")
            if not is_number(auth_time) or clock() - auth_time > self.max_age:
                return InsufficientUserAuthentication(
                    self.acr_values, self.max_age, "auth_time is missing or too old"
                )
        return None

    def __repr__(self) -> str:
        parts = [repr(self.path)]
        if self.methods is not None:
            parts.append(f"methods={sorted(self.methods)!r}")
        if self.public:
            parts.append("public=True")
        if self.scopes:
            parts.append(f"scopes={list(self.scopes)!r}")
        if self.roles:
            parts.append(f"roles={list(self.roles)!r}")
        if self.acr_values:
            parts.append(f"acr_values={list(self.acr_values)!r}")
        if self.max_age is not None:
            parts.append(f"max_age={self.max_age}")
        if self.claims:
            parts.append(f"claims={self.claims!r}")
        return f"Rule({', '.join(parts)})"


def _condition(name: object, expected: object) -> tuple[ClaimPath, object]:
    if not isinstance(name, str):
        raise ConfigurationError(f"a claim condition needs a dotted claim name: {name!r}")
    path = claim_path(name)
    if isinstance(expected, Mapping | list | tuple | set) or expected is None:
        raise ConfigurationError(
            f"the condition on {name!r} must expect one value (a string, number or bool)"
        )
    return path, expected


def _holds(claims: Mapping[str, Any], path: ClaimPath, expected: object) -> bool:
    value = lookup(claims, path)
    if value is MISSING:
        return False
    if isinstance(value, list):
        return any(_same(item, expected) for item in value)
    if isinstance(value, str) and isinstance(expected, str) and " " not in expected:
        return expected in value.split(" ")
    return _same(value, expected)


def _same(value: object, expected: object) -> bool:
    # True == 1 in Python; a claim of 1 must not satisfy an expected True, or vice versa.
    return type(value) is type(expected) and value == expected


class Rules:
    """Rules compiled for matching: exact paths and prefixes in dictionaries, each entry
    keeping its rules in the order given, so the first match wins."""

    __slots__ = ("_depth", "_exact", "_prefixes", "rules")

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        for rule in self.rules:
            if not isinstance(rule, Rule):
                raise ConfigurationError(f"rules holds {rule!r}, not a jwt_middleware.Rule")
        self._exact: dict[str, list[tuple[int, Rule]]] = {}
        self._prefixes: dict[str, list[tuple[int, Rule]]] = {}
        for index, rule in enumerate(self.rules):
            table = self._prefixes if rule.is_prefix else self._exact
            table.setdefault(rule.path, []).append((index, rule))
        # The deepest prefix rule: no longer prefix of a path needs looking up.
        self._depth = max(
            (rule.path.count("/") - 1 for rule in self.rules if rule.is_prefix), default=0
        )

    def __bool__(self) -> bool:
        return bool(self.rules)

    def match(self, path: str | None, method: str) -> Rule | None:
        """The first rule for ``path`` (the path the app routes on) and ``method``.

        A path that cannot be told (None), or that holds dot segments or backslashes
        (which a proxy, router or file system may resolve elsewhere), matches no public
        rule: its requests are never let through on a rule's word."""
        if path is None:
            return None
        best: tuple[int, Rule] | None = None
        for index, rule in self._exact.get(path, ()):
            if rule.methods is None or method in rule.methods:
                best = (index, rule)
                break
        if self._depth:
            end = 0
            for _ in range(self._depth):
                end = path.find("/", end + 1 if end else 1)
                if end < 0:
                    break
                for index, rule in self._prefixes.get(path[: end + 1], ()):
                    if best is not None and index > best[0]:
                        break
                    if rule.methods is None or method in rule.methods:
                        best = (index, rule)
                        break
        if best is None:
            return None
        rule = best[1]
        if rule.public and ("\\" in path or any(s in (".", "..") for s in path.split("/"))):
            return None
        return rule
