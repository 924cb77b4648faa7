"""Django and Django REST framework.

In ``settings.py``::

    MIDDLEWARE = [
        ...,
        "django.contrib.auth.middleware.AuthenticationMiddleware",  # if you use it
        "jwt_middleware.django.JWTAuthenticationMiddleware",
        ...,
    ]
    JWT_MIDDLEWARE = {
        "VERIFIER": "myproject.auth.verifier",  # a Verifier, or a function making one
        "RULES": [Rule("/admin/", public=True)],  # any JWTMiddleware option, in capitals
    }

The middleware verifies the token and sets ``request.user`` to a ``JWTUser`` built from
the claims: no database row, no session, no ``login()``; ``request.jwt_claims``,
``request.jwt_scopes``, ``request.jwt_roles`` and (DPoP) ``request.jwt_dpop_jkt`` hold
what was verified. Requests whose token came in a header are exempt from Django's
session CSRF check (a browser cannot forge them); cookie-borne
tokens keep this library's own CSRF rules. It runs under WSGI and ASGI Django alike.

For DRF, ``JWTAuthentication`` (in ``DEFAULT_AUTHENTICATION_CLASSES``) and the
``HasScopes`` permission (scopes from the view's ``required_scopes``).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from ._policy import AuthPolicy, MiddlewareOptions, Rejected
from ._request import RequestView, encoded_path
from ._resource import MetadataResponse
from ._responses import DEFAULT_REALM, ErrorResponse, challenge, joined_headers
from ._sources import BearerHeader
from ._verifier import Verifier
from .asgi import raw_path
from .errors import AuthError, ConfigurationError, InsufficientScope
from .wsgi import wsgi_target_path

__all__ = [
    "HasScopes",
    "JWTAnonymousUser",
    "JWTAuthentication",
    "JWTAuthenticationMiddleware",
    "JWTUser",
]

logger = logging.getLogger("jwt_middleware")
SETTING = "JWT_MIDDLEWARE"


class _Stateless:
    """What Django asks of any user, answered without a database: no staff, no
    superuser, no permissions from Django's tables (a token's rights are its scopes)."""

    is_staff = False
    is_superuser = False
    username = ""

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perm_list: Iterable[str], obj: object = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False

    def get_all_permissions(self, obj: object = None) -> set[str]:
        return set()

    def save(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("this user is not stored; it lives as long as its request")

    def delete(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("this user is not stored; it lives as long as its request")


class JWTUser(_Stateless):
    """The caller, as the token says: stateless, nothing stored. ``username`` (and
    ``pk``) is the token's ``sub``; ``claims``, ``scopes`` and ``roles`` are what was
    verified.
    Permissions come from the token, not from Django's tables: ``has_perm`` is False."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(
        self, claims: Mapping[str, Any], scopes: Iterable[str] = (), roles: Iterable[str] = ()
    ) -> None:
        self.claims = claims
        self.scopes = tuple(scopes)
        self.roles = tuple(roles)
        sub = claims.get("sub")
        self.username = sub if isinstance(sub, str) else ""

    @property
    def pk(self) -> str:
        return self.username

    id = pk

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JWTUser) and other.username == self.username

    def __hash__(self) -> int:
        return hash(self.username)

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"JWTUser({self.username!r})"


class JWTAnonymousUser(_Stateless):
    """``request.user`` for a request without a token, when no other middleware set
    one (an API project without ``django.contrib.auth``)."""

    is_authenticated = False
    is_anonymous = True
    is_active = False
    pk = None
    id = None
    claims = None
    scopes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "AnonymousUser"


class DjangoRequestView(RequestView):
    """The request as every check reads it, from ``request.META`` (WSGI and ASGI
    Django both fill it): the routed path is ``path_info``."""

    __slots__ = ("_meta", "_request")

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(
            method=(request.method or "GET").upper(),
            path=request.path,
            route_path=request.path_info,
            scheme=request.scheme or "http",
            query_string=request.META.get("QUERY_STRING", ""),
            is_websocket=False,
            client=request.META.get("REMOTE_ADDR") or None,
        )
        self._meta = request.META
        self._request = request

    def header_values(self, name: str) -> list[str]:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value = self._meta.get(key)
        return [value] if isinstance(value, str) else []

    def target_path(self) -> str:
        scope = getattr(self._request, "scope", None)  # Django's ASGIRequest
        if isinstance(scope, dict):
            return encoded_path(raw_path(scope), self._request.path)
        return wsgi_target_path(self._meta)

    def server_certificate(self) -> str | None:
        value = self._meta.get("SSL_CLIENT_CERT")
        return value if isinstance(value, str) and value else None

    @property
    def host(self) -> str:
        host = self._meta.get("HTTP_HOST")
        if host:
            return str(host)
        return f"{self._meta.get('SERVER_NAME', '')}:{self._meta.get('SERVER_PORT', '')}"


