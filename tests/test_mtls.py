"""Certificate-bound tokens (RFC 8705): a real TLS server on loopback that requires
client certificates (werkzeug's, which hands the certificate to the app), the ASGI
``tls`` extension, and the header a TLS-terminating proxy sets, believed only from
trusted proxies. Certificates are made here with ``cryptography``."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server

from jwt_middleware import ClientCertificates, Verifier
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi
from jwt_middleware._encoding import b64url_encode

from .conftest import Keys, TokenFactory, asgi_echo, wsgi_echo
from .helpers import call_asgi


@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def x5t(self) -> str:
        return b64url_encode(
            hashlib.sha256(self.cert.public_bytes(serialization.Encoding.DER)).digest()
        )

    def write(self, directory: Path, name: str) -> tuple[str, str]:
        cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
        cert_path.write_text(self.pem)
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return str(cert_path), str(key_path)


def _issue(name: str, issuer: Issued | None, *, ca: bool = False, server: bool = False) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Issued(cert, key)


@dataclass
class PKI:
    ca: Issued
    server: Issued
    alice: Issued
    mallory: Issued


@pytest.fixture(scope="module")
def pki() -> PKI:
    ca = _issue("test CA", None, ca=True)
    return PKI(
        ca,
        _issue("127.0.0.1", ca, server=True),
        _issue("alice-client", ca),
        _issue("mallory-client", ca),
    )


@pytest.fixture
def tls_server(pki: PKI, tmp_path: Path, keys: Keys) -> Iterator[str]:
    """werkzeug's server over TLS, requiring a client certificate from our CA."""
    cert, key = pki.server.write(tmp_path, "server")
    ca_path = tmp_path / "ca.crt"
    ca_path.write_text(pki.ca.pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(str(ca_path))
    context.verify_mode = ssl.CERT_REQUIRED
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: 1_700_000_000)
    app = jwt_wsgi.JWTMiddleware(
        wsgi_echo, verifier=verifier, client_certificates=ClientCertificates()
    )
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _client(pki: PKI, who: Issued, tmp_path: Path) -> httpx.Client:
    cert, key = who.write(tmp_path, "client")
    context = ssl.create_default_context(cadata=pki.ca.pem)
    context.load_cert_chain(cert, key)
    return httpx.Client(verify=context, timeout=5)


def test_a_real_tls_server_with_client_certificates(
    tls_server: str, pki: PKI, tmp_path: Path, make_token: TokenFactory
) -> None:
    bound = make_token(cnf={"x5t#S256": pki.alice.x5t})
    with _client(pki, pki.alice, tmp_path) as alice:
        reply = alice.get(f"{tls_server}/api", headers={"Authorization": f"Bearer {bound}"})
        assert reply.status_code == 200, reply.text
        assert reply.json()["claims"]["cnf"] == {"x5t#S256": pki.alice.x5t}
        # An unbound token still works as a bearer token on the same connection.
        assert (
            alice.get(
                f"{tls_server}/api", headers={"Authorization": f"Bearer {make_token()}"}
            ).status_code
            == 200
        )
    with _client(pki, pki.mallory, tmp_path) as mallory:  # a stolen token, another certificate
        reply = mallory.get(f"{tls_server}/api", headers={"Authorization": f"Bearer {bound}"})
        assert reply.status_code == 401
        assert reply.json()["error"] == "invalid_token"
        assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]


def _asgi_tls(
    app: Any, token: str, chain: list[str] | None, headers: list[tuple[str, str]] = ()
) -> int:
    import asyncio

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/api",
        "raw_path": b"/api",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"api.example"),
            (b"authorization", f"Bearer {token}".encode()),
            *[(k.lower().encode(), v.encode()) for k, v in headers],
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("api.example", 443),
        "extensions": {}
        if chain is None
        else {"tls": {"client_cert_chain": chain, "tls_version": 0x0304}},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return int(sent[0]["status"])


def test_the_asgi_tls_extension(pki: PKI, keys: Keys, make_token: TokenFactory) -> None:
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: 1_700_000_000)
    app = jwt_asgi.JWTMiddleware(
        asgi_echo, verifier=verifier, client_certificates=ClientCertificates()
    )
    bound = make_token(cnf={"x5t#S256": pki.alice.x5t})
    assert _asgi_tls(app, bound, [pki.alice.pem, pki.ca.pem]) == 200
    assert _asgi_tls(app, bound, [pki.mallory.pem]) == 401
    assert _asgi_tls(app, bound, None) == 401
    assert _asgi_tls(app, bound, []) == 401


