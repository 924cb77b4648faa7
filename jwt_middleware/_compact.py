"""Strict parsing of the JWS compact serialization (RFC 7515 section 7.1), no I/O.

Exactly three non-empty base64url segments, canonical and unpadded; a header and a
payload that are UTF-8 JSON objects with no duplicate members and no NaN/Infinity.
Nothing here trusts the token: the result is only *parsed*, not verified.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

from ._encoding import ALPHABET, b64url_decode_checked
from .errors import MalformedToken, TokenTooLarge


class Segments(NamedTuple):
    """The three segments of a compact token, checked for shape but not decoded."""

    header: bytes
    payload: bytes
    signature: bytes
    signing_input: bytes  # header "." payload, what the signature covers


class ParsedToken(NamedTuple):
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def split(token: str, max_bytes: int) -> Segments:
    """Check the token's shape in one pass and cut it into its segments."""
    if len(token) > max_bytes:
        raise TokenTooLarge()
    try:
        data = token.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedToken("not three base64url segments") from None
    # Deleting the alphabet must leave the two separators and nothing else.
    if data.translate(None, ALPHABET) != b"..":
        raise MalformedToken("not three base64url segments")
    header, payload, signature = data.split(b".")
    if not header or not payload or not signature:
        raise MalformedToken("not three base64url segments")
    return Segments(header, payload, signature, data[: len(header) + 1 + len(payload)])


def parse(token: str, max_bytes: int) -> ParsedToken:
    """Split and decode ``token``; raise ``MalformedToken`` for anything off."""
    segments = split(token, max_bytes)
    return ParsedToken(
        decode_object(segments.header, "header"),
        decode_object(segments.payload, "payload"),
        segments.signing_input,
        decode_signature(segments.signature),
    )


def decode_object(segment: bytes, what: str) -> dict[str, Any]:
    """A header or payload segment: base64url, then a JSON object."""
    try:
        data = b64url_decode_checked(segment)
    except ValueError as exc:
        raise MalformedToken("a segment is not canonical base64url") from exc
    return json_object(data, what)


def decode_signature(segment: bytes) -> bytes:
    try:
        return b64url_decode_checked(segment)
    except ValueError as exc:
        raise MalformedToken("a segment is not canonical base64url") from exc


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """Decode strict UTF-8 JSON that must be an object (RFC 7519 section 7.2)."""
    try:
        text = data.decode("utf-8")
        if text[:1] == "{":
            # The scanner JSONDecoder.decode wraps, called directly; whatever it does
            # not consume (whitespace, or extra data) goes to the full decoder to judge.
            value, end = _SCAN(text, 0)
            if end != len(text):
                value = _DECODER.decode(text)
        else:
            value = _DECODER.decode(text)
    except (ValueError, RecursionError, StopIteration) as exc:
        # UnicodeDecodeError is a ValueError; the bare scanner signals a missing value
        # with StopIteration, which JSONDecoder.decode would have turned into one.
        raise MalformedToken(f"the {what} is not a JSON object") from exc
    if not isinstance(value, dict):
        raise MalformedToken(f"the {what} is not a JSON object")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # RFC 7515 section 5.2 allows rejecting; anything else lets two parsers disagree.
        raise ValueError("duplicate member name")
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads with hooks would build a new decoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
# The decoder's own scanner (C when available), the one JSONDecoder.raw_decode calls.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
