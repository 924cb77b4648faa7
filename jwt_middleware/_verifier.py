"""The verification pipeline: one sans-IO core, a sync and an async driver.

``_verify_shared`` and ``_averify_shared`` (under ``verify``/``verify_token`` and their
async twins) differ only where they call the key resolver and the denylist (the only
I/O); parsing, header checks, signature and claim checks are the same pure methods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypedDict

from . import _compact
from ._claim_checks import ClaimValidator, validate
from ._claim_paths import ClaimPath, claim_path, roles_of
from ._claims import ClaimRules, IssuerTemplate, scopes_of, string_set
from ._key_resolver import KeyResolver, fetches_keys
from ._keys import SUPPORTED_ALGORITHMS, KeySet, StaticKey, configured_algorithms
from ._resolvers import CallableResolver, Keys, as_resolver
from ._revocation import Denylist, MemoryDenylist, denylist_entries
from ._token_cache import CachedToken, TokenCache
from .errors import (
    AuthError,
    BadSignature,
    ConfigurationError,
    DisallowedAlgorithm,
    MalformedToken,
    RevokedToken,
    UnknownKey,
    UnsupportedConfirmation,
    WrongTokenType,
)

logger = logging.getLogger("jwt_middleware")

_CHECKED_HEADERS = 64  # distinct header segments remembered (see _remember_header)

DEFAULT_TOKEN_TYPES: tuple[str | None, ...] = (None, "JWT", "at+jwt")
"""Accepted JOSE ``typ`` values by default: absent, ``JWT`` and ``at+jwt`` (RFC 9068)."""


class VerifiedToken(NamedTuple):
    """A token whose signature and claims were checked, the scopes it grants
    (``scope`` or ``scp``, see ``scopes_of``) and its roles (``roles_claims``).
    ``bound``: it has a ``cnf`` (DPoP key or certificate) the request must prove."""

    header: dict[str, Any]
    claims: dict[str, Any]
    scopes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    bound: bool = False


class VerifierOptions(TypedDict, total=False):
    """``Verifier``'s keyword arguments but ``issuer`` and ``audience``: what the
    ``providers`` functions pass through (they set those two themselves)."""

    algorithms: Iterable[str] | None
    leeway: float
    clock_skew: float
    required_claims: Iterable[str]
    max_age: float | None
    token_types: Iterable[str | None] | None
    max_token_bytes: int
    denylist: Denylist | None
    cache_size: int
    cache_ttl: float
    roles_claims: Iterable[str | Sequence[str]]
    validators: Iterable[ClaimValidator]
    clock: Callable[[], float]


class Verifier:
    """Verifies compact JWS tokens against the keys you configure.

    ``keys`` is a ``StaticKey``, a ``KeySet`` or JWKS document, any
    ``KeyResolver``, or a callable ``(header, claims) -> key material``.
    ``issuer`` and ``audience`` take a string or a list; a configured audience makes
    ``aud`` required, and a token that carries ``aud`` is refused when no audience is
    configured (RFC 7519 section 4.1.3). ``token_types`` lists accepted JOSE ``typ``
    values (``None`` for absent); ``algorithms`` narrows what the keys allow.
    ``leeway`` (default 0) applies to ``exp``, ``nbf`` and ``iat``; ``clock_skew``
    (10 s, as FAPI 2.0 advises) lets only ``nbf``/``iat`` lie ahead, ``exp`` stays strict.
    Tokens over ``max_token_bytes`` (16 KiB: Entra ID's reach ~11 KB) are ``too_large``.
    With a ``denylist``, every request also checks that neither the token's ``jti``
    nor its session ``sid`` was revoked.

    ``issuer`` may hold ``IssuerTemplate``s (a tenant in the issuer, as Entra ID's).
    ``roles_claims`` says where the token's roles live (``"roles"``,
    ``"realm_access.roles"``, or a tuple of names for claim names with dots); they are
    ``VerifiedToken.roles`` and what ``Rule(roles=...)`` checks. ``validators`` are
    ``ClaimValidator`` callables run, in order, on every newly verified token's claims.

    Tokens seen before are served from a bounded cache (``cache_size`` entries, each
    kept at most ``cache_ttl`` seconds and dropped when the key set changes): the
    signature is not checked again, but expiry, ``nbf`` and the denylist are, on every
    request. ``cache_size=0`` turns it off; resolvers that are plain functions are never
    cached, since nothing tells when their keys change.
    """

    def __init__(
        self,
        keys: Keys,
        *,
        algorithms: Iterable[str] | None = None,
        issuer: str | IssuerTemplate | Iterable[str | IssuerTemplate] | None = None,
        audience: str | Iterable[str] | None = None,
        leeway: float = 0,
        clock_skew: float = 10,
        required_claims: Iterable[str] = ("exp",),
        max_age: float | None = None,
        token_types: Iterable[str | None] | None = None,
        max_token_bytes: int = 16384,
        denylist: Denylist | None = None,
        cache_size: int = 10_000,
        cache_ttl: float = 300.0,
        roles_claims: Iterable[str | Sequence[str]] = (),
        validators: Iterable[ClaimValidator] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Iterables read once, so that _with_audience can build the same verifier again.
        algorithms = None if algorithms is None else tuple(algorithms)
        if issuer is not None and not isinstance(issuer, str | IssuerTemplate):
            issuer = tuple(issuer)
        required_claims = (
            required_claims if isinstance(required_claims, str) else tuple(required_claims)
        )
        token_types = None if token_types is None else tuple(token_types)
        roles_claims = roles_claims if isinstance(roles_claims, str) else tuple(roles_claims)
        validators = tuple(validators)
        self._settings: dict[str, Any] = {
            "algorithms": algorithms,
            "issuer": issuer,
            "leeway": leeway,
            "clock_skew": clock_skew,
            "required_claims": required_claims,
            "max_age": max_age,
            "token_types": token_types,
            "max_token_bytes": max_token_bytes,
            "denylist": denylist,
            "cache_size": cache_size,
            "cache_ttl": cache_ttl,
            "roles_claims": roles_claims,
            "validators": validators,
            "clock": clock,
        }
        self._resolver = as_resolver(keys)
        # Keys held in memory resolve without I/O: the async path need not await them.
        self._keys_in_memory = isinstance(self._resolver, StaticKey | KeySet)
        if denylist is not None and not isinstance(denylist, Denylist):
            raise ConfigurationError("denylist must be a MemoryDenylist, RedisDenylist or alike")
        self._denylist = denylist
        configured = configured_algorithms(algorithms)
        self._algorithms = SUPPORTED_ALGORITHMS if configured is None else configured
        self._configured_algorithms = configured is not None
        names, templates = _split_issuers(issuer)
        if templates and self._resolver.issuers is not None:
            raise ConfigurationError("issuer templates need one key set, not IssuerKeys")
        self._rules = ClaimRules(
            issuers=_issuers(names, self._resolver),
            issuer_templates=templates,
            audiences=string_set(audience, "audience"),
            leeway=leeway,
            clock_skew=clock_skew,
            required=required_claims,
            max_age=max_age,
        )
        if isinstance(roles_claims, str):
            roles_claims = (roles_claims,)
        self._roles_claims: tuple[ClaimPath, ...] = tuple(map(claim_path, roles_claims))
        self._validators = tuple(validators)
        if not all(callable(check) for check in self._validators):
            raise ConfigurationError("validators must be callables taking the claims")
        if isinstance(max_token_bytes, bool) or not isinstance(max_token_bytes, int):
            raise ConfigurationError("max_token_bytes must be an int")
        if max_token_bytes < 64:
            raise ConfigurationError("max_token_bytes must be at least 64")
        self._token_types = frozenset(
            _media_type(t) if t is not None else None
            for t in (DEFAULT_TOKEN_TYPES if token_types is None else token_types)
        )
        self._max_token_bytes = max_token_bytes
        self._checked_headers: dict[bytes, dict[str, Any]] = {}
        self._clock = clock
        # Caching needs to know when keys change; a resolver that cannot say (a plain
        # function) is not cached.
        cacheable = cache_size and self._generation() is not None
        if cache_size and not cacheable and not isinstance(self._resolver, CallableResolver):
            logger.info(
                "%r reports no key generation: verified tokens are not cached "
                "(see KeyResolver.generation)",
                self._resolver,
            )
        self._cache = TokenCache(cache_size, cache_ttl) if cacheable else None
        # What _cached_shared may answer from alone: nothing when the denylist must be asked.
        self._fast_cache = self._cache if denylist is None else None
        # False when verifying never waits on anything (keys held in memory, and no
        # denylist or one in memory): the ASGI adapter then calls the sync path directly.
        self._needs_io = not self._keys_in_memory or not (
            denylist is None or isinstance(denylist, MemoryDenylist)
        )

    @property
    def denylist(self) -> Denylist | None:
        return self._denylist

    @property
    def trusted_issuers(self) -> tuple[str, ...]:
        """The issuers named in ``issuer`` (or by ``IssuerKeys``), sorted; templates aside."""
        return tuple(sorted(self._rules.issuers or ()))

    @property
    def algorithms(self) -> frozenset[str]:
        """The JWS algorithms this verifier may accept: with keys held in memory, only
        what they can verify."""
        resolver = self._resolver
        if isinstance(resolver, StaticKey | KeySet):
            keys = (resolver,) if isinstance(resolver, StaticKey) else resolver.keys
            admit = self._configured_algorithms
            usable = frozenset().union(*(k.admissible if admit else k.algorithms for k in keys))
            return usable & frozenset(self._algorithms)
        return frozenset(self._algorithms)

    @property
    def audiences(self) -> frozenset[str] | None:
        return self._rules.audiences

    def _with_audience(self, audience: str) -> Verifier:
        """The same verifier but for ``audience`` (and its own cache), for a protected
        resource whose verifier was given none."""
        return Verifier(self._resolver, audience=audience, **self._settings)

    @property
    def cache(self) -> TokenCache | None:
        """The verified-token cache (None when off)."""
        return self._cache

    @property
    def resolver(self) -> KeyResolver:
        return self._resolver

    @property
    def supports_sync(self) -> bool:
        """False when the key resolver can only run under an event loop (ASGI)."""
        return self._resolver.supports_sync

    @property
    def can_prefetch(self) -> bool:
        """True when the key resolver fetches keys that can be loaded ahead of time."""
        return fetches_keys(self._resolver)

    def prefetch(self) -> bool:
        """Load remote keys now (WSGI warm start); never raises, True when keys are ready."""
        try:
            return bool(self._resolver.prefetch())
        except Exception:  # a warm start must never stop the service from starting
            logger.exception("loading keys at start-up failed; they load on first use")
            return False

    async def aprefetch(self) -> bool:
        """Load remote keys now (ASGI lifespan warm start); never raises."""
        try:
            return bool(await self._resolver.aprefetch())
        except Exception:  # a warm start must never stop the service from starting
            logger.exception("loading keys at start-up failed; they load on first use")
            return False

    def verify(self, token: str) -> dict[str, Any]:
        """Verify ``token`` and return its claims, or raise an ``AuthError``. A token
        bound to a DPoP key or a certificate (``cnf``) is refused here: only the
        middleware, which sees the request, can check its proof."""
        return dict(_unbound(self._verify_shared(token)).claims)

    async def averify(self, token: str) -> dict[str, Any]:
        return dict(_unbound(await self._averify_shared(token)).claims)

    def verify_token(self, token: str) -> VerifiedToken:
        """``verify``, with the header and the scopes; the dicts are yours to change."""
        return _own(_unbound(self._verify_shared(token)))

    async def averify_token(self, token: str) -> VerifiedToken:
        return _own(_unbound(await self._averify_shared(token)))

    def _verify_shared(self, token: str) -> VerifiedToken:
        """``verify_token`` without the copies: the result may be the cache's own
        and must not be changed. For the adapters, which copy what they hand the app."""
        cached = self._cached(token)
        if cached is not None:
            if self._denylist is not None:
                _check_cached_revocation(self._denylist.is_revoked(*cached.revocation), cached)
            return cached.token
        generation = self._generation()
        parsed = self._parse(token)
        try:
            keys = self._resolver.resolve(parsed.header, parsed.claims)
            verified, window = self._finish(parsed, keys)
            if self._denylist is not None:
                _check_revocation(self._denylist.is_revoked(*denylist_entries(verified.claims)))
        except AuthError as error:
            _add_context(error, parsed.header, parsed.claims)
            raise
        self._remember(token, verified, window, generation)
        return verified

    async def _averify_shared(self, token: str) -> VerifiedToken:
        cached = self._cached(token)
        if cached is not None:
            if self._denylist is not None:
                revoked = await self._denylist.ais_revoked(*cached.revocation)
                _check_cached_revocation(revoked, cached)
            return cached.token
        generation = self._generation()
        parsed = self._parse(token)
        try:
            resolver = self._resolver
            keys = (
                resolver.resolve(parsed.header, parsed.claims)
                if self._keys_in_memory
                else await resolver.aresolve(parsed.header, parsed.claims)
            )
            verified, window = self._finish(parsed, keys)
            if self._denylist is not None:
                entries = denylist_entries(verified.claims)
                _check_revocation(await self._denylist.ais_revoked(*entries))
        except AuthError as error:
            _add_context(error, parsed.header, parsed.claims)
            raise
        self._remember(token, verified, window, generation)
        return verified

    def _cached_shared(self, token: str) -> VerifiedToken | None:
        """The cache's token if it is acceptable right now without asking anyone (no
        denylist configured), shared as in ``_verify_shared``. None means "take the
        full path", which also reports every refusal. For the adapters' fast path."""
        cache = self._fast_cache
        if cache is None:
            return None
        entry = cache.get(token, self._generation(), self._clock())
        return None if entry is None else entry.token

    # -- the verified-token cache (pure) ----------------------------------------------

    def _generation(self) -> int | None:
        return self._resolver.generation

    def _cached(self, token: str) -> CachedToken | None:
        """A cached entry usable now. An expired one is dropped, and the full path
        then refuses the token with the reason and context of a first sight."""
        cache = self._cache
        return None if cache is None else cache.get(token, self._generation(), self._clock())

    def _remember(
        self,
        token: str,
        verified: VerifiedToken,
        window: tuple[float, float],
        generation: int | None,
    ) -> None:
        cache = self._cache
        if cache is None or generation is None:
            return
        not_before, expires_at = window
        until = min(expires_at, self._clock() + cache.max_age)
        revocation = () if self._denylist is None else denylist_entries(verified.claims)
        cache.put(token, CachedToken(verified, not_before, until, revocation, generation))

    # -- the pure steps ------------------------------------------------------------

    def _parse(self, token: str) -> _compact.ParsedToken:
        segments = _compact.split(token, self._max_token_bytes)
        known = self._checked_headers.get(segments.header)
        header = known if known is not None else _compact.decode_object(segments.header, "header")
        claims = _compact.decode_object(segments.payload, "payload")
        signature = _compact.decode_signature(segments.signature)
        if known is None:
            try:
                self._check_header(header)
            except AuthError as error:
                _add_context(error, header, claims)
                raise
            self._remember_header(segments.header, header)
        return _compact.ParsedToken(header, claims, segments.signing_input, signature)

    def _remember_header(self, segment: bytes, header: dict[str, Any]) -> None:
        """Tokens from one issuer share one header segment: decode and check it once.
        Only headers that passed are kept, at most a few, so a flood of odd headers
        costs its sender the full parse and nothing more."""
        if len(self._checked_headers) >= _CHECKED_HEADERS:
            self._checked_headers.clear()
        self._checked_headers[segment] = header

    def _check_header(self, header: dict[str, Any]) -> None:
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise MalformedToken("the header has no alg")
        if alg not in self._algorithms:
            raise DisallowedAlgorithm(f"alg {alg[:20]!r} is not accepted")
        if "crit" in header:
            # We implement no JWS extension, so every critical one is unknown (RFC 7515 4.1.11).
            raise MalformedToken("the header names critical extensions")
        if "enc" in header or "b64" in header or "zip" in header:
            raise MalformedToken("JWE or unencoded-payload headers in a JWS")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise MalformedToken("kid is not a string")
        cty = header.get("cty")
        if isinstance(cty, str) and _media_type(cty) == "jwt":
            raise MalformedToken("nested JWTs are not accepted")
        typ = header.get("typ")
        if typ is not None and not isinstance(typ, str):
            raise MalformedToken("typ is not a string")
        if (_media_type(typ) if typ is not None else None) not in self._token_types:
            raise WrongTokenType(f"typ {typ[:20]!r} is not accepted" if typ else "typ is required")

    def _finish(
        self, parsed: _compact.ParsedToken, keys: Sequence[StaticKey]
    ) -> tuple[VerifiedToken, tuple[float, float]]:
        """Check the signature, then the claims: the verified token, and the window
        (not before, until) its claims stay acceptable in."""
        alg: str = parsed.header["alg"]
        if not keys:
            raise UnknownKey("no configured key matches the token's kid")
        allowed = False
        # Configured algorithms admit what an unpinned key could do (PS* for RSA keys
        # without alg); otherwise only the key's own default family.
        admit = self._configured_algorithms
        for key in keys:
            if alg in (key.admissible if admit else key.algorithms):
                # admit=True: the membership that matters was just checked above.
                if key.verify(alg, parsed.signing_input, parsed.signature, admit=True):
                    break
                allowed = True
        else:
            if allowed:
                raise BadSignature()
            raise DisallowedAlgorithm(f"the matching key does not allow {alg}")
        claims = parsed.claims
        window = self._rules.check(claims, self._clock())
        for check in self._validators:
            validate(check, claims)
        roles = roles_of(claims, self._roles_claims)
        bound = "cnf" in claims
        return VerifiedToken(parsed.header, claims, scopes_of(claims), roles, bound), window


