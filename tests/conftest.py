"""Shared fixtures: keys made once per session, a token factory, and one client
interface over both adapters so every behaviour is written once and run twice."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk as jose_jwk
from starlette.testclient import TestClient
from werkzeug.test import Client as WerkzeugClient

from jwt_middleware import StaticKey, Verifier
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi

from .docserver import DocumentServer

NOW = 1_700_000_000

# Not test modules (pytest-markdown-docs would otherwise import them for docstrings):
# the servers the system tests start read their settings from the environment at
# import, and tests/typing holds modules for mypy to check, not to run.
collect_ignore = ["server_apps.py", "matrix_apps.py", "typing", "django_project"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pem_private(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_public(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class Keys:
    secret: bytes
    rsa: rsa.RSAPrivateKey
    ec256: ec.EllipticCurvePrivateKey
    ec384: ec.EllipticCurvePrivateKey
    ec521: ec.EllipticCurvePrivateKey

    def signing_material(self, alg: str) -> bytes:
        if alg.startswith("HS"):
            return self.secret + self.secret  # 64 bytes: enough for HS512
        if alg.startswith("RS"):
            return pem_private(self.rsa)
        return pem_private({"ES256": self.ec256, "ES384": self.ec384, "ES512": self.ec521}[alg])

    def verification_key(self, alg: str, kid: str | None = None) -> StaticKey:
        if alg.startswith("HS"):
            return StaticKey(self.signing_material(alg), alg, kid=kid)
        curve_key = {"ES256": self.ec256, "ES384": self.ec384, "ES512": self.ec521}
        private = self.rsa if alg.startswith("RS") else curve_key[alg]
        return StaticKey(pem_public(private), alg, kid=kid)


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(
            redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        )
    except (redis.RedisError, OSError):
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: REDIS_URL, else 127.0.0.1:6379, else a redis-server started here."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    if _redis_answers("redis://127.0.0.1:6379/0"):
        yield "redis://127.0.0.1:6379/0"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis: set REDIS_URL, run one on 127.0.0.1:6379, or install redis-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not _redis_answers(url):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.skip("redis-server did not start")
        time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this test; its keys are deleted afterwards."""
    import redis

    prefix = f"jwt-middleware-test:{secrets.token_hex(8)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def docserver() -> Iterator[DocumentServer]:
    """A real HTTP server on a loopback port (see tests/docserver.py)."""
    server = DocumentServer()
    yield server
    server.close()


class FakeClock:
    """One clock for the key cache and the claim checks; moves only when told."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        secret=secrets.token_bytes(32),
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec256=ec.generate_private_key(ec.SECP256R1()),
        ec384=ec.generate_private_key(ec.SECP384R1()),
        ec521=ec.generate_private_key(ec.SECP521R1()),
    )


def sign_raw(
    header: bytes | dict[str, Any], payload: bytes | dict[str, Any], material: Any, alg: str
) -> str:
    """Sign arbitrary header and payload bytes with python-jose's key classes, so tests
    can build hostile tokens (duplicate members, odd types) with valid signatures."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    payload_bytes = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64url(header_bytes)}.{b64url(payload_bytes)}"
    if alg.startswith("HS"):  # python-jose refuses PEM secrets; forging needs exactly that
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        signature = hmac.new(material, signing_input.encode("ascii"), digest).digest()
    else:
        signature = _signing_key(material, alg).sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


@functools.lru_cache(maxsize=32)
def _signing_key(material: bytes, alg: str) -> Any:
    """Loading an RSA private key takes milliseconds; tests sign thousands of tokens."""
    return jose_jwk.construct(material, alg)


TokenFactory = Callable[..., str]


def tampered(token: str) -> str:
    """The same token with another, still canonical, signature: its first character
    changed (a full 6-bit position, so the result decodes to different bytes)."""
    head, payload, signature = token.split(".")
    first = "B" if signature[0] != "B" else "C"
    return f"{head}.{payload}.{first}{signature[1:]}"


