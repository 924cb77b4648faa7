"""Looking inside a token WITHOUT verifying it, for people debugging auth.

Lenient where the verifier is strict (padding, an empty signature, a non-JSON payload
are shown, not refused) and outspoken about what is risky. Nothing here decides whether
a token is acceptable: that is ``Verifier``'s job alone.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._keys import HMAC_ALGORITHMS

ACCESS_TOKEN_MAX_LIFETIME = 15 * 60
TIME_CLAIMS = ("iat", "nbf", "exp")
_KEY_URL_HEADERS = ("jku", "x5u")
_EMBEDDED_KEY_HEADERS = ("jwk", "x5c")
_SUSPICIOUS_KID = (
    "/",
    "\\",
    "..",
    "'",
    '"',
    ";",
    "|",
    "`",
    "$(",
    "\x00",
    "BEGIN",
    ".pem",
    ".key",
    ".crt",
)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass
class Inspection:
    header: dict[str, Any] | None
    claims: Any  # a dict for a JWT; the text (or None) for anything else
    signature_bytes: int
    problems: list[str] = field(default_factory=list)  # why parts could not be read
    warnings: list[Finding] = field(default_factory=list)
    times: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "verified": False,
            "header": self.header,
            "claims": self.claims,
            "signature_bytes": self.signature_bytes,
            "times": self.times,
            "warnings": [{"code": w.code, "message": w.message} for w in self.warnings],
            "problems": self.problems,
        }


def inspect_token(token: str, now: float | None = None) -> Inspection:
    now = time.time() if now is None else now
    parts = token.strip().split(".")
    if len(parts) == 5:
        header = _json(_decode(parts[0]))
        return Inspection(
            header if isinstance(header, dict) else None,
            None,
            0,
            problems=["a JWE (encrypted token): its claims cannot be read"],
        )
    if len(parts) != 3:
        return Inspection(None, None, 0, problems=[f"{len(parts)} segments, not 3"])
    problems: list[str] = []
    header_bytes, payload_bytes, signature = (_decode(p) for p in parts)
    header = _json(header_bytes)
    if not isinstance(header, dict):
        problems.append("the header is not a JSON object")
        header = None
    claims: Any = _json(payload_bytes)
    if not isinstance(claims, dict):
        problems.append("the payload is not a JSON object (not a JWT claims set)")
        claims = payload_bytes.decode("utf-8", "replace") if payload_bytes is not None else None
    if signature is None:
        problems.append("the signature is not base64url")
    result = Inspection(header, claims, len(signature or b""), problems)
    if isinstance(claims, dict):
        result.times = _times(claims, now)
    result.warnings = _warnings(header or {}, claims if isinstance(claims, dict) else {}, now)
    return result


def _decode(segment: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


def _json(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:  # includes UnicodeDecodeError
        return None


def _times(claims: dict[str, Any], now: float) -> dict[str, dict[str, Any]]:
    times = {}
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                utc = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            except (OverflowError, OSError, ValueError):
                utc = "out of range"
            times[name] = {"value": value, "utc": utc, "relative": relative(name, value, now)}
    return times


def relative(name: str, value: float, now: float) -> str:
    delta = value - now
    span = _span(abs(delta))
    if name == "exp":
        return f"expires in {span}" if delta > 0 else f"expired {span} ago"
    if name == "nbf" and delta > 0:
        return f"valid in {span}"
    return f"in {span}" if delta > 0 else f"{span} ago"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _warnings(header: dict[str, Any], claims: dict[str, Any], now: float) -> list[Finding]:
    found: list[Finding] = []

    def warn(code: str, message: str) -> None:
        found.append(Finding(code, message))

    alg = header.get("alg")
    if isinstance(alg, str) and alg.lower() == "none":
        warn("alg_none", "alg is 'none': the token is unsigned; no verifier may accept it")
    for name in _KEY_URL_HEADERS:
        if name in header:
            warn(
                "key_url_header",
                f"{name} header: a verifier must never fetch keys from a URL the token names",
            )
    for name in _EMBEDDED_KEY_HEADERS:
        if name in header:
            warn("embedded_key", f"{name} header: a key carried by the token proves nothing")
    if "crit" in header:
        warn("crit", "crit header: verifiers that do not know these extensions must refuse it")
    if "zip" in header or "enc" in header:
        warn("jwe_header", "zip/enc in a JWS header")
    kid = header.get("kid")
    if isinstance(kid, str) and any(marker in kid for marker in _SUSPICIOUS_KID):
        hs = isinstance(alg, str) and alg in HMAC_ALGORITHMS
        warn(
            "suspicious_kid",
            "kid looks like a path, a key or an injection"
            + (" with an HS algorithm: a key-confusion attempt?" if hs else ""),
        )
    for name in TIME_CLAIMS:
        if name in claims and (
            isinstance(claims[name], bool) or not isinstance(claims[name], int | float)
        ):
            warn("bad_numeric_date", f"{name} is not a number")
    _lifetime_warnings(header, claims, now, warn)
    if claims and "iss" not in claims:
        warn("no_iss", "no iss: nothing says who issued it")
    if claims and "aud" not in claims:
        warn("no_aud", "no aud: every service that trusts the issuer would accept it")
    return found


def _lifetime_warnings(
    header: dict[str, Any], claims: dict[str, Any], now: float, warn: Any
) -> None:
    if not claims:
        return
    if "exp" not in claims:
        warn("no_exp", "no exp: the token never expires")
        return
    exp, iat, nbf = (
        _number(claims.get("exp")),
        _number(claims.get("iat")),
        _number(claims.get("nbf")),
    )
    if exp is None:
        return
    if exp <= now:
        warn("expired", f"expired {_span(now - exp)} ago")
    if nbf is not None and nbf > now:
        warn("not_yet_valid", f"not valid for another {_span(nbf - now)}")
    typ = header.get("typ")
    is_refresh = isinstance(typ, str) and "refresh" in typ.lower()
    start = iat if iat is not None else now
    if not is_refresh and exp - start > ACCESS_TOKEN_MAX_LIFETIME:
        warn(
            "long_lived",
            f"lives {_span(exp - start)}: access tokens should live minutes (15 min at most)",
        )


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