def _configured() -> tuple[Verifier, MiddlewareOptions]:
    """The verifier and options from ``settings.JWT_MIDDLEWARE``, checked."""
    config = getattr(settings, SETTING, None)
    if not isinstance(config, Mapping) or "VERIFIER" not in config:
        raise ImproperlyConfigured(
            f"settings.{SETTING} must be a dict with a VERIFIER (a Verifier, or the dotted "
            "path of one or of a function returning one)"
        )
    verifier = _verifier(config["VERIFIER"])
    known = set(MiddlewareOptions.__annotations__)
    options: dict[str, Any] = {}
    for key, value in config.items():
        if key == "VERIFIER":
            continue
        name = key.lower()
        if not isinstance(key, str) or key != key.upper() or name not in known:
            raise ImproperlyConfigured(
                f"settings.{SETTING} has an unknown key {key!r}; "
                f"known: VERIFIER, {', '.join(sorted(k.upper() for k in known))}"
            )
        options[name] = value
    return verifier, options  # type: ignore[return-value]


def _verifier(value: object) -> Verifier:
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(f"settings.{SETTING}['VERIFIER']: {exc}") from exc
    if callable(value) and not isinstance(value, Verifier):
        value = value()
    if not isinstance(value, Verifier):
        raise ImproperlyConfigured(f"settings.{SETTING}['VERIFIER'] is not a Verifier")
    return value


_cached_verifier: tuple[object, Verifier] | None = None


def configured_verifier() -> Verifier:
    """The ``Verifier`` named by ``settings.JWT_MIDDLEWARE["VERIFIER"]``, built once."""
    global _cached_verifier
    value = getattr(settings, SETTING, {}).get("VERIFIER")
    if _cached_verifier is None or _cached_verifier[0] is not value:
        _cached_verifier = (value, _verifier(value))
    return _cached_verifier[1]


class JWTAuthenticationMiddleware:
    """Django middleware: verify, then hand the view a ``JWTUser`` (see the module)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        verifier, options = _configured()
        try:
            self.policy = AuthPolicy(verifier, **options)
        except ConfigurationError as exc:
            raise ImproperlyConfigured(f"settings.{SETTING}: {exc}") from exc
        if self.policy.warm_start:
            # Fetch remote keys now, off the start-up path (as the WSGI adapter does).
            threading.Thread(
                target=verifier.prefetch, name="jwt-middleware-warm-start", daemon=True
            ).start()
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        metadata = self._metadata(request)
        if metadata is not None:
            return metadata
        if self._async:
            return self._acall(request)
        outcome = self.policy.authenticate(DjangoRequestView(request))
        if isinstance(outcome, Rejected):
            return _response(outcome.response)
        _attach(request, outcome.token, outcome.scopes, outcome.source, outcome.dpop_jkt)
        return _with_headers(self.get_response(request), outcome.headers)

    def _metadata(self, request: HttpRequest) -> Any:
        """The RFC 9728 document when ``RESOURCE`` is set and this is its URL (the path
        with the script prefix, as the client sent it)."""
        paths = self.policy.metadata_paths
        if paths is None or request.path not in paths:
            return None
        answer = self.policy.metadata(request.method or "GET", request.path)
        if answer is None:
            return None
        response = _response(answer)
        if self._async:
            return _ready(response)
        return response

    async def _acall(self, request: HttpRequest) -> Any:
        outcome = await self.policy.aauthenticate(DjangoRequestView(request))
        if isinstance(outcome, Rejected):
            return _response(outcome.response)
        _attach(request, outcome.token, outcome.scopes, outcome.source, outcome.dpop_jkt)
        return _with_headers(await self.get_response(request), outcome.headers)


async def _ready(response: HttpResponse) -> HttpResponse:
    return response


def _attach(
    request: HttpRequest,
    token: Any,
    scopes: tuple[str, ...],
    source: Any,
    dpop_jkt: str | None = None,
) -> None:
    request.jwt_dpop_jkt = dpop_jkt  # the DPoP proof key's thumbprint, or None
    if token is None:  # a public path or an anonymous caller: leave request.user be
        request.jwt_claims = None
        request.jwt_scopes = ()
        request.jwt_roles = ()
        if not hasattr(request, "user"):
            request.user = JWTAnonymousUser()
        return
    claims = dict(token.claims)
    request.jwt_claims = claims
    request.jwt_header = dict(token.header)
    request.jwt_scopes = scopes
    request.jwt_roles = token.roles
    request.user = JWTUser(claims, scopes, token.roles)
    if source is not None and not source.sent_automatically:
        # A header a browser never adds by itself: no cross-site request can carry it,
        # so Django's session CSRF check has nothing to protect. (Cookie tokens went
        # through this library's own CSRF check already.)
        request._dont_enforce_csrf_checks = True


def _response(rendered: ErrorResponse | MetadataResponse) -> HttpResponse:
    response = HttpResponse(rendered.body, status=rendered.status)
    for name, value in joined_headers(rendered.headers).items():
        if name != "Content-Length":
            response[name] = value
    return response


def _with_headers(response: Any, headers: tuple[tuple[str, str], ...]) -> Any:
    """The view's response with the policy's headers added (DPoP-Nonce rotation)."""
    for name, value in headers:
        response[name] = value
    return response


# -- Django REST framework ---------------------------------------------------------------

try:
    from rest_framework import exceptions as _drf_exceptions
    from rest_framework.authentication import BaseAuthentication as _BaseAuthentication
    from rest_framework.permissions import BasePermission as _BasePermission
except ImportError:  # pragma: no cover - DRF is optional
    _drf_exceptions = None
    _BaseAuthentication = object
    _BasePermission = object


class JWTAuthentication(_BaseAuthentication):  # type: ignore[misc]
    """DRF authentication: the middleware's verified caller when it ran, else the
    bearer token verified here with ``settings.JWT_MIDDLEWARE["VERIFIER"]``. ``None``
    without a token (other authenticators may try); a bad token is a 401 with the
    RFC 6750 challenge (``authenticate_header``)."""

    realm = DEFAULT_REALM
    verifier: Verifier | None = None
    """Set on a subclass to verify with another ``Verifier`` than the settings' one."""

    def authenticate(self, request: Any) -> tuple[JWTUser, dict[str, Any]] | None:
        django_request = request._request
        if hasattr(django_request, "jwt_claims"):  # the middleware ran
            claims = django_request.jwt_claims
            if claims is None:
                return None
            user = JWTUser(claims, django_request.jwt_scopes, django_request.jwt_roles)
            return user, claims
        verifier = self.verifier if self.verifier is not None else configured_verifier()
        policy = _drf_policy(verifier)
        meta = django_request.META
        header = meta.get("HTTP_AUTHORIZATION")
        token = None
        if header:  # a token seen before: the middleware's fast path
            method = (django_request.method or "GET").upper()
            token = policy._fast_token(header, method, meta.get("QUERY_STRING", ""), None)
        if token is None:
            outcome = policy.authenticate(DjangoRequestView(django_request))
            if isinstance(outcome, Rejected):
                django_request._jwt_error = outcome.error
                raise _api_exception(outcome.error, self.realm)
            token = outcome.token
            if token is None:
                return None  # no token: other authentication classes may try
        _attach(django_request, token, token.scopes, None)
        claims = django_request.jwt_claims
        return JWTUser(claims, token.scopes, token.roles), claims

    def authenticate_header(self, request: Any) -> str:
        error = getattr(request._request, "_jwt_error", None)
        value = challenge(error, self.realm) if isinstance(error, AuthError) else None
        return value or f'Bearer realm="{self.realm}"'


