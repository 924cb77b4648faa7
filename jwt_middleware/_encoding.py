"""Strict base64url (RFC 7515 section 2): no padding, no other characters, canonical."""

from __future__ import annotations

import base64
import binascii

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
"""The base64url alphabet; ``data.translate(None, ALPHABET)`` is what is left outside it."""

# With 2 or 3 characters in the last quantum, the unused low bits of the last
# character must be zero; otherwise several strings decode to the same bytes.
_CANONICAL_LAST = {2: frozenset(b"AQgw"), 3: frozenset(b"AEIMQUYcgkosw048")}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", None, b"==", b"=")


def b64url_decode(segment: str) -> bytes:
    """Decode unpadded base64url; raise ValueError for anything non-canonical."""
    try:
        data = segment.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not base64url") from None
    if data.translate(None, ALPHABET):
        raise ValueError("not base64url")
    return b64url_decode_checked(data)


def b64url_decode_checked(segment: bytes) -> bytes:
    """``b64url_decode`` for bytes already known to hold only the base64url
    alphabet (the compact parser checks the whole token at once)."""
    remainder = len(segment) % 4
    padding = _PADDING[remainder]
    if padding is None:
        raise ValueError("not base64url")
    if remainder and segment[-1] not in _CANONICAL_LAST[remainder]:
        raise ValueError("non-canonical base64url")
    try:
        return binascii.a2b_base64(segment.translate(_TO_STANDARD) + padding)
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
