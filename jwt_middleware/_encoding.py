"""Strict base64url (RFC 7515 section 2): no padding, no other characters, canonical."""

from __future__ import annotations

import base64
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
# With 2 or 3 characters in the last quantum, the unused low bits of the last
# character must be zero; otherwise several strings decode to the same bytes.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def b64url_decode(segment: str) -> bytes:
    """Decode unpadded base64url; raise ValueError for anything non-canonical."""
    remainder = len(segment) % 4
    if remainder == 1 or _ALPHABET.fullmatch(segment) is None:
        raise ValueError("not base64url")
    if remainder and segment[-1] not in _CANONICAL_LAST[remainder]:
        raise ValueError("non-canonical base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