@pytest.fixture
def make_token(keys: Keys) -> TokenFactory:
    """``make_token(alg="HS256", kid=None, typ=..., header=None, **claims)``: a signed
    token with ``exp`` an hour after NOW unless a claim overrides it (None drops it)."""

    def factory(
        alg: str = "HS256",
        *,
        kid: str | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        body: dict[str, Any] = {"sub": "alice", "iat": NOW, "exp": NOW + 3600, **claims}
        body = {k: v for k, v in body.items() if v is not None}
        head: dict[str, Any] = {"alg": alg, "typ": "JWT"}
        if kid is not None:
            head["kid"] = kid
        head.update(header or {})
        head = {k: v for k, v in head.items() if v is not None}
        return sign_raw(head, body, keys.signing_material(alg), alg)

    return factory


@pytest.fixture
def unique_token(make_token: TokenFactory) -> TokenFactory:
    """Like make_token, but every token unique (a random jti): requests then exercise
    the key resolver instead of the verified-token cache."""

    def unique(*args: Any, **claims: Any) -> str:
        return make_token(*args, **{"jti": secrets.token_hex(8), **claims})

    return unique


@pytest.fixture
def hs_verifier(keys: Keys) -> Verifier:
    return Verifier(keys.verification_key("HS256"), clock=lambda: NOW)


# -- one client interface for both adapters ------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Headers = Sequence[tuple[str, str]]


def wsgi_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    seen = {
        "claims": environ.get("jwt.claims"),
        "header": environ.get("jwt.header"),
        "user": environ.get("REMOTE_USER"),
        "scopes": list(environ.get("jwt.scopes", ())),
        "roles": list(environ.get("jwt.roles", ())),
        "dpop_jkt": environ.get("jwt.dpop_jkt"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


async def asgi_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    user = scope.get("user")
    seen = {
        "claims": scope.get("jwt.claims"),
        "header": scope.get("jwt.header"),
        "user": user.identity if user is not None and user.is_authenticated else None,
        "scopes": list(scope["auth"].scopes) if "auth" in scope else [],
        "roles": list(scope["auth"].roles) if "auth" in scope else [],
        "dpop_jkt": scope.get("jwt.dpop_jkt"),
    }
    body = json.dumps(seen).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AdapterClient:
    """Sends a request through one adapter and returns a :class:`Reply`."""

    name: str

    def request(self, method: str, path: str, headers: Headers = ()) -> Reply:
        raise NotImplementedError

    def get(self, path: str = "/", headers: Headers = ()) -> Reply:
        return self.request("GET", path, headers)


class WSGIAdapterClient(AdapterClient):
    name = "wsgi"

    def __init__(self, verifier: Verifier, **options: Any) -> None:
        self.middleware = jwt_wsgi.JWTMiddleware(wsgi_echo, verifier=verifier, **options)
        self._client = WerkzeugClient(self.middleware, use_cookies=False)

    def request(self, method: str, path: str, headers: Headers = ()) -> Reply:
        path, _, query = path.partition("?")
        response = self._client.open(
            path,
            base_url="http://testserver",
            method=method,
            headers=list(headers),
            query_string=query,
        )
        raw = list(response.headers.items())
        return Reply(response.status_code, {k.lower(): v for k, v in raw}, response.data, raw)


class ASGIAdapterClient(AdapterClient):
    name = "asgi"

    def __init__(self, verifier: Verifier, **options: Any) -> None:
        self.middleware = jwt_asgi.JWTMiddleware(asgi_echo, verifier=verifier, **options)
        self._client = TestClient(self.middleware, base_url="http://testserver")

    def request(self, method: str, path: str, headers: Headers = ()) -> Reply:
        raw_headers = [(name, value.encode("latin-1")) for name, value in headers]
        response = self._client.request(method, path, headers=raw_headers)
        raw = list(response.headers.multi_items())
        return Reply(response.status_code, {k.lower(): v for k, v in raw}, response.content, raw)


@pytest.fixture(params=["wsgi", "asgi"])
def adapter(request: pytest.FixtureRequest) -> Callable[..., AdapterClient]:
    """A factory ``adapter(verifier, **options)`` for the WSGI and then the ASGI client."""
    return WSGIAdapterClient if request.param == "wsgi" else ASGIAdapterClient