def _own(shared: VerifiedToken) -> VerifiedToken:
    """Copies of a shared token's dicts, so what the caller changes stays its own."""
    return shared._replace(header=dict(shared.header), claims=dict(shared.claims))


def _unbound(verified: VerifiedToken) -> VerifiedToken:
    if verified.bound:
        raise _add_context(
            UnsupportedConfirmation("a sender-constrained token, verified without its request"),
            verified.header,
            verified.claims,
        )
    return verified


def _check_revocation(revoked: bool) -> None:
    if revoked:
        raise RevokedToken()


def _check_cached_revocation(revoked: bool, entry: CachedToken) -> None:
    if revoked:
        raise _add_context(RevokedToken(), entry.token.header, entry.token.claims)


def _add_context(error: AuthError, header: dict[str, Any], claims: dict[str, Any]) -> AuthError:
    """Note the token's (unverified) kid and iss on the error, for logs and metrics."""
    kid, iss = header.get("kid"), claims.get("iss")
    error.kid = kid if isinstance(kid, str) else None
    error.issuer = iss if isinstance(iss, str) else None
    return error


def _media_type(value: str) -> str:
    """RFC 7515 4.1.9: compare case-insensitively, ``application/`` prefix optional."""
    lowered = value.lower()
    return lowered.removeprefix("application/")


def _split_issuers(
    issuer: str | IssuerTemplate | Iterable[str | IssuerTemplate] | None,
) -> tuple[frozenset[str] | None, tuple[IssuerTemplate, ...]]:
    """Plain issuer names, and templates."""
    if issuer is None or isinstance(issuer, str):
        return string_set(issuer, "issuer"), ()
    if isinstance(issuer, IssuerTemplate):
        return None, (issuer,)
    items = tuple(issuer)
    templates = tuple(item for item in items if isinstance(item, IssuerTemplate))
    names = [item for item in items if not isinstance(item, IssuerTemplate)]
    if not names and not templates:
        raise ConfigurationError("issuer must be a non-empty string or list of strings")
    return (string_set(names, "issuer") if names else None), templates


def _issuers(configured: frozenset[str] | None, resolver: KeyResolver) -> frozenset[str] | None:
    """With per-issuer keys, the verified iss must be one of their issuers."""
    keyed = resolver.issuers
    if keyed is None:
        return configured
    if configured is None:
        return keyed
    if not configured <= keyed:
        raise ConfigurationError("issuer names an issuer that IssuerKeys has no keys for")
    return configured
