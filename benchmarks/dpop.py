"""DPoP: what a DPoP request costs through the middleware against its floor, the two
signature checks (the access token's and the proof's) with pre-loaded keys, the proof's
claim checks, the thumbprint and ``ath`` hashes, and the replay check (a dict, or one
``SET NX`` to Redis), with nothing else. Each request carries a new proof (a new
``jti``), as real clients send; the proofs are signed before the clock starts."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import peers
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from floor import _b64, floor_verify, signature_check
from jose import jwt as jose_jwt

from jwt_middleware import DPoP, DPoPKey, MemoryReplayCache, RedisReplayCache, StaticKey, Verifier
from jwt_middleware.asgi import JWTMiddleware as ASGIMiddleware
from jwt_middleware.wsgi import JWTMiddleware as WSGIMiddleware

URL = "http://api.example/orders"
AUDIENCE, ISSUER = "api://orders", "https://idp.example/"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Setup:
    """An ES256 issuer key, a client's DPoP key, and tokens bound to it."""

    def __init__(self) -> None:
        self.issuer_key = ec.generate_private_key(ec.SECP256R1())
        self.client = DPoPKey.generate()
        self.client_public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(_b64(self.client.public_jwk["x"]), "big"),
            int.from_bytes(_b64(self.client.public_jwk["y"]), "big"),
            ec.SECP256R1(),
        ).public_key()
        self._pem = self.issuer_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "user-1234567890",
            "aud": AUDIENCE,
            "scope": "orders:read",
            "iat": now,
            "exp": now + 3600,
            "jti": secrets.token_urlsafe(12),
            "cnf": {"jkt": self.client.thumbprint},
        }
        return jose_jwt.encode(claims, self._pem, algorithm="ES256")

    def verifier(self) -> Verifier:
        public = self.issuer_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return Verifier(StaticKey(public, "ES256"), audience=AUDIENCE, issuer=ISSUER)

    def requests(self, count: int, fresh_tokens: bool) -> Iterator[tuple[str, str]]:
        """(token, proof) pairs, signed now; every proof new, tokens new or one."""
        one = self.token()
        pairs = []
        for _ in range(count):
            token = self.token() if fresh_tokens else one
            pairs.append((token, self.client.proof("GET", URL, access_token=token)))
        return itertools.cycle(pairs)


def floor_request(
    token: str,
    proof: str,
    token_check: Callable[[bytes, bytes], bool],
    proof_check: Callable[[bytes, bytes], bool],
    replay: Callable[[str], bool],
) -> None:
    """The least a DPoP request needs: both signatures, the proof's claims, the binding."""
    claims = floor_verify(token, token_check, AUDIENCE)
    head, payload, signature = proof.split(".")
    header = json.loads(_b64(head))
    proof_claims = json.loads(_b64(payload))
    jwk = header["jwk"]
    canonical = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x", "y")},
        separators=(",", ":"),
        sort_keys=True,
    )
    if _b64url(hashlib.sha256(canonical.encode()).digest()) != claims["cnf"]["jkt"]:
        raise ValueError("key")
    if not proof_check(f"{head}.{payload}".encode(), _b64(signature)):
        raise ValueError("proof signature")
    now = time.time()
    if (
        proof_claims["htm"] != "GET"
        or proof_claims["htu"] != URL
        or not now - 60 <= proof_claims["iat"] <= now + 10
    ):
        raise ValueError("proof claims")
    if proof_claims["ath"] != _b64url(hashlib.sha256(token.encode()).digest()):
        raise ValueError("ath")
    if not replay(proof_claims["jti"]):
        raise ValueError("replay")


def _environ(token: str, proof: str) -> dict[str, Any]:
    """The peers' request (GET /orders on api.example) with DPoP credentials."""
    return {**peers.wsgi_environ(token), "HTTP_AUTHORIZATION": f"DPoP {token}", "HTTP_DPOP": proof}


def _scope(token: str, proof: str) -> dict[str, Any]:
    scope = peers.asgi_scope(token)
    headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
    headers += [(b"authorization", f"DPoP {token}".encode()), (b"dpop", proof.encode())]
    return {**scope, "headers": headers}


def _ok_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


def _start_response(status: str, headers: Any, exc_info: Any = None) -> None:
    if not status.startswith("200"):
        raise RuntimeError(status)


def calls(setup: Setup, count: int, redis_url: str | None) -> list[tuple[str, Callable[[], Any]]]:
    """The cases, each a call that handles one new request; the floors first."""
    token_check = signature_check("ES256", setup.issuer_key.public_key())
    proof_check = signature_check("ES256", setup.client_public)
    seen: dict[str, float] = {}

    def remember(jti: str) -> bool:
        if jti in seen:
            return False
        seen[jti] = time.time() + 60
        return True

    cases: list[tuple[str, Callable[[], Any]]] = []
    floor_pairs = setup.requests(count, fresh_tokens=True)
    cases.append(
        (
            "floor: both signatures, proof checks, dict replay",
            lambda: floor_request(*next(floor_pairs), token_check, proof_check, remember),
        )
    )

    def wsgi_case(replay: Any, fresh: bool) -> Callable[[], Any]:
        app = WSGIMiddleware(_ok_wsgi, verifier=setup.verifier(), dpop=DPoP(replay=replay))
        pairs = setup.requests(count, fresh_tokens=fresh)
        return lambda: app(_environ(*next(pairs)), _start_response)

    cases.append(("WSGI, a new token each request", wsgi_case(MemoryReplayCache(), True)))
    cases.append(("WSGI, the token seen before", wsgi_case(MemoryReplayCache(), False)))

    asgi = ASGIMiddleware(
        _ok_asgi, verifier=setup.verifier(), dpop=DPoP(replay=MemoryReplayCache())
    )
    asgi_pairs = setup.requests(count, fresh_tokens=True)

    def asgi_call() -> Any:
        return asgi(_scope(*next(asgi_pairs)), _receive, _send)

    cases.append(("ASGI, a new token each request", asgi_call))
    if redis_url is not None:
        import redis

        client = redis.Redis.from_url(redis_url)
        prefix = f"bench-dpop:{secrets.token_hex(4)}:"

        def redis_remember(jti: str) -> bool:
            return bool(client.set(prefix + jti, b"1", nx=True, px=60_000))

        redis_pairs = setup.requests(count, fresh_tokens=True)
        cases.append(
            (
                "floor with Redis SET NX as the replay check",
                lambda: floor_request(*next(redis_pairs), token_check, proof_check, redis_remember),
            )
        )
        cases.append(
            (
                "WSGI, a new token, RedisReplayCache",
                wsgi_case(RedisReplayCache(redis_url, prefix=prefix + "mw:"), True),
            )
        )
    return cases


def replay_calls(redis_url: str | None) -> list[tuple[str, Callable[[], Any]]]:
    """The replay check alone: one new key per call."""
    counter = itertools.count()
    memory = MemoryReplayCache(max_entries=10_000_000)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("MemoryReplayCache.first_use", lambda: memory.first_use(f"k{next(counter)}", 60))
    ]
    if redis_url is not None:
        redis_cache = RedisReplayCache(redis_url, prefix=f"bench-replay:{secrets.token_hex(4)}:")
        cases.append(
            (
                "RedisReplayCache.first_use (loopback)",
                lambda: redis_cache.first_use(f"k{next(counter)}", 60),
            )
        )
    return cases


async def _ok_asgi(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request"}


async def _send(message: Any) -> None:
    if message["type"] == "http.response.start" and message["status"] != 200:
        raise RuntimeError(message["status"])
