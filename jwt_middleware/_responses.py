"""Rendering a rejection as RFC 6750 prescribes, the same bytes for WSGI and ASGI.

Status, ``WWW-Authenticate`` challenge, ``Cache-Control: no-store`` and a JSON body
``{"error": ..., "error_description": ...}``. Every string in it is ours: nothing
the client sent is echoed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .errors import (
    _SCOPE_TOKEN,
    AuthError,
    ConfigurationError,
    InsufficientScope,
    InsufficientUserAuthentication,
    TemporarilyUnavailable,
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
    error: AuthError, realm: str | None, resource_metadata: str | None = None
) -> str | None:
    """The ``WWW-Authenticate`` value for ``error``, or None when it takes none."""
    if error.status not in (400, 401) and not isinstance(error, InsufficientScope):
        return None  # 403 CSRF and 503: not an authentication challenge
    # RFC 6750 section 3: a Bearer challenge carries at least one auth-param.
    params = [f'realm="{realm if realm is not None else DEFAULT_REALM}"']
    if error.error is not None:
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
    return "Bearer " + ", ".join(params)


def render(
    error: AuthError, realm: str | None, resource_metadata: str | None = None
) -> ErrorResponse:
    body = json.dumps(
        {"error": error.body_error, "error_description": error.description},
        separators=(",", ":"),
    ).encode("ascii")
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    value = challenge(error, realm, resource_metadata)
    if value is not None:
        headers.append(("WWW-Authenticate", value))
    if isinstance(error, TemporarilyUnavailable):
        headers.append(("Retry-After", str(max(1, int(error.retry_after)))))
    return ErrorResponse(error.status, tuple(headers), body)


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
