"""What the two examples share: keys and users from the environment (or demo ones), the
token endpoints' logic, and the cookie flavour's settings.

Keys (set at most one; with none, a random HS256 key is made for this run only):
JWT_SECRET        an HMAC secret: verifies and signs (HS256 unless JWT_ALGORITHM says)
JWT_PRIVATE_KEY   a PEM private key, inline or a file path: verifies and signs
JWT_PUBLIC_KEY    a PEM public key, inline or a file path: verifies only
JWT_JWKS_URL      your identity provider's JWKS URL: verifies only
JWT_DISCOVERY     "1": the JWKS of JWT_ISSUER's OpenID discovery document: verifies only
Optional: JWT_ALGORITHM, JWT_ISSUER, JWT_AUDIENCE; PUBLIC_URL (the origin clients use,
e.g. https://api.example.com behind a TLS proxy) or TRUSTED_PROXIES (comma-separated
addresses or networks of the proxies whose X-Forwarded-* headers are believed): the one
origin configuration that the middleware (CSRF check, REQUIRE_HTTPS) and the cookies'
Secure flag read, the connection's own scheme otherwise; REQUIRE_HTTPS=1 (tokens over
plain http refused, loopback clients excepted); REDIS_URL (a denylist shared by every
instance; in memory otherwise); DEMO_USER and DEMO_PASSWORD (the one login; without a
password, a random one is made and printed). Secrets never live in code.
"""

from __future__ import annotations

import argparse
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jwt_middleware import (
    BearerHeader,
    MemoryDenylist,
    OriginPolicy,
    RedisDenylist,
    RemoteJWKS,
    RequestOrigin,
    StaticKey,
    TokenCookies,
    TokenIssuer,
    TokenPair,
    Verifier,
)
from jwt_middleware._revocation import Denylist

COOKIES = TokenCookies()  # access_token, refresh_token, csrf_token + X-CSRF-Token
SOURCES = (BearerHeader(), COOKIES.source)
EXEMPT = ("/health", "/login", "/refresh")
JSON_ONLY = {
    "error": "invalid_request",
    "error_description": "Send a JSON body (Content-Type: application/json)",
}
"""/login and /refresh take JSON alone: a cross-site page can post a form or text/plain
without a preflight, never application/json (login CSRF)."""


@dataclass(frozen=True)
class Demo:
    verifier: Verifier
    issuer: TokenIssuer | None  # None when the keys can only verify
    user: str
    password: str
    password_generated: bool
    key_generated: bool
    origin_options: dict[str, Any] = field(default_factory=dict)
    require_https: bool = False

    @cached_property
    def origins(self) -> OriginPolicy:
        """The request's public origin, configured exactly as the middleware's."""
        return OriginPolicy(
            self.origin_options.get("public_origin"), self.origin_options.get("trusted_proxies")
        )

    def middleware_options(self) -> dict[str, Any]:
        """The origin and transport options both examples give their middleware."""
        return {
            **self.origin_options,
            "require_https": self.require_https,
            "allow_loopback_http": True,
        }

    def secure_cookies(self, origin: RequestOrigin) -> bool:
        """Secure when the request's public origin is https (PUBLIC_URL, a trusted
        proxy, or the connection). Never from the Host header: the client writes it."""
        return origin.scheme == "https"

    def login(self, username: Any, password: Any) -> TokenPair | None:
        if self.issuer is None or not isinstance(username, str) or not isinstance(password, str):
            return None
        user_ok = hmac.compare_digest(username.encode(), self.user.encode())
        password_ok = hmac.compare_digest(password.encode(), self.password.encode())
        if not (user_ok and password_ok):
            return None
        return self.issuer.issue_pair(username, scopes=["read", "write"])


