"""Side-by-side medians: our Verifier against python-jose's and PyJWT's decode, the
per-request cost the WSGI and ASGI middleware add to a trivial app, and what a warm
RemoteJWKS costs per lookup next to a static KeySet (served from loopback).

Run: make bench   (or: python benchmarks/overhead.py [--rounds 15] [--batch 2000])
Medians of per-call times over rounds of batches; compare the ratios, not the absolute
figures (the machines are shared and noisy). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk as jose_jwk
from jose import jwt as jose_jwt

from jwt_middleware import KeySet, RemoteJWKS, StaticKey, Verifier
from jwt_middleware.asgi import JWTMiddleware as ASGIMiddleware
from jwt_middleware.wsgi import JWTMiddleware as WSGIMiddleware

CLAIMS = {
    "iss": "https://idp.example/",
    "sub": "user-1234567890",
    "aud": "api://orders",
    "scope": "orders:read orders:write profile",
    "jti": "3f8e2c1a-9b7d-4e6f-8a5c-1d2e3f4a5b6c",
    "name": "Benchmark User",
}


def median_ns(fn: Callable[[], Any], rounds: int, batch: int) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / batch)
    return statistics.median(samples)


def amedian_ns(make: Callable[[], Any], rounds: int, batch: int) -> float:
    async def run() -> float:
        await make()
        samples = []
        for _ in range(rounds):
            start = time.perf_counter_ns()
            for _ in range(batch):
                await make()
            samples.append((time.perf_counter_ns() - start) / batch)
        return statistics.median(samples)

    return asyncio.run(run())


def pem(key: Any, private: bool) -> bytes:
    if private:
        return bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def verify_row(
    alg: str, claims: dict[str, Any], signing: bytes, public: bytes, rounds: int, batch: int
) -> str:
    token = jose_jwt.encode(claims, signing if alg == "HS256" else signing.decode(), algorithm=alg)
    verifier = Verifier(
        StaticKey(public, alg), audience="api://orders", issuer="https://idp.example/"
    )
    jose_key = jose_jwk.construct(public, alg)
    public_text = public if alg == "HS256" else public.decode()
    ours = median_ns(lambda: verifier.verify(token), rounds, batch)
    jose_prebuilt = median_ns(
        lambda: jose_jwt.decode(token, jose_key, algorithms=[alg], audience="api://orders"),
        rounds,
        batch,
    )
    jose_string = median_ns(
        lambda: jose_jwt.decode(token, public_text, algorithms=[alg], audience="api://orders"),
        rounds,
        batch,
    )
    peer = median_ns(
        lambda: pyjwt.decode(token, public, algorithms=[alg], audience="api://orders"),
        rounds,
        batch,
    )
    return (
        f"{alg:6} {ours / 1000:8.1f}µ {jose_prebuilt / 1000:8.1f}µ "
        f"{jose_string / 1000:8.1f}µ {peer / 1000:8.1f}µ   "
        f"{jose_prebuilt / ours:13.2f} {peer / ours:10.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    rounds, batch = args.rounds, args.batch
    now = int(time.time())
    claims = {**CLAIMS, "iat": now, "exp": now + 3600}
    secret = b"benchmark secret of thirty-two+ bytes"
    private_keys = {
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
    }

    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{rounds} rounds x {batch} calls, medians per call"
    )
    print(
        f"{'alg':6} {'ours':>9} {'jose key':>9} {'jose str':>9} {'pyjwt':>9}   "
        f"{'jose key/ours':>13} {'pyjwt/ours':>10}"
    )
    for alg in ("HS256", "RS256", "ES256"):
        if alg == "HS256":
            signing, public = secret, secret
        else:
            signing, public = pem(private_keys[alg], True), pem(private_keys[alg], False)
        print(verify_row(alg, claims, signing, public, rounds, batch))

    token = jose_jwt.encode(claims, secret, algorithm="HS256")
    verifier = Verifier(StaticKey(secret, "HS256"), audience="api://orders")
    print("\nper request, HS256, a trivial app called directly (no server):")

    def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    protected = WSGIMiddleware(wsgi_app, verifier=verifier)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/orders",
        "QUERY_STRING": "",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "api.example",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "*/*",
    }

    def start_response(status: str, headers: Any) -> None:
        return None

    bare_w = median_ns(lambda: wsgi_app(dict(environ), start_response), rounds, batch)
    wrapped_w = median_ns(lambda: protected(dict(environ), start_response), rounds, batch)

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    asgi_protected = ASGIMiddleware(asgi_app, verifier=verifier)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/orders",
        "scheme": "http",
        "query_string": b"",
        "server": ("api.example", 80),
        "headers": [
            (b"host", b"api.example"),
            (b"accept", b"*/*"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        return None

    bare_a = amedian_ns(lambda: asgi_app(dict(scope), receive, send), rounds, batch)
    wrapped_a = amedian_ns(lambda: asgi_protected(dict(scope), receive, send), rounds, batch)
    verify_only = median_ns(lambda: verifier.verify(token), rounds, batch)
    for name, bare, wrapped in (("WSGI", bare_w, wrapped_w), ("ASGI", bare_a, wrapped_a)):
        added = wrapped - bare
        print(
            f"  {name}: bare {bare / 1000:.1f}µ, protected {wrapped / 1000:.1f}µ, "
            f"added {added / 1000:.1f}µ = {added / verify_only:.2f}x Verifier.verify "
            f"({verify_only / 1000:.1f}µ)"
        )
    bench_key_lookup(rounds, batch)


def bench_key_lookup(rounds: int, batch: int) -> None:
    """A warm RemoteJWKS against a static KeySet: what the cache costs per request."""
    jwks = {
        "keys": [
            {
                **jose_jwk.construct(
                    pem(ec.generate_private_key(ec.SECP256R1()), False), "ES256"
                ).to_dict(),
                "kid": f"k{i}",
            }
            for i in range(20)
        ]
    }
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        remote = RemoteJWKS(f"http://127.0.0.1:{server.server_address[1]}/jwks")
        static = KeySet(jwks)
        header = {"kid": "k7"}
        remote.resolve(header, {})
        static_ns = median_ns(lambda: static.resolve(header, {}), rounds, batch)
        sync_ns = median_ns(lambda: remote.resolve(header, {}), rounds, batch)
        async_ns = amedian_ns(lambda: remote.aresolve(header, {}), rounds, batch)
    finally:
        server.shutdown()
    print(
        f"\nkey lookup, 20 keys: KeySet {static_ns:.0f} ns, warm RemoteJWKS "
        f"{sync_ns:.0f} ns (sync) / {async_ns:.0f} ns (async), {remote.fetch_count} fetch"
    )


if __name__ == "__main__":
    main()
