"""An OAuth protected resource that clients can discover: RFC 9728 metadata, built
once; and the resource identifier compared as RFC 8707 and RFC 3986 say.

Pure: the adapters ask ``ResourceMetadata.answer`` for the full request path (mount
included) and write what it returns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ._documents import check_url
from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._dpop import DPoP
    from ._verifier import Verifier

WELL_KNOWN = "/.well-known/oauth-protected-resource"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def normalize_resource(uri: str) -> str:
    """RFC 3986 section 6.2.2 and 6.2.3 normalisation of an absolute http(s) URI: scheme
    and host in lower case, the default port dropped, an empty path as ``/``,
    percent-encodings in upper case and unreserved characters decoded. Anything else
    (including a trailing slash on a longer path) stays significant, as RFC 8707 and
    RFC 9728 compare identifiers. Not a URI: returned as it is."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return uri
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return uri
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    path = _PERCENT.sub(_normal_escape, parts.path) or "/"
    query = _PERCENT.sub(_normal_escape, parts.query)
    return urlunsplit((scheme, netloc, path, query, parts.fragment))


def _normal_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group()[1:], 16))
    return char if char in _UNRESERVED else match.group().upper()


@dataclass(frozen=True, slots=True)
class MetadataResponse:
    """The answer to a request for the metadata document."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class ProtectedResource:
    """This service as an OAuth 2.0 protected resource (RFC 9728), for the middleware's
    ``resource=`` option.

    ``resource`` is the identifier clients ask tokens for (RFC 8707): an https URL (http
    only on loopback), without fragment. With it, the middleware

    - serves the metadata document, public and cacheable, at the URL RFC 9728 section
      3.1 makes from it (``/.well-known/oauth-protected-resource`` inserted before the
      path: ``https://api.example.com/.well-known/oauth-protected-resource/mcp``), and at
      ``/.well-known/oauth-protected-resource`` itself; ``metadata_url`` puts it
      elsewhere on the same origin (an app mounted under a path can only answer there);
    - adds ``resource_metadata="<that URL>"`` to every challenge (RFC 9728 section 5.1);
    - makes the identifier the verifier's audience when it has none, compared after
      RFC 3986 normalisation, so a token for another resource is refused.

    ``authorization_servers`` defaults to the verifier's trusted issuers;
    ``scopes_supported``, ``resource_name``, ``resource_documentation`` and
    ``max_age`` (of ``Cache-Control``) go into the document as given. Nothing in the
    document or the challenge comes from the request (never the ``Host`` header).
    """

    def __init__(
        self,
        resource: str,
        *,
        authorization_servers: Iterable[str] | None = None,
        scopes_supported: Iterable[str] | None = None,
        resource_name: str | None = None,
        resource_documentation: str | None = None,
        metadata_url: str | None = None,
        max_age: int = 3600,
    ) -> None:
        check_url(resource, "resource identifier")
        parts = urlsplit(resource)
        if parts.fragment or "#" in resource:
            raise ConfigurationError("a resource identifier has no fragment (RFC 8707)")
        if parts.query:
            raise ConfigurationError("give the resource identifier without a query")
        self.resource = resource
        origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        inserted = f"{origin}{WELL_KNOWN}{path}"
        self.metadata_url = inserted if metadata_url is None else metadata_url
        check_url(self.metadata_url, "metadata URL")
        url_parts = urlsplit(self.metadata_url)
        if f"{url_parts.scheme}://{url_parts.netloc}".lower() != origin.lower():
            raise ConfigurationError("the metadata URL must be on the resource's origin")
        if '"' in self.metadata_url or "\\" in self.metadata_url:
            raise ConfigurationError("the metadata URL cannot go into a challenge as it is")
        self.paths = frozenset({url_parts.path, WELL_KNOWN})
        self.authorization_servers = (
            None if authorization_servers is None else _strings(authorization_servers)
        )
        self.scopes_supported = None if scopes_supported is None else _strings(scopes_supported)
        self.resource_name = resource_name
        self.resource_documentation = resource_documentation
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise ConfigurationError("max_age is a whole number of seconds")
        self.max_age = max_age

    def bind(
        self,
        verifier: Verifier,
        *,
        dpop: DPoP | None = None,
        certificates: bool = False,
        public_origin: tuple[str, str] | None = None,
    ) -> ResourceMetadata:
        """The document for this verifier and the middleware's sender constraints,
        built now, once. ``public_origin`` (scheme, host), when configured, must be the
        resource identifier's own: clients compare them."""
        if public_origin is not None:
            parts = urlsplit(self.resource)
            scheme, host = public_origin
            own = normalize_resource(f"{parts.scheme}://{parts.netloc}/")
            if own != normalize_resource(f"{scheme}://{host}/"):
                raise ConfigurationError(
                    "the resource identifier is not on public_origin: clients would "
                    "see two origins for one service"
                )
        servers = self.authorization_servers
        if servers is None:
            servers = verifier.trusted_issuers
            if not servers:
                raise ConfigurationError(
                    "ProtectedResource needs authorization_servers: the verifier names no issuer"
                )
        document: dict[str, object] = {
            "resource": self.resource,
            "authorization_servers": list(servers),
            "bearer_methods_supported": ["header"],
            "resource_signing_alg_values_supported": sorted(verifier.algorithms),
        }
        if self.scopes_supported is not None:
            document["scopes_supported"] = list(self.scopes_supported)
        if self.resource_name is not None:
            document["resource_name"] = self.resource_name
        if self.resource_documentation is not None:
            document["resource_documentation"] = self.resource_documentation
        if certificates:  # RFC 9728 section 2, RFC 8705
            document["tls_client_certificate_bound_access_tokens"] = True
        if dpop is not None:  # RFC 9728 section 2, RFC 9449
            document["dpop_signing_alg_values_supported"] = list(dpop.algorithms)
            document["dpop_bound_access_tokens_required"] = dpop.required
        return ResourceMetadata(self.paths, self.metadata_url, document, self.max_age)

    def __repr__(self) -> str:
        return f"ProtectedResource({self.resource!r})"


class ResourceMetadata:
    """The metadata answers, precomputed: ``answer`` costs one set lookup."""

    __slots__ = ("_head", "_refused", "_served", "paths", "url")

    def __init__(
        self, paths: frozenset[str], url: str, document: dict[str, object], max_age: int
    ) -> None:
        self.paths = paths
        self.url = url
        body = json.dumps(document, separators=(",", ":")).encode()
        common = (
            ("Content-Type", "application/json"),
            ("Cache-Control", f"public, max-age={max_age}"),
            ("Access-Control-Allow-Origin", "*"),  # a public document, read by browsers too
        )
        self._served = MetadataResponse(200, (*common, ("Content-Length", str(len(body)))), body)
        self._head = MetadataResponse(200, self._served.headers, b"")  # the length, no body
        refusal = b'{"error":"method_not_allowed"}'
        self._refused = MetadataResponse(
            405,
            (
                ("Content-Type", "application/json"),
                ("Allow", "GET, HEAD"),
                ("Content-Length", str(len(refusal))),
            ),
            refusal,
        )

    def answer(self, method: str, full_path: str) -> MetadataResponse | None:
        """The response for a request to the document, or None for any other path."""
        if full_path not in self.paths:
            return None
        if method == "OPTIONS":  # a browser's preflight: the document is public
            return MetadataResponse(
                204,
                (
                    ("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Methods", "GET, HEAD"),
                    ("Access-Control-Max-Age", "86400"),
                ),
                b"",
            )
        if method == "GET":
            return self._served
        return self._head if method == "HEAD" else self._refused


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    items = (values,) if isinstance(values, str) else tuple(values)
    if not all(isinstance(item, str) and item for item in items):
        raise ConfigurationError("expected a list of non-empty strings")
    return items