def configure(env: Mapping[str, str] = os.environ) -> Demo:
    algorithm = env.get("JWT_ALGORITHM") or None
    issuer_name, audience = env.get("JWT_ISSUER") or None, env.get("JWT_AUDIENCE") or None
    chosen = [
        name
        for name in (
            "JWT_SECRET",
            "JWT_PRIVATE_KEY",
            "JWT_PUBLIC_KEY",
            "JWT_JWKS_URL",
            "JWT_DISCOVERY",
        )
        if env.get(name)
    ]
    if len(chosen) > 1:
        raise SystemExit(f"set only one of {', '.join(chosen)}")
    denylist: Denylist = (
        RedisDenylist(env["REDIS_URL"]) if env.get("REDIS_URL") else MemoryDenylist()
    )
    signing: StaticKey | None = None
    keys: object
    if env.get("JWT_JWKS_URL"):
        keys = RemoteJWKS(env["JWT_JWKS_URL"])
    elif env.get("JWT_DISCOVERY") == "1":
        if not issuer_name:
            raise SystemExit("JWT_DISCOVERY=1 needs JWT_ISSUER")
        keys = RemoteJWKS.discover(issuer_name)
    elif env.get("JWT_PUBLIC_KEY") or env.get("JWT_PRIVATE_KEY"):
        pem = _pem(env.get("JWT_PRIVATE_KEY") or env["JWT_PUBLIC_KEY"])
        keys = StaticKey(pem, algorithm) if algorithm else StaticKey.infer(pem)
        signing = keys if env.get("JWT_PRIVATE_KEY") else None
    elif env.get("JWT_SECRET"):
        keys = signing = StaticKey(env["JWT_SECRET"], algorithm or "HS256")
    else:
        keys = signing = StaticKey(secrets.token_bytes(32), "HS256", kid="demo")
    issuer = None
    if signing is not None:
        issuer = TokenIssuer(
            signing,
            issuer=issuer_name,
            audience=audience,
            denylist=denylist,
            algorithm=algorithm if len(signing.algorithms) > 1 else None,
        )
    password = env.get("DEMO_PASSWORD") or ""
    return Demo(
        verifier=Verifier(keys, issuer=issuer_name, audience=audience, denylist=denylist),
        issuer=issuer,
        user=env.get("DEMO_USER") or "demo",
        password=password or secrets.token_urlsafe(12),
        password_generated=not password,
        key_generated=not chosen,
        origin_options=_origin_options(env),
        require_https=env.get("REQUIRE_HTTPS") == "1",
    )


def _origin_options(env: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if env.get("PUBLIC_URL"):
        parts = urlsplit(env["PUBLIC_URL"])
        options["public_origin"] = f"{parts.scheme}://{parts.netloc}"
    if env.get("TRUSTED_PROXIES"):
        options["trusted_proxies"] = [a.strip() for a in env["TRUSTED_PROXIES"].split(",")]
    return options


def _pem(value: str) -> str:
    return value if "-----BEGIN" in value else Path(value).read_text()


def refresh_token_from(
    body: Mapping[str, Any], headers: Mapping[str, str], cookies: Mapping[str, str]
) -> str | None:
    """The refresh token from the JSON body (header flavour) or from its cookie, which
    /refresh (public to the middleware) only accepts with the double-submit header."""
    token = body.get("refresh_token")
    if isinstance(token, str) and token:
        return token
    return COOKIES.refresh_token(cookies, headers)


def arguments(description: str, default_port: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    return parser.parse_args()


def announce(demo: Demo, base_url: str, *, login: bool = True) -> None:
    """Print how to call the service. A token is minted here only in demo mode."""
    lines = []
    if demo.issuer is not None and demo.key_generated:
        token = demo.issuer.issue("demo-user", scopes=["read", "write"])
        lines += [
            "Demo mode: a random HS256 key was made for this run "
            "(set JWT_SECRET, JWT_PRIVATE_KEY, JWT_PUBLIC_KEY or JWT_JWKS_URL to use yours).",
            f"  with a token (valid {demo.issuer.access_ttl // 60} min):",
            f"    curl -i -H 'Authorization: Bearer {token}' {base_url}/me",
        ]
    else:
        lines.append("Using the keys from the environment.")
    lines += ["  without a token (401):", f"    curl -i {base_url}/me"]
    if demo.issuer is not None and login:
        password = demo.password if demo.password_generated else "$DEMO_PASSWORD"
        lines += [
            "  log in for a token pair (POST /refresh and /logout take the refresh token):",
            f"    curl -i -X POST -H 'Content-Type: application/json' -d "
            f'\'{{"username": "{demo.user}", "password": "{password}"}}\' {base_url}/login',
        ]
    print("\n".join(lines), flush=True)
