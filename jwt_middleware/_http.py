"""Fetching a small JSON document safely, with httpx, for the sync and async drivers.

The rules are the same for both: https only (plain http only to a loopback address, for
tests and sidecars; see _documents.check_url), no redirects unless allowed (and then
only to URLs that pass the same rule), an uncompressed body of at most ``max_bytes``,
status 200, a JSON object.

Imported when the first remote key source is built (at start-up), not with the package.
"""

from __future__ import annotations

import encodings.idna  # noqa: F401  (see below)
import ssl
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

# httpx imports httpcore when its first client is made, and the first connection makes
# socket.getaddrinfo import the idna codec (encodings.idna). Imported here instead, at
# load time on the thread building the key source: a warm-start thread caught by a fork
# (gunicorn --preload) inside either import leaves that module's import lock held in
# every worker, which then hangs on its first fetch (seen with py-spy: the workers
# waiting in _ModuleLock.acquire under getaddrinfo).
import httpcore  # noqa: F401
import httpx

from ._documents import Document, FetchError, FetchOptions, check_url, parse_document
from .errors import ConfigurationError

_HEADERS = {"Accept": "application/json", "Accept-Encoding": "identity"}

# One TLS context for every fetch, made here on the thread that builds the key source.
# httpx would otherwise build one (parsing the CA bundle inside OpenSSL) in each new
# client, on the warm-start thread too: a fork caught in the middle (gunicorn --preload
# forks right after the app is built) leaves OpenSSL's locks held in the child, which
# then hangs on its first fetch. It also saves the parse on every fetch.
_TLS = httpx.create_ssl_context()
_MAX_HOPS = 3


@lru_cache(maxsize=8)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The TLS context for ``ca_file`` (only that CA is trusted), made once, at start-up
    when the key source is built (see ``_TLS`` for why then)."""
    if ca_file is None:
        return _TLS
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot load the CA file {ca_file!r}: {exc}") from exc


def _headers(options: FetchOptions) -> Mapping[str, str]:
    """The request headers; a token file is read on every fetch, since Kubernetes
    rotates projected service-account tokens in place."""
    if options.auth_token_file is None:
        return _HEADERS
    try:
        token = Path(options.auth_token_file).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise FetchError(f"cannot read the token file: {type(exc).__name__}") from exc
    if not token or any(c.isspace() for c in token):
        raise FetchError("the token file does not hold one token")
    return {**_HEADERS, "Authorization": f"Bearer {token}"}


def fetch(url: str, options: FetchOptions, client: httpx.Client | None = None) -> Document:
    http = client or httpx.Client(verify=tls_context(options.ca_file))
    try:
        for _ in range(_MAX_HOPS + 1):
            with http.stream(
                "GET",
                url,
                headers=_headers(options),
                follow_redirects=False,
                timeout=options.timeout,
            ) as response:
                target = _redirect_target(response, options)
                if target is None:
                    _check_head(response.status_code, response.headers, options.max_bytes)
                    body, deadline = bytearray(), time.monotonic() + options.timeout
                    for chunk in response.iter_raw():
                        _append(body, chunk, options, deadline)
                    return parse_document(bytes(body), response.headers)
            url = target
        raise FetchError("too many redirects")
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if client is None:
            http.close()


async def afetch(
    url: str, options: FetchOptions, client: httpx.AsyncClient | None = None
) -> Document:
    http = client or httpx.AsyncClient(verify=tls_context(options.ca_file))
    try:
        for _ in range(_MAX_HOPS + 1):
            async with http.stream(
                "GET",
                url,
                headers=_headers(options),
                follow_redirects=False,
                timeout=options.timeout,
            ) as response:
                target = _redirect_target(response, options)
                if target is None:
                    _check_head(response.status_code, response.headers, options.max_bytes)
                    body, deadline = bytearray(), time.monotonic() + options.timeout
                    async for chunk in response.aiter_raw():
                        _append(body, chunk, options, deadline)
                    return parse_document(bytes(body), response.headers)
            url = target
        raise FetchError("too many redirects")
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if client is None:
            await http.aclose()


def _redirect_target(response: httpx.Response, options: FetchOptions) -> str | None:
    """The next URL when this is a redirect we may follow; checked before any request."""
    if not response.is_redirect:
        return None
    if not options.follow_redirects:
        raise FetchError(f"HTTP {response.status_code} redirect (redirects are not followed)")
    target = str(response.url.join(response.headers["location"]))
    try:
        return check_url(target)
    except ConfigurationError as exc:
        raise FetchError(f"redirect to an unsafe URL refused: {exc}") from None


def _check_head(status: int, headers: Mapping[str, str], max_bytes: int) -> None:
    if status != 200:
        raise FetchError(f"HTTP {status}")
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise FetchError(f"compressed response ({encoding}) refused")
    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > max_bytes):
        raise FetchError(f"the document is larger than max_bytes ({max_bytes})")


def _append(body: bytearray, chunk: bytes, options: FetchOptions, deadline: float) -> None:
    """Collect the body, within max_bytes and, in total, within the timeout (httpx's
    timeouts bound each read, so a server dripping bytes could go on for ever)."""
    body += chunk
    if len(body) > options.max_bytes:
        raise FetchError(f"the document is larger than max_bytes ({options.max_bytes})")
    if time.monotonic() > deadline:
        raise FetchError("the document took longer than the timeout to arrive")
