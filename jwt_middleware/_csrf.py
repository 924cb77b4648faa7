"""CSRF protection for cookie-borne tokens.

A browser attaches cookies to cross-site requests by itself, so a cookie token on a
request that changes state (any method but GET, HEAD, OPTIONS, TRACE), and on every
websocket handshake, must also prove that the request came from our own pages. Any
one of these is proof:

1. ``Sec-Fetch-Site: same-origin`` or ``none`` (set by the browser, not by scripts);
2. an ``Origin`` equal to the request's own origin (its scheme and ``Host``, or what
   ``public_origin``/``trusted_proxies`` say) or to a configured trusted origin;
   ``same-site`` is *not* same-origin here;
3. a double-submit header equal to the CSRF cookie (compared in constant time).

Header-borne tokens need none of this: a cross-site page cannot set them.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable

from ._origin import normalize_host
from ._request import RequestView
from .errors import ConfigurationError, InvalidRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})
_ORIGIN = re.compile(r"(https?)://([^/?#\s@]+)", re.IGNORECASE)


class CSRFCheck:
    def __init__(
        self,
        *,
        trusted_origins: Iterable[str] = (),
        cookie_name: str | None = "csrf_token",
        header_name: str | None = "X-CSRF-Token",
    ) -> None:
        if isinstance(trusted_origins, str):
            trusted_origins = (trusted_origins,)
        self._trusted = frozenset(_configured_origin(origin) for origin in trusted_origins)
        if (cookie_name is None) != (header_name is None):
            raise ConfigurationError("double submit needs both a CSRF cookie and a header name")
        self._cookie_name = cookie_name
        self._header_name = header_name.lower() if header_name else None

    def applies_to(self, request: RequestView) -> bool:
        return request.is_websocket or request.method not in SAFE_METHODS

    def passes(self, request: RequestView, own_origin: str) -> bool:
        """``own_origin``: the request's public origin, as ``OriginPolicy`` resolves
        it (normalised already)."""
        fetch_site = request.header("sec-fetch-site")
        if fetch_site is not None and fetch_site.strip().lower() in _TRUSTED_FETCH_SITES:
            return True
        origin = request.header("origin")
        if origin is not None and origin != "null":
            normalized = normalize_origin(origin)
            if normalized in self._trusted or normalized == own_origin:
                return True
        return self._double_submitted(request)

    def _double_submitted(self, request: RequestView) -> bool:
        if self._header_name is None or self._cookie_name is None:
            return False
        sent = request.header(self._header_name)
        try:
            cookie = request.single_cookie(self._cookie_name)
        except InvalidRequest:  # two CSRF cookies, or a quoted one: no proof
            return False
        if not sent or not cookie:
            return False
        return hmac.compare_digest(_bytes(sent.strip()), _bytes(cookie))


def normalize_origin(origin: str) -> str:
    """Lower-case scheme and host, default port dropped: ``https://a.example:443``
    and ``HTTPS://A.example`` are one origin."""
    scheme, _, rest = origin.strip().lower().partition("://")
    return f"{scheme}://{normalize_host(scheme, rest)}"


def _configured_origin(origin: str) -> str:
    if not isinstance(origin, str) or _ORIGIN.fullmatch(origin.strip()) is None:
        raise ConfigurationError(
            f"trusted origin {origin!r} must look like 'https://app.example' (no path)"
        )
    return normalize_origin(origin)


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")
