"""The request's public origin (scheme and host) and the client's address, once.

Behind a TLS-terminating proxy the app sees ``http`` and an inner host; what the client
used is in the proxy's forwarding headers, which anybody can also send. So the origin
comes from one piece of configuration, read by everything that needs it (DPoP's
``htu``, the client-certificate header, the CSRF origin check, ``require_https``):

- ``public_origin``: the operator says every request arrives through this origin;
- ``trusted_proxies``: forwarding headers are read only when the peer is one of these
  addresses, and only as far along the chain as the hops stay trusted;
- neither: the connection's own scheme and ``Host``.

Pure: ``OriginPolicy.resolve`` reads a ``RequestView``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import urlsplit

from ._request import RequestView
from .errors import ConfigurationError

ForwardingHeaders = Literal["x-forwarded", "forwarded"]
if TYPE_CHECKING:
    import ipaddress

    _Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_WEB_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
_DEFAULT_PORTS = {"http": "80", "https": "443"}


@cache
def _pair() -> re.Pattern[str]:
    """RFC 7239 section 4: forwarded-pair = token "=" value; value = token / quoted-string
    (compiled on first use, like everything here only proxied services need)."""
    return re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)=("(?:[^"\\]|\\.)*"|[^;,\s"]*)\s*([;,]|$)')


@cache
def _host_pattern() -> re.Pattern[str]:
    """A host as a proxy forwards it: reg-name or IPv4, or an IPv6 literal; a port."""
    return re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class RequestOrigin(NamedTuple):
    """What the client used: ``scheme`` (``http``/``https``), ``host`` (``host[:port]``,
    lower case, default port dropped) and its address (None when unknown)."""

    scheme: str
    host: str
    client: str | None

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def client_is_loopback(self) -> bool:
        address = _address(self.client)
        return address is not None and address.is_loopback


class TrustedProxies:
    """The proxies in front of the app whose forwarding headers are believed.

    ``addresses``: IP addresses or networks (``"10.0.0.0/8"``, ``"127.0.0.1"``).
    ``headers``: which headers they set, ``"x-forwarded"`` (``X-Forwarded-For``,
    ``-Proto``, ``-Host``: nginx, HAProxy, cloud load balancers) or ``"forwarded"``
    (RFC 7239); the other kind is ignored, so a client cannot add it. Your proxies must
    overwrite or append to these headers, never pass a client's on alone.
    """

    def __init__(
        self, addresses: Iterable[str], *, headers: ForwardingHeaders = "x-forwarded"
    ) -> None:
        if isinstance(addresses, str):
            addresses = (addresses,)
        import ipaddress

        networks: list[_Network] = []
        for entry in addresses:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except (TypeError, ValueError):
                raise ConfigurationError(f"{entry!r} is not an IP address or network") from None
        if not networks:
            raise ConfigurationError("name at least one trusted proxy address")
        if headers not in ("x-forwarded", "forwarded"):
            raise ConfigurationError("headers is 'x-forwarded' or 'forwarded'")
        self._networks = tuple(networks)
        self.headers: ForwardingHeaders = headers

    def trusts(self, address: str | None) -> bool:
        ip = _address(address)
        return ip is not None and any(ip in net for net in self._networks)

    def __repr__(self) -> str:
        names = ", ".join(repr(str(net)) for net in self._networks)
        return f"TrustedProxies([{names}], headers={self.headers!r})"


class OriginPolicy:
    """Resolves every request's ``RequestOrigin`` the same way (see the module): what
    the middleware's ``public_origin`` and ``trusted_proxies`` options build. Build one
    with the same two values to read the origin in your app too (a cookie's ``Secure``
    flag, absolute URLs): ``for_environ(environ)`` (WSGI), ``for_scope(scope)`` (ASGI).
    """

    def __init__(
        self,
        public_origin: str | None = None,
        trusted_proxies: TrustedProxies | Iterable[str] | None = None,
    ) -> None:
        self.public_origin = None if public_origin is None else _public_origin(public_origin)
        if trusted_proxies is not None and not isinstance(trusted_proxies, TrustedProxies):
            trusted_proxies = TrustedProxies(trusted_proxies)
        self.trusted_proxies = trusted_proxies

    def for_environ(self, environ: Any) -> RequestOrigin:
        from .wsgi import WSGIRequestView

        return self.resolve(WSGIRequestView(environ))

    def for_scope(self, scope: Any) -> RequestOrigin:
        from .asgi import ASGIRequestView

        return self.resolve(ASGIRequestView(scope))

    def from_trusted_proxy(self, request: RequestView) -> bool:
        proxies = self.trusted_proxies
        return proxies is not None and proxies.trusts(request.client)

    def resolve(self, request: RequestView) -> RequestOrigin:
        scheme = _WEB_SCHEMES.get(request.scheme.lower(), "http")
        host, client = request.host, request.client
        proxies = self.trusted_proxies
        if proxies is not None and proxies.trusts(client):
            forwarded = (
                _x_forwarded(request, proxies)
                if proxies.headers == "x-forwarded"
                else _forwarded(request, proxies)
            )
            client = forwarded.client or client
            if forwarded.scheme is not None:
                scheme = forwarded.scheme
            if forwarded.host is not None:
                host = forwarded.host
        if self.public_origin is not None:
            scheme, host = self.public_origin
        return RequestOrigin(scheme, normalize_host(scheme, host), client)


class _Forwarded(NamedTuple):
    scheme: str | None
    host: str | None
    client: str | None


def _x_forwarded(request: RequestView, proxies: TrustedProxies) -> _Forwarded:
    """``X-Forwarded-For`` walked from the right while the hops are trusted; ``-Proto``
    and ``-Host`` read at the outermost trusted hop (appended lists) or whole (set)."""
    chain = _list(request, "x-forwarded-for")
    hops, client = _trusted_hops(chain, proxies)
    return _Forwarded(
        _scheme(_at_hop(_list(request, "x-forwarded-proto"), hops)),
        _host(_at_hop(_list(request, "x-forwarded-host"), hops)),
        client,
    )


def _forwarded(request: RequestView, proxies: TrustedProxies) -> _Forwarded:
    """RFC 7239: one element per proxy, appended; the outermost trusted one's ``proto``
    and ``host`` are what the client used. A header that does not parse is ignored."""
    elements = _forwarded_elements(", ".join(request.header_values("forwarded")))
    if not elements:
        return _Forwarded(None, None, None)
    hops, client = _trusted_hops([e.get("for", "") for e in elements], proxies)
    element = elements[max(0, len(elements) - hops)]
    return _Forwarded(_scheme(element.get("proto")), _host(element.get("host")), client)


def _trusted_hops(chain: list[str], proxies: TrustedProxies) -> tuple[int, str | None]:
    """How many elements, from the right, trusted proxies wrote (the peer wrote the
    last one), and the client: the first address from the right that is not trusted
    (or the leftmost, when every hop is). ``(1, None)`` when ``chain`` is empty."""
    hops = 1
    for address in reversed(chain):
        host = _strip_port(address)
        if not proxies.trusts(host) or hops == len(chain):
            return hops, host
        hops += 1
    return 1, None


def _at_hop(values: list[str], hops: int) -> str | None:
    if not values:
        return None
    return values[-hops] if len(values) >= hops else values[0]


def _list(request: RequestView, name: str) -> list[str]:
    return [v.strip() for value in request.header_values(name) for v in value.split(",")]


def _forwarded_elements(value: str) -> list[dict[str, str]]:
    elements: list[dict[str, str]] = [{}]
    position = 0
    while position < len(value):
        match = _pair().match(value, position)
        if match is None:
            return []
        name, raw, separator = match.groups()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        elements[-1][name.lower()] = raw
        if separator == ",":
            elements.append({})
        position = match.end()
    return [e for e in elements if e]


def _scheme(value: str | None) -> str | None:
    return value.lower() if value is not None and value.lower() in ("http", "https") else None


def _host(value: str | None) -> str | None:
    return value if value is not None and _host_pattern().fullmatch(value) else None


def _strip_port(address: str) -> str:
    """``1.2.3.4:80`` -> ``1.2.3.4``, ``[::1]:80`` -> ``::1``; RFC 7239 quoting removed."""
    address = address.strip().strip('"')
    if address.startswith("["):
        return address[1:].partition("]")[0]
    if address.count(":") == 1:
        return address.partition(":")[0]
    return address


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    import ipaddress

    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def normalize_host(scheme: str, host: str) -> str:
    """Lower case, the scheme's default port dropped."""
    host = host.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and host.endswith(":" + default):
        host = host[: -len(default) - 1]
    return host


def _public_origin(origin: str) -> tuple[str, str]:
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - validates the port
    except (TypeError, ValueError, AttributeError):
        raise ConfigurationError(
            f"{origin!r} is not an origin such as https://api.example.com"
        ) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ConfigurationError(f"{origin!r} is not an origin such as https://api.example.com")
    return parts.scheme, normalize_host(parts.scheme, parts.netloc)
