"""Strict parsing of the JWS compact serialization (RFC 7515 section 7.1), no I/O.

Exactly three non-empty base64url segments, canonical and unpadded; a header and a
payload that are UTF-8 JSON objects with no duplicate members and no NaN/Infinity.
Nothing here trusts the token: the result is only *parsed*, not verified.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from ._encoding import b64url_decode_checked
from .errors import MalformedToken

_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class ParsedToken(NamedTuple):
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse(token: str, max_bytes: int) -> ParsedToken:
    """Split and decode ``token``; raise :class:`MalformedToken` for anything off."""
    if len(token) > max_bytes:
        raise MalformedToken("the token exceeds max_token_bytes")
    if _COMPACT.fullmatch(token) is None:
        raise MalformedToken("not three base64url segments")
    signing_input, _, signature_segment = token.rpartition(".")
    header_segment, _, payload_segment = signing_input.partition(".")
    try:
        header_bytes = b64url_decode_checked(header_segment)
        payload_bytes = b64url_decode_checked(payload_segment)
        signature = b64url_decode_checked(signature_segment)
    except ValueError as exc:
        raise MalformedToken("a segment is not canonical base64url") from exc
    return ParsedToken(
        json_object(header_bytes, "header"),
        json_object(payload_bytes, "payload"),
        signing_input.encode("ascii"),
        signature,
    )


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """Decode strict UTF-8 JSON that must be an object (RFC 7519 section 7.2)."""
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
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
