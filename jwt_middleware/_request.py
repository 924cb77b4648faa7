"""A read-only view of an incoming request, the same for WSGI and ASGI.

The adapters subclass ``RequestView`` with the two things that differ between
the protocols (how headers are looked up and where the host comes from); token
sources, the CSRF check and the policy only ever see this view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from .errors import InvalidRequest

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict


class RequestView(ABC):
    """``path`` is the whole path (for logs); ``route_path`` is the path the app routes
    on (after ASGI's ``root_path``; WSGI's ``PATH_INFO``), or None when it cannot be
    told (a ``root_path`` that is not a prefix of the path): what path rules match."""

    __slots__ = (
        "_cookies",
        "client",
        "is_websocket",
        "method",
        "path",
        "query_string",
        "route_path",
        "scheme",
    )

    def __init__(
        self,
        method: str,
        path: str,
        route_path: str | None,
        scheme: str,
        query_string: str,
        is_websocket: bool,
        client: str | None = None,
    ) -> None:
        # The one constructor both adapters use. It runs only on the full path (the
        # fast path for a token seen before builds no view), where the ~0.1 us a
        # super().__init__ call costs over setting the slots directly is lost in the
        # parsing and signature check.
        self.method = method
        self.path = path
        self.route_path = route_path
        self.scheme = scheme
        self.query_string = query_string
        self.is_websocket = is_websocket
        self.client = client  # the peer's address (a proxy's, behind one)
        self._cookies: MultiDict[str, str] | None = None

    @abstractmethod
    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (lower case), in the order received."""

    def target_path(self) -> str:
        """The path the client asked for, mount included, percent-encoded as sent
        where the server tells (DPoP's ``htu`` is compared with it)."""
        return encoded_path(None, self.path)

    def server_certificate(self) -> str | None:
        """The client certificate (PEM) as the server itself passes it on, if it does."""
        return None

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
            # Loaded on first use: a service that reads only headers never needs it.
            from werkzeug.sansio.http import parse_cookie

            self._cookies = parse_cookie(self._cookie_header())
        return self._cookies.getlist(name)

    def single_cookie(self, name: str) -> str | None:
        """The value of cookie ``name`` when every framework reads the same one, None
        when it is absent; ``InvalidRequest`` when readings could differ.

        Frameworks disagree on a Cookie header: werkzeug (Flask) reads a value that
        starts with ``"`` up to the next ``"``, across ``;``, and keeps the first of two
        cookies, Starlette splits at every ``;`` and keeps the last. So ``name`` may
        occur once, anywhere, counted at every ``;`` whatever the quoting; its value may
        not be quoted; and werkzeug's reading must be that same one value."""
        header = self._cookie_header()
        if name not in header:
            return None
        found = []
        for pair in header.split(";"):
            key, _, value = pair.partition("=")
            if key.strip(" \t") == name:
                found.append(value.strip(" \t"))
        if not found:
            return None
        if len(found) > 1:
            # One may have been planted from a sibling domain (cookie tossing).
            raise InvalidRequest(f"more than one {name} cookie")
        value = found[0]
        if value.startswith('"') or self.cookie_values(name) != [value]:
            raise InvalidRequest(f"the {name} cookie can be read in more than one way")
        return value

    def _cookie_header(self) -> str:
        return "; ".join(self.header_values("cookie"))


def encoded_path(raw: str | None, decoded: str) -> str:
    """The path as sent: ``raw`` (the server's undecoded copy) when it decodes to the
    path the app sees, else ``decoded`` percent-encoded again (a mount the server added,
    or a server that keeps no raw copy)."""
    if raw and unquote(raw) == decoded:
        return raw
    return quote(decoded, safe="/!$&'()*+,;=:@-._~")
