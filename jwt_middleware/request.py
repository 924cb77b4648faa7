"""A read-only view of an incoming request, the same for WSGI and ASGI.

The adapters subclass :class:`RequestView` with the two things that differ between
the protocols (how headers are looked up and where the host comes from); token
sources, the CSRF check and the policy only ever see this view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from werkzeug.datastructures import MultiDict
from werkzeug.sansio.http import parse_cookie


class RequestView(ABC):
    __slots__ = ("_cookies", "is_websocket", "method", "path", "query_string", "scheme")

    def __init__(
        self, method: str, path: str, scheme: str, query_string: str, is_websocket: bool = False
    ) -> None:
        self.method = method
        self.path = path
        self.scheme = scheme
        self.query_string = query_string
        self.is_websocket = is_websocket
        self._cookies: MultiDict[str, str] | None = None

    @abstractmethod
    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (lower case), in the order received."""

    @property
    @abstractmethod
    def host(self) -> str:
        """The ``Host`` the client asked for (``host[:port]``), for the request's origin."""

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def cookie_values(self, name: str) -> list[str]:
        """Every cookie named ``name``; parsed once, with werkzeug's tolerant parser.

        (The sans-IO parser: ``werkzeug.http.parse_cookie`` re-decodes its input as
        UTF-8 and raises on a non-UTF-8 byte, which a client can send.)"""
        if self._cookies is None:
            self._cookies = parse_cookie("; ".join(self.header_values("cookie")))
        return self._cookies.getlist(name)

    @property
    def origin(self) -> str:
        """The request's own origin: its scheme and ``Host`` (RFC 6454)."""
        scheme = {"ws": "http", "wss": "https"}.get(self.scheme, self.scheme)
        return f"{scheme}://{self.host}"