@pytest.mark.parametrize(
    "encode",
    [
        lambda pem: quote(pem, safe=""),  # nginx $ssl_client_escaped_cert, AWS ALB
        lambda pem: pem.replace("\n", " ").strip(),  # PEM on one line
        lambda pem: "".join(pem.splitlines()[1:-1]),  # base64 DER (Traefik)
    ],
    ids=["url-encoded-pem", "one-line-pem", "base64-der"],
)
def test_the_proxy_header_from_trusted_proxies_only(
    pki: PKI, keys: Keys, make_token: TokenFactory, encode: Any
) -> None:
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: 1_700_000_000)
    bound = make_token(cnf={"x5t#S256": pki.alice.x5t})
    header = [("X-Client-Cert", encode(pki.alice.pem))]
    certificates = ClientCertificates(header="X-Client-Cert")

    def app(proxies: list[str]) -> Any:
        return jwt_asgi.JWTMiddleware(
            asgi_echo, verifier=verifier, client_certificates=certificates, trusted_proxies=proxies
        )

    assert _asgi_tls(app(["127.0.0.1"]), bound, None, header) == 200
    assert (
        _asgi_tls(app(["10.0.0.1"]), bound, None, header) == 401
    )  # the peer is not a proxy of ours
    mallory = [("X-Client-Cert", encode(pki.mallory.pem))]
    assert _asgi_tls(app(["127.0.0.1"]), bound, None, mallory) == 401


@pytest.mark.parametrize(
    "value",
    [
        "not a certificate",
        "%ZZ",
        "-----BEGIN CERTIFICATE-----AAAA-----END CERTIFICATE-----",
        "A" * 20000,
    ],
)
def test_a_broken_certificate_header_is_400(
    pki: PKI, keys: Keys, make_token: TokenFactory, value: str
) -> None:
    verifier = Verifier(keys.verification_key("HS256"), clock=lambda: 1_700_000_000)
    app = jwt_asgi.JWTMiddleware(
        asgi_echo,
        verifier=verifier,
        client_certificates=ClientCertificates(header="X-Client-Cert"),
        trusted_proxies=["127.0.0.1"],
    )
    bound = make_token(cnf={"x5t#S256": pki.alice.x5t})
    assert _asgi_tls(app, bound, None, [("X-Client-Cert", value)]) == 400


def test_without_client_certificates_a_bound_token_is_refused(
    pki: PKI, hs_verifier: Verifier, make_token: TokenFactory
) -> None:
    app = jwt_asgi.JWTMiddleware(asgi_echo, verifier=hs_verifier)
    assert _asgi_tls(app, make_token(cnf={"x5t#S256": pki.alice.x5t}), [pki.alice.pem]) == 401
    reply = call_asgi(
        app,
        "/api",
        headers=[("Authorization", f"Bearer {make_token(cnf={'x5t#S256': pki.alice.x5t})}")],
    )
    assert reply.json()["error"] == "invalid_token"


@pytest.mark.slow
@pytest.mark.parametrize(("proxies", "status"), [("127.0.0.1", 200), ("10.0.0.1", 401)])
def test_the_proxy_header_under_uvicorn(pki: PKI, proxies: str, status: int) -> None:
    """As a TLS-terminating proxy on loopback would send it (nginx's URL-encoded PEM),
    through a real server; the header is believed only from a trusted address."""
    import secrets

    from jwt_middleware import StaticKey, TokenIssuer

    from .servers import free_port, running

    secret = secrets.token_bytes(32)
    issuer = TokenIssuer(StaticKey(secret, "HS256"))
    token = issuer.issue("alice")  # unbound: a bearer token, whoever sends it
    bound = issuer._sign(
        "at+jwt", {"sub": "alice", "exp": 4_000_000_000, "cnf": {"x5t#S256": pki.alice.x5t}}
    )
    port = free_port()
    argv = [
        "uvicorn",
        "--factory",
        "tests.sender_apps:certificate_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-proxy-headers",
    ]
    env = {"MTLS_SECRET": secret.hex(), "MTLS_PROXIES": proxies}
    with running(argv, port, env):
        url = f"http://127.0.0.1:{port}/api/me"
        headers = {
            "Authorization": f"Bearer {bound}",
            "X-Client-Cert": quote(pki.alice.pem, safe=""),
        }
        assert httpx.get(url, headers=headers, timeout=5).status_code == status
        other = {**headers, "X-Client-Cert": quote(pki.mallory.pem, safe="")}
        assert httpx.get(url, headers=other, timeout=5).status_code == 401
        assert (
            httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code
            == 200
        )
