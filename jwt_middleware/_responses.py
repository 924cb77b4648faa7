"""Rendering a rejection as RFC 6750 prescribes, the same bytes for WSGI and ASGI.

Status, ``WWW-Authenticate`` challenge, ``Cache-Control: no-store`` and a JSON body
``{"error": ..., "error_description": ...}``. Every string in it is ours: nothing
the client sent is echoed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import (
    _SCOPE_TOKEN,
    AuthError,
    BindingMismatch,
    ConfigurationError,
    InsufficientScope,
    InsufficientUserAuthentication,
    InvalidDPoPProof,
    TemporarilyUnavailable,
    UseDPoPNonce,
)

SCOPE_TOKEN = _SCOPE_TOKEN  # RFC 6750 section 3's scope-token
# A realm goes into a quoted-string; keep it to printable ASCII without quote or backslash.
DEFAULT_REALM = "api"
"""The realm of a challenge when none is configured (RFC 6750 requires an auth-param)."""
_REALM = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """What the client receives instead of the app's answer."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def check_realm(realm: str | None) -> str | None:
    if realm is not None and (not isinstance(realm, str) or not _REALM.fullmatch(realm)):
        raise ConfigurationError("realm must be printable ASCII without quotes or backslashes")
    return realm


def challenge(
    error: AuthError,
    realm: str | None,
    resource_metadata: str | None = None,
    *,
    scheme: str = "Bearer",
    algs: str | None = None,
    with_error: bool = True,
) -> str | None:
    """The ``WWW-Authenticate`` challenge of ``scheme`` for ``error``, or None when it
    takes none. ``algs``: the DPoP challenge's proof algorithms (RFC 9449 section 7.1);
    ``with_error=False`` leaves the error out (a challenge for the scheme not used)."""
    if error.status not in (400, 401) and not isinstance(error, InsufficientScope):
        return None  # 403 CSRF and 503: not an authentication challenge
    params = []
    # RFC 6750 section 3: a Bearer challenge carries at least one auth-param (a DPoP
    # challenge has algs).
    if realm is not None or scheme == "Bearer":
        params.append(f'realm="{realm if realm is not None else DEFAULT_REALM}"')
    if algs is not None:
        params.append(f'algs="{algs}"')
    if with_error and error.error is not None:
        params.append(f'error="{error.error}"')
        params.append(f'error_description="{error.description}"')
        if isinstance(error, InsufficientScope) and error.required:
            params.append(f'scope="{" ".join(error.required)}"')
        if isinstance(error, InsufficientUserAuthentication):  # RFC 9470 section 3
            if error.acr_values:
                params.append(f'acr_values="{" ".join(error.acr_values)}"')
            if error.max_age is not None:
                params.append(f'max_age="{error.max_age}"')
    if resource_metadata is not None:  # RFC 9728 section 5.1
        params.append(f'resource_metadata="{resource_metadata}"')
    return f"{scheme} " + ", ".join(params)


@dataclass(frozen=True, slots=True)
class Challenges:
    """How refusals are answered: the realm, the RFC 9728 metadata URL, and with DPoP
    its proof algorithms and whether bearer tokens are accepted at all."""

    realm: str | None = None
    resource_metadata: str | None = None
    dpop_algs: str | None = None
    dpop_only: bool = False

    def render(self, error: AuthError, used_dpop: bool = False) -> ErrorResponse:
        """The refusal. With DPoP, a ``DPoP`` challenge is added (alone with
        ``dpop_only``); the error goes on the challenge of the scheme the request used,
        and DPoP's own errors always on the DPoP one."""
        headers: list[tuple[str, str]] = []
        dpop_error = used_dpop or _about_dpop(error)
        if not self.dpop_only:
            value = challenge(
                error,
                self.realm,
                self.resource_metadata,
                with_error=not used_dpop or self.dpop_algs is None,
            )
            if value is not None:
                headers.append(("WWW-Authenticate", value))
        if self.dpop_algs is not None:
            value = challenge(
                error,
                self.realm,
                self.resource_metadata,
                scheme="DPoP",
                algs=self.dpop_algs,
                with_error=dpop_error or self.dpop_only,
            )
            if value is not None:
                headers.append(("WWW-Authenticate", value))
        if isinstance(error, UseDPoPNonce):
            headers.append(("DPoP-Nonce", error.nonce))
        return _response(error, headers)


def _about_dpop(error: AuthError) -> bool:
    return isinstance(error, InvalidDPoPProof) or (
        isinstance(error, BindingMismatch) and error.reason.startswith("dpop_")
    )


def render(
    error: AuthError, realm: str | None, resource_metadata: str | None = None
) -> ErrorResponse:
    """The refusal with a Bearer challenge (see ``Challenges`` for DPoP)."""
    value = challenge(error, realm, resource_metadata)
    return _response(error, [] if value is None else [("WWW-Authenticate", value)])


def _response(error: AuthError, challenges: list[tuple[str, str]]) -> ErrorResponse:
    body = json.dumps(
        {"error": error.body_error, "error_description": error.description},
        separators=(",", ":"),
    ).encode("ascii")
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *challenges,
    ]
    if isinstance(error, TemporarilyUnavailable):
        headers.append(("Retry-After", str(max(1, int(error.retry_after)))))
    return ErrorResponse(error.status, tuple(headers), body)


def joined_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers for frameworks that hold one value per name (Django, Starlette's
    exceptions): several challenges (Bearer and DPoP) joined into one
    ``WWW-Authenticate``, as RFC 9110 section 11.6.1 allows."""
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def is_sendable(response: object) -> bool:
    """An ``ErrorResponse`` both adapters can write: a 4xx/5xx status, latin-1 headers."""
    if not isinstance(response, ErrorResponse) or not isinstance(response.body, bytes):
        return False
    if isinstance(response.status, bool) or not isinstance(response.status, int):
        return False
    if not 400 <= response.status <= 599:
        return False
    try:
        for name, value in response.headers:
            name.encode("latin-1")
            value.encode("latin-1")
    except (AttributeError, TypeError, ValueError):
        return False
    return not any("\r" in n + v or "\n" in n + v for n, v in response.headers)
