"""The cookie flavour: the access, refresh and CSRF cookies, set and cleared exactly as
the ``Cookie`` source and the CSRF check read them. Framework-neutral: each cookie is a
``SetCookie`` that any framework's ``set_cookie`` (or a raw ``Set-Cookie`` header) takes.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._sources import Cookie
from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._issuing import TokenPair


@dataclass(frozen=True, slots=True)
class SetCookie:
    """One cookie to set: the arguments of a framework's ``set_cookie``."""

    name: str
    value: str
    max_age: int
    httponly: bool
    secure: bool
    samesite: str
    path: str

    def apply_to(self, response: Any) -> None:
        """Set it on a response with a werkzeug- or Starlette-style ``set_cookie``
        (Flask, Quart, Starlette, FastAPI...)."""
        response.set_cookie(
            self.name,
            self.value,
            max_age=self.max_age,
            path=self.path,
            secure=self.secure,
            httponly=self.httponly,
            samesite=self.samesite.lower(),
        )

    def header(self) -> str:
        """The ``Set-Cookie`` header value, for frameworks without a helper."""
        from werkzeug.http import dump_cookie

        return dump_cookie(
            self.name,
            self.value,
            max_age=self.max_age,
            path=self.path,
            secure=self.secure,
            httponly=self.httponly,
            samesite=self.samesite,
        )


class TokenCookies:
    """Names and settings of the three cookies, shared by whoever sets them and by the
    middleware that reads them (``source`` and ``middleware_options``).

    The access and refresh tokens go in ``HttpOnly`` cookies (scripts cannot read
    them); the CSRF token in a cookie the page's script reads and echoes in the
    ``csrf_header`` header (double submit). ``SameSite`` is ``Lax`` by default;
    ``secure`` is decided per response from the scheme clients use (never from the
    ``Host`` header, which the client writes).
    """

    def __init__(
        self,
        *,
        access: str = "access_token",
        refresh: str = "refresh_token",
        csrf: str = "csrf_token",
        csrf_header: str = "X-CSRF-Token",
        samesite: str = "Lax",
        refresh_path: str = "/",
    ) -> None:
        if samesite not in ("Lax", "Strict", "None"):
            raise ConfigurationError("samesite is 'Lax', 'Strict' or 'None'")
        if len({access, refresh, csrf}) != 3:
            raise ConfigurationError("the three cookies need three different names")
        self.access, self.refresh, self.csrf = access, refresh, csrf
        self.csrf_header = csrf_header
        self.samesite = samesite
        self.refresh_path = refresh_path
        self.source = Cookie(access)  # validates the name too

    @property
    def middleware_options(self) -> dict[str, Any]:
        """The middleware's CSRF options that match these cookies."""
        return {"csrf_cookie": self.csrf, "csrf_header": self.csrf_header}

    def set(self, pair: TokenPair, *, secure: bool) -> list[SetCookie]:
        """The cookies that hand a browser ``pair``, with a fresh CSRF token."""
        if self.samesite == "None" and not secure:
            raise ConfigurationError("SameSite=None cookies must be Secure")
        lifetime = pair.refresh_expires_in
        return [
            self._cookie(self.access, pair.access_token, pair.expires_in, True, secure, "/"),
            self._cookie(
                self.refresh, pair.refresh_token, lifetime, True, secure, self.refresh_path
            ),
            self._cookie(self.csrf, secrets.token_urlsafe(24), lifetime, False, secure, "/"),
        ]

    def clear(self, *, secure: bool) -> list[SetCookie]:
        """The cookies that make a browser forget all three (logout)."""
        return [
            self._cookie(self.access, "", 0, True, secure, "/"),
            self._cookie(self.refresh, "", 0, True, secure, self.refresh_path),
            self._cookie(self.csrf, "", 0, False, secure, "/"),
        ]

    def refresh_token(self, cookies: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
        """The refresh token from its cookie, only with the double-submit header equal
        to the CSRF cookie (compared in constant time): a refresh endpoint is usually
        public, so nothing else stops a cross-site form from spending the token."""
        token = cookies.get(self.refresh)
        expected = cookies.get(self.csrf, "")
        sent = headers.get(self.csrf_header, "")
        if token and expected and hmac.compare_digest(sent.encode(), expected.encode()):
            return token
        return None

    def _cookie(
        self, name: str, value: str, max_age: int, httponly: bool, secure: bool, path: str
    ) -> SetCookie:
        return SetCookie(name, value, max_age, httponly, secure, self.samesite, path)
