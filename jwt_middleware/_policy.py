"""The HTTP decision shared by both adapters: who may pass, and what a refusal says.

``AuthPolicy`` sees a ``RequestView`` and answers ``Allowed`` or
``Rejected``. Its steps are pure; ``authenticate`` and ``aauthenticate`` only
differ in how they call the verifier (the key lookup may do I/O).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple, TypedDict

from ._binding import SenderBinding
from ._csrf import CSRFCheck
from ._dpop import CheckedProof, DPoP
from ._mtls import ClientCertificates, check_header_setup
from ._origin import OriginPolicy, TrustedProxies
from ._request import RequestView
from ._resource import MetadataResponse, ProtectedResource
from ._responses import SCOPE_TOKEN, Challenges, ErrorResponse, check_realm, is_sendable
from ._rules import Rule, Rules
from ._sources import BearerHeader, DPoPHeader, TokenSource, query_carries_token
from ._verifier import VerifiedToken, Verifier
from .errors import (
    AuthError,
    ConfigurationError,
    CSRFFailed,
    InsecureTransport,
    InsufficientScope,
    InvalidRequest,
    MissingToken,
    VerificationFailed,
)

logger = logging.getLogger("jwt_middleware")

CLAIMS_KEY = "jwt.claims"
"""Where the verified claims (a dict, or None for an anonymous request) are stored."""
HEADER_KEY = "jwt.header"
"""Where the verified token's JOSE header is stored."""
SCOPES_KEY = "jwt.scopes"
"""Where the token's scopes (a tuple of strings) are stored in the WSGI environ."""
ROLES_KEY = "jwt.roles"
"""Where the token's roles (a tuple of strings, see ``roles_claims``) are stored."""
DPOP_KEY = "jwt.dpop_jkt"
"""Where the DPoP proof key's RFC 7638 thumbprint is stored (None without DPoP)."""


class Allowed(NamedTuple):
    """Pass the request on. ``token`` is None for exempt and anonymous requests; it
    may be shared with the verified-token cache, so it is read-only: the adapters hand
    the app copies of its dicts."""

    reason: str  # "ok", "anonymous", "exempt" or "preflight"
    token: VerifiedToken | None = None
    scopes: tuple[str, ...] = ()
    source: TokenSource | None = None  # where the token came from (CSRF exemptions)
    dpop_jkt: str | None = None  # the DPoP proof's key thumbprint
    headers: tuple[tuple[str, str], ...] = ()  # for the app's response (DPoP-Nonce)


@dataclass(frozen=True, slots=True)
class Rejected:
    """Answer with ``response``; the wrapped app is not called."""

    error: AuthError
    response: ErrorResponse


Outcome = Allowed | Rejected


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """One decision, for ``on_decision``. ``reason`` is a stable code: ``ok``,
    ``anonymous``, ``exempt``, ``preflight``, or the error's ``reason`` (``missing``,
    ``malformed``, ``expired``, ``bad_signature``, ``unknown_key``, ...). ``status``
    is None when the request went on to the app. ``kid`` and ``issuer`` come from the
    token and are unverified on a rejection."""

    reason: str
    status: int | None
    method: str
    path: str
    source: str | None = None
    kid: str | None = None
    issuer: str | None = None
    subject: str | None = None


ErrorResponseHook = Callable[[AuthError, ErrorResponse], ErrorResponse]
DecisionHook = Callable[[AuthEvent], None]


class MiddlewareOptions(TypedDict, total=False):
    """The keyword arguments both ``JWTMiddleware`` adapters accept (see AuthPolicy)."""

    sources: Iterable[TokenSource]
    rules: Iterable[Rule]
    exempt: Iterable[str]
    optional: bool
    realm: str | None
    required_scopes: Iterable[str]
    allow_preflight: bool
    reject_query_token: bool
    csrf: bool
    trusted_origins: Iterable[str]
    csrf_cookie: str | None
    csrf_header: str | None
    error_response: ErrorResponseHook | None
    on_decision: DecisionHook | None
    warm_start: bool
    resource: ProtectedResource | None
    dpop: DPoP | None
    client_certificates: ClientCertificates | None
    public_origin: str | None
    trusted_proxies: TrustedProxies | Iterable[str] | None
    require_https: bool
    allow_loopback_http: bool


