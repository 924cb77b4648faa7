"""Fetched documents without the fetching: which URLs may be fetched, what a fetch
gives back, and how a JSON body is accepted. No I/O and no httpx, so the package can
name these without loading an HTTP client (see _http, loaded with the first remote
key source).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)


class FetchError(Exception):
    """The document could not be fetched or is not acceptable (never shown to clients)."""


@dataclass(frozen=True, slots=True)
class Document:
    body: dict[str, Any]
    max_age: int | None  # from Cache-Control, when the server sent one


@dataclass(frozen=True, slots=True)
class FetchOptions:
    timeout: float
    max_bytes: int
    follow_redirects: bool
    ca_file: str | None = None  # trust only this CA bundle (a cluster's own CA)
    auth_token_file: str | None = None  # send its contents as a bearer token, read each time


def check_url(url: str, what: str = "URL") -> str:
    """Refuse anything but https, or http to a loopback address."""
    if not isinstance(url, str):
        raise ConfigurationError(f"the {what} must be a string")
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConfigurationError(f"the {what} {url!r} has no host")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)):
        return url
    raise ConfigurationError(f"the {what} must be https (plain http only to loopback): {url!r}")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_document(body: bytes, headers: Mapping[str, str]) -> Document:
    try:
        parsed = json.loads(body)
    except ValueError as exc:  # includes UnicodeDecodeError
        raise FetchError("the document is not JSON") from exc
    if not isinstance(parsed, dict):
        raise FetchError("the document is not a JSON object")
    match = _MAX_AGE.search(headers.get("cache-control", ""))
    return Document(parsed, int(match.group(1)) if match else None)