class HasScopes(_BasePermission):  # type: ignore[misc]
    """DRF permission: the token holds every scope in the view's ``required_scopes``
    (403 ``insufficient_scope`` with the RFC 6750 challenge naming them; a caller
    without a token gets DRF's 401)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        required = getattr(view, "required_scopes", None)
        if required is None or isinstance(required, str) or not required:
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses HasScopes without required_scopes = [...]"
            )
        user = request.user
        if not isinstance(user, JWTUser):
            return False  # DRF answers 401 when nobody authenticated, else 403
        if any(scope not in user.scopes for scope in required):
            raise _api_exception(InsufficientScope(tuple(required)), JWTAuthentication.realm)
        return True


_DRF_POLICIES: weakref.WeakKeyDictionary[Verifier, AuthPolicy] = weakref.WeakKeyDictionary()


def _drf_policy(verifier: Verifier) -> AuthPolicy:
    """How ``JWTAuthentication`` decides on its own: as the middleware does, with the
    bearer header alone, and without a token meaning "not us" (anonymous)."""
    policy = _DRF_POLICIES.get(verifier)
    if policy is None:
        policy = AuthPolicy(verifier, sources=(BearerHeader(),), optional=True, warm_start=False)
        _DRF_POLICIES[verifier] = policy
    return policy


def _api_exception(error: AuthError, realm: str) -> Exception:
    """The DRF exception for ``error``: its status, and the challenge DRF's exception
    handler puts in ``WWW-Authenticate`` (its body stays DRF's ``{"detail": ...}``)."""
    assert _drf_exceptions is not None  # noqa: S101 (only DRF classes call this)
    base = (
        _drf_exceptions.AuthenticationFailed
        if error.status == 401
        else _drf_exceptions.PermissionDenied
        if error.status == 403
        else _drf_exceptions.APIException
    )
    exception = base(error.description, error.error or error.reason)
    exception.status_code = error.status
    exception.auth_header = challenge(error, realm)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        exception.wait = retry_after
    raised: Exception = exception
    return raised