class _Pending:
    """A token found, to be verified (a plain class: cheaper to make than a tuple type)."""

    __slots__ = ("proof", "rule", "source", "token")

    def __init__(self, token: str, source: TokenSource, rule: Rule | None) -> None:
        self.token, self.source, self.rule = token, source, rule
        self.proof: str | None = None  # the DPoP proof, read once (SenderBinding.admit)


class AuthPolicy:
    r"""Decides each request; built once, at start-up, where configuration is checked.

    - ``sources``: tried in order; the first that holds a token wins.
    - ``rules``: per-route ``Rule``\ s, first match wins: public paths, and the scopes
      and claims a token needs elsewhere (see ``Rule``).
    - ``exempt``: paths that need no token; ``"/health"`` is exact, ``"/public/"``
      (trailing slash) a prefix. Matched against the path the app routes on (ASGI:
      after ``root_path``; WSGI: ``PATH_INFO``); paths with ``.``/``..`` segments, and
      every path under a ``root_path`` that is not its prefix, are never exempt.
    - ``optional``: requests without a token pass anonymously; bad tokens still fail.
    - ``required_scopes``: every one must be in the token's ``scope``/``scp`` (403).
    - ``allow_preflight`` (off by default): CORS preflights (``OPTIONS`` +
      ``Access-Control-Request-Method``) pass without a token. Risky: an app or view
      that answers OPTIONS like GET (Django function views, plain WSGI/ASGI apps) then
      runs unauthenticated. Put the CORS middleware outside this one instead.
    - ``reject_query_token``: an ``access_token`` query parameter is a 400.
    - ``csrf``, ``trusted_origins``, ``csrf_cookie``, ``csrf_header``: see ``csrf``.
    - ``error_response(error, default) -> ErrorResponse``: customise refusals.
    - ``on_decision(event)``: observe every decision (metrics, audit).
    - ``warm_start``: load remote keys at start-up (ASGI lifespan startup; a background
      thread when the WSGI middleware is built) so the first user does not wait.
    - ``resource``: a ``ProtectedResource``: serve its RFC 9728 metadata, name it in
      every challenge, and make it the audience when the verifier has none.
    - ``dpop``: a ``DPoP``: accept DPoP-bound tokens (``Authorization: DPoP``) and check
      their proofs; ``client_certificates``: a ``ClientCertificates``: accept
      certificate-bound tokens (RFC 8705). Without them, bound tokens are refused.
    - ``public_origin`` (``"https://api.example.com"``) or ``trusted_proxies`` (a
      ``TrustedProxies``, or its addresses): where the request's public scheme and host
      come from, for DPoP, the CSRF check and ``require_https`` (see ``OriginPolicy``).
    - ``require_https``: a token sent over plain http is refused (400) unverified;
      ``allow_loopback_http`` lets loopback clients use http (development).
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        sources: Iterable[TokenSource] = (BearerHeader(),),
        rules: Iterable[Rule] = (),
        exempt: Iterable[str] = (),
        optional: bool = False,
        realm: str | None = None,
        required_scopes: Iterable[str] = (),
        allow_preflight: bool = False,
        reject_query_token: bool = True,
        csrf: bool = True,
        trusted_origins: Iterable[str] = (),
        csrf_cookie: str | None = "csrf_token",
        csrf_header: str | None = "X-CSRF-Token",
        error_response: ErrorResponseHook | None = None,
        on_decision: DecisionHook | None = None,
        warm_start: bool = True,
        resource: ProtectedResource | None = None,
        dpop: DPoP | None = None,
        client_certificates: ClientCertificates | None = None,
        public_origin: str | None = None,
        trusted_proxies: TrustedProxies | Iterable[str] | None = None,
        require_https: bool = False,
        allow_loopback_http: bool = False,
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise ConfigurationError("verifier must be a jwt_middleware.Verifier")
        if resource is not None and not isinstance(resource, ProtectedResource):
            raise ConfigurationError("resource must be a jwt_middleware.ProtectedResource")
        if resource is not None and verifier.audiences is None:
            # RFC 8707: the resource identifier is the audience its tokens must name.
            verifier = verifier._with_audience(resource.resource)
        if dpop is not None and not isinstance(dpop, DPoP):
            raise ConfigurationError("dpop must be a jwt_middleware.DPoP")
        if client_certificates is not None and not isinstance(
            client_certificates, ClientCertificates
        ):
            raise ConfigurationError("client_certificates must be a ClientCertificates")
        self._origins = OriginPolicy(public_origin, trusted_proxies)
        check_header_setup(client_certificates, self._origins.trusted_proxies is not None)
        self._binding = SenderBinding(dpop, client_certificates, self._origins)
        self._dpop = dpop
        self._require_https = bool(require_https)
        self._allow_loopback_http = bool(allow_loopback_http)
        self.verifier = verifier
        self._metadata = (
            None
            if resource is None
            else resource.bind(
                verifier,
                dpop=dpop,
                certificates=client_certificates is not None,
                public_origin=self._origins.public_origin,
            )
        )
        self._metadata_url = None if self._metadata is None else self._metadata.url
        self._sources = self._binding.sources(tuple(sources))
        if not self._sources:
            raise ConfigurationError("at least one token source is needed")
        if isinstance(exempt, str):
            exempt = (exempt,)
        # exempt=[...] is sugar for public rules, ahead of the others.
        compiled = Rules([*(Rule(path, public=True) for path in exempt), *rules])
        self._rules = compiled if compiled else None
        self._optional = bool(optional)
        self._realm = check_realm(realm)
        if isinstance(required_scopes, str):
            required_scopes = required_scopes.split()
        self._required_scopes = tuple(required_scopes)
        if not all(SCOPE_TOKEN.fullmatch(s) for s in self._required_scopes):
            raise ConfigurationError("required scopes must be RFC 6750 scope tokens")
        if self._optional and self._required_scopes:
            raise ConfigurationError(
                "optional=True admits anonymous requests; required_scopes "
                "cannot hold for them (check scopes per route instead)"
            )
        self._allow_preflight = bool(allow_preflight)
        self._reject_query_token = bool(reject_query_token)
        self._csrf = (
            CSRFCheck(
                trusted_origins=trusted_origins, cookie_name=csrf_cookie, header_name=csrf_header
            )
            if csrf
            else None
        )
        self._challenges = Challenges(
            self._realm,
            self._metadata_url,
            None if dpop is None else dpop.challenge_algs(),
            dpop is not None and dpop.required,
        )
        self._error_response = error_response
        self._on_decision = on_decision
        # With require_https and nothing but the connection to say, the fast path
        # serves https connections only (the adapters pass the scheme then).
        self._fast_https = self._require_https and self._origins.public_origin is None
        self._fast = self._fast_path()
        self._fast_scheme = self._fast[1] if self._fast is not None else None
        self.warm_start = bool(warm_start) and verifier.can_prefetch

    def metadata(self, method: str, full_path: str) -> MetadataResponse | None:
        """The RFC 9728 document's answer when the request is for it (``full_path``: the
        path with the mount, as the client sent it), else None."""
        metadata = self._metadata
        return None if metadata is None else metadata.answer(method, full_path)

    @property
    def metadata_paths(self) -> frozenset[str] | None:
        """The paths the metadata document is served at (None: no ``resource``)."""
        return None if self._metadata is None else self._metadata.paths

    @property
    def _fast_header(self) -> str | None:
        """The header the adapters' fast path reads (lower case), or None when the
        configuration needs the full path for every request."""
        return self._fast[0] if self._fast is not None else None

    def _fast_token(
        self,
        credentials: str,
        method: str,
        query: str | bytes,
        path: str | None,
        scheme: str = "https",
    ) -> VerifiedToken | None:
        """The common case, a token seen before, decided without building a request
        view: ``credentials`` is the one value of ``_fast_header``. The token is the
        cache's own (read-only, as ``Allowed.token``). None means "take the full
        path" (which also produces every refusal), never "refuse". ``scheme``: the
        connection's, which the adapters pass when ``_fast_https`` says it decides."""
        prefix = self._fast_scheme
        if (
            prefix is None
            or (self._fast_https and scheme != "https")
            or query
            or method == "OPTIONS"
            or not credentials.startswith(prefix)
            or logger.isEnabledFor(logging.DEBUG)  # the full path logs each decision
        ):
            return None
        verified = self.verifier._cached_shared(credentials[len(prefix) :])
        if verified is None or verified.bound:
            return None  # bound tokens need their proof: the full path checks it
        if self._rules is not None:
            rule = self._rules.match(path, method)
            if rule is not None and rule.public:
                return None  # let through without a token: the full path says so
        else:
            rule = None
        return verified if self._refusal(verified, rule) is None else None

    def authenticate(self, request: RequestView) -> Outcome:
        step = self._begin(request)
        if not isinstance(step, _Pending):
            return step
        try:
            verified = self.verifier._verify_shared(step.token)
            proof = self._binding.check(
                request, step.token, verified, step.proof, self.verifier._clock
            )
            if proof is not None:
                self._binding.claim(proof)
            return self._complete(request, verified, step, proof)
        except Exception as exc:  # fail closed: any failure is a refusal
            return self._reject(request, exc, step.source)

    async def aauthenticate(self, request: RequestView) -> Outcome:
        step = self._begin(request)
        if not isinstance(step, _Pending):
            return step
        try:
            verified = await self.verifier._averify_shared(step.token)
            proof = self._binding.check(
                request, step.token, verified, step.proof, self.verifier._clock
            )
            if proof is not None:
                await self._binding.aclaim(proof)
            return self._complete(request, verified, step, proof)
        except Exception as exc:  # fail closed: any failure is a refusal
            return self._reject(request, exc, step.source)

    def _fast_path(self) -> tuple[str, str] | None:
        """(header, "Scheme ") when a cached token can be let through without the full
        path: a single bearer source, no observer, a token cache and no
        denylist to ask. Everything else (and every refusal) takes the full path."""
        # DPoP's scheme shares the bearer header: "DPoP ..." never starts with "Bearer ".
        sources = [s for s in self._sources if type(s) is not DPoPHeader]
        if len(sources) != 1 or not isinstance(sources[0], BearerHeader):
            return None
        if self._on_decision is not None:
            return None
        if self._dpop is not None and self._dpop.required:
            return None  # every bearer token is refused
        if self._require_https:
            # Cached tokens pass on https connections only, when that alone decides:
            # not behind trusted proxies (their headers decide), and public_origin says
            # https for every request (or http: all refused).
            public = self._origins.public_origin
            if public is not None and public[0] != "https":
                return None
            if public is None and self._origins.trusted_proxies is not None:
                return None
        if self.verifier.cache is None or self.verifier.denylist is not None:
            return None
        return sources[0]._fast_prefix

    # -- pure steps -----------------------------------------------------------------

    def _begin(self, request: RequestView) -> Outcome | _Pending:
        try:
            # Tokens never belong in URLs, whatever the route: checked before anything
            # lets the request through.
            query = request.query_string
            if query and self._reject_query_token and query_carries_token(query):
                raise InvalidRequest("a token in the query string")
            rule = (
                None
                if self._rules is None
                else self._rules.match(request.route_path, request.method)
            )
            if rule is not None and rule.public:
                return self._allow(request, "exempt")
            if (
                self._allow_preflight
                and request.method == "OPTIONS"
                and request.header("access-control-request-method") is not None
            ):
                return self._allow(request, "preflight")
            for source in self._sources:
                token = source.extract(request)
                if token is None:
                    continue
                pending = _Pending(token, source, rule)
                try:
                    self._admit(request, pending)
                except Exception as error:  # refused with the scheme it came in
                    return self._reject(request, error, source)
                return pending
            if self._optional and rule is None:  # a matched rule always needs a token
                return self._allow(request, "anonymous")
            raise MissingToken()
        except Exception as error:  # AuthErrors, and any failure of a custom source
            return self._reject(request, error, None)

    def _admit(self, request: RequestView, pending: _Pending) -> None:
        """What a found token must pass before it is verified: the transport, the
        scheme DPoP asks for, and (for cookies) the CSRF check."""
        if self._require_https:
            origin = self._origins.resolve(request)
            if origin.scheme != "https" and not (
                self._allow_loopback_http and origin.client_is_loopback
            ):
                raise InsecureTransport("a token sent over plain http")
        source = pending.source
        pending.proof = self._binding.admit(request, source)
        if (
            source.sent_automatically
            and self._csrf is not None
            and self._csrf.applies_to(request)
            and not self._csrf.passes(request, self._origins.resolve(request).origin)
        ):
            raise CSRFFailed()

    def _complete(
        self,
        request: RequestView,
        verified: VerifiedToken,
        step: _Pending,
        proof: CheckedProof | None = None,
    ) -> Outcome:
        source = step.source
        error = self._refusal(verified, step.rule)
        if error is not None:
            error.kid = _text(verified.header.get("kid"))
            error.issuer = _text(verified.claims.get("iss"))
            return self._reject(request, error, source)
        if self._observed():
            claims = verified.claims
            self._record(
                AuthEvent(
                    "ok",
                    None,
                    request.method,
                    request.path,
                    repr(source),
                    kid=_text(verified.header.get("kid")),
                    issuer=_text(claims.get("iss")),
                    subject=_text(claims.get("sub")),
                )
            )
        if proof is None:
            return Allowed("ok", verified, verified.scopes, source)
        nonce = proof.fresh_nonce
        headers = () if nonce is None else (("DPoP-Nonce", nonce),)
        return Allowed("ok", verified, verified.scopes, source, proof.jkt, headers)

    def _refusal(self, verified: VerifiedToken, rule: Rule | None) -> AuthError | None:
        """The 403 for a verified token that the route's rule (or, without one, the
        scopes required everywhere) does not admit; None when it may pass."""
        if rule is not None:
            return rule.refusal(
                verified.claims,
                verified.scopes,
                self._required_scopes,
                verified.roles,
                self.verifier._clock,  # read only by step-up rules
            )
        required = self._required_scopes
        if required and not all(scope in verified.scopes for scope in required):
            return InsufficientScope(required)
        return None

    def _allow(self, request: RequestView, reason: str) -> Allowed:
        if self._observed():
            self._record(AuthEvent(reason, None, request.method, request.path))
        return Allowed(reason)

    def _reject(self, request: RequestView, exc: Exception, source: TokenSource | None) -> Rejected:
        if isinstance(exc, AuthError):
            error = exc
        else:
            logger.error(
                "token verification failed unexpectedly (%s); refusing",
                type(exc).__name__,
                exc_info=exc,
            )
            error = VerificationFailed()
        used_dpop = type(source) is DPoPHeader
        response = self._customised(error, self._challenges.render(error, used_dpop))
        event = AuthEvent(
            error.reason,
            response.status,
            request.method,
            request.path,
            repr(source) if source else None,
            kid=error.kid,
            issuer=error.issuer,
        )
        logger.info(
            "refused %s %s with %d %s: %s (kid=%s iss=%s)",
            _loggable(event.method),
            _loggable(event.path),
            event.status,
            event.reason,
            error,
            _loggable(event.kid),
            _loggable(event.issuer),
        )
        self._record(event)
        return Rejected(error, response)

    def _customised(self, error: AuthError, default: ErrorResponse) -> ErrorResponse:
        if self._error_response is None:
            return default
        try:
            custom = self._error_response(error, default)
        except Exception:
            logger.exception("the error_response hook failed; sending the default")
            return default
        if not is_sendable(custom):
            logger.error("the error_response hook returned an unsendable response")
            return default
        # The body may have changed; a stale Content-Length would break the connection.
        headers = [h for h in custom.headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(custom.body))))
        return ErrorResponse(custom.status, tuple(headers), custom.body)

    def _observed(self) -> bool:
        return self._on_decision is not None or logger.isEnabledFor(logging.DEBUG)

    def _record(self, event: AuthEvent) -> None:
        if event.status is None and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "allowed %s %s: %s (kid=%s iss=%s)",
                _loggable(event.method),
                _loggable(event.path),
                event.reason,
                _loggable(event.kid),
                _loggable(event.issuer),
            )
        if self._on_decision is not None:
            try:
                self._on_decision(event)
            except Exception:
                logger.exception("the on_decision hook failed")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _loggable(value: str | None, limit: int = 80) -> str:
    """Quote text that came from the client, so it cannot forge log lines."""
    if value is None:
        return "-"
    return repr(value[:limit] + ("..." if len(value) > limit else ""))
