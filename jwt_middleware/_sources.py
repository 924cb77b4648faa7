"""Where a token may come from: the Authorization header, another header, a cookie.

Never the query string (RFC 6750 section 2.3 and its security considerations: URLs
end up in logs, history and Referer headers). Each source answers ``None`` when it
holds no token, or raises ``InvalidRequest`` when what it holds is malformed,
so "absent" and "broken" stay apart, as in werkzeug's ``Authorization.from_header``.
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import unquote_plus

from ._request import RequestView
from .errors import ConfigurationError, InvalidRequest

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
# RFC 9110 section 5.1: a header name is a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class TokenSource(Protocol):
    """Finds a token in a request."""

    #: Cookie-borne tokens are sent by browsers on their own: they need the CSRF check.
    sent_automatically: bool

    def extract(self, request: RequestView) -> str | None: ...


class BearerHeader:
    """``Authorization: Bearer <token>`` (RFC 6750 section 2.1); the default source."""

    sent_automatically = False

    def __init__(self, name: str = "Authorization", scheme: str = "Bearer") -> None:
        self._name = _header_name(name)
        if not _HEADER_NAME.fullmatch(scheme):
            raise ConfigurationError("the scheme must be an HTTP token such as 'Bearer'")
        self._scheme = scheme.lower()
        self._joined_marker = f",{self._scheme} "
        self._prefix = scheme + " "
        self._scheme_name = scheme

    @property
    def name(self) -> str:
        return self._name

    @property
    def _fast_prefix(self) -> tuple[str, str]:
        """(header name, "Scheme ") for the adapters' fast path."""
        return self._name, self._prefix

    def extract(self, request: RequestView) -> str | None:
        values = request.header_values(self._name)
        if not values:
            return None
        if len(values) > 1:
            raise InvalidRequest("more than one Authorization header")
        value = values[0]
        if value.startswith(self._prefix):  # the usual "Bearer <token>", at once
            token = value[len(self._prefix) :]
            if is_b64token(token):
                return token
        value = value.strip(" \t")
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() != self._scheme:
            if value[: len(self._scheme)].lower() == self._scheme:
                # "Bearer<TAB>t", "Bearer:t", "Bearer=t": ours, misspelt. Broken, not
                # absent, or the next source (a planted cookie?) would be tried.
                raise InvalidRequest(f"the {self._scheme_name} scheme not followed by a space")
            # Another scheme (Basic, Digest, ...) is not ours: absent, not broken. A WSGI
            # server joins repeated headers with commas; a bearer credential hidden
            # behind another one is two Authorization headers.
            if self._joined_marker in value.lower().replace(", ", ","):
                raise InvalidRequest("more than one Authorization header")
            return None
        token = credentials.strip(" ")
        if not token:
            raise InvalidRequest(f"the {self._scheme_name} scheme without a token")
        if not is_b64token(token):
            raise InvalidRequest(f"the {self._scheme_name} credentials are not one b64token")
        return token

    def __repr__(self) -> str:
        return f"BearerHeader({self._name!r})"


class DPoPHeader(BearerHeader):
    """``Authorization: DPoP <token>`` (RFC 9449 section 7.1), read with the bearer
    header's rules. Added by the middleware ahead of its ``BearerHeader`` when ``dpop=``
    is set, on the same header; the proof travels in the ``DPoP`` header and is checked
    by the policy."""

    def __init__(self, name: str = "Authorization") -> None:
        super().__init__(name, "DPoP")

    def __repr__(self) -> str:
        return f"DPoPHeader({self._name!r})"


class Header:
    """A header that carries the bare token, e.g. ``X-Access-Token: <token>``."""

    sent_automatically = False

    def __init__(self, name: str) -> None:
        self._name = _header_name(name)
        if self._name in ("authorization", "cookie"):
            raise ConfigurationError(f"use BearerHeader() or Cookie() for {name}")

    def extract(self, request: RequestView) -> str | None:
        values = request.header_values(self._name)
        if not values:
            return None
        if len(values) > 1 or "," in values[0]:
            raise InvalidRequest(f"more than one {self._name} header")
        token = values[0].strip(" \t")
        if not is_b64token(token):
            raise InvalidRequest(f"the {self._name} header is not one token")
        return token

    def __repr__(self) -> str:
        return f"Header({self._name!r})"


class Cookie:
    """A cookie that carries the bare token. Browsers send it on their own, so
    requests that change state must pass the CSRF check (see ``csrf``)."""

    sent_automatically = True

    def __init__(self, name: str) -> None:
        if not _COOKIE_NAME.fullmatch(name):
            raise ConfigurationError("a cookie name is an HTTP token")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def extract(self, request: RequestView) -> str | None:
        # Read as every framework would read it, or refused (RequestView.single_cookie).
        value = request.single_cookie(self._name)
        return value or None  # an emptied cookie (logout) is no token

    def __repr__(self) -> str:
        return f"Cookie({self._name!r})"


def is_b64token(text: str) -> bool:
    """RFC 6750's b64token: one or more of its characters, then only ``=``. Checked by
    deleting the alphabet from the bytes (half the time of a regex, on every request)."""
    body = text.rstrip("=")
    return bool(body) and body.isascii() and not body.encode().translate(None, _B64TOKEN_CHARS)


def query_carries_token(query_string: str, parameter: str = "access_token") -> bool:
    """True when the URL query has ``parameter`` (RFC 6750 section 2.3's URI form)."""
    if not query_string:
        return False
    for field in query_string.split("&"):
        name = field.partition("=")[0]
        if name == parameter:
            return True
        if ("%" in name or "+" in name) and unquote_plus(name) == parameter:
            return True
    return False


def _header_name(name: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise ConfigurationError(f"{name!r} is not a valid header name")
    return name.lower()
