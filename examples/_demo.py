"""Configuration shared by the examples: your keys from the environment, or a demo key.

JWT_SECRET        an HMAC secret (HS256 unless JWT_ALGORITHM says otherwise)
JWT_PUBLIC_KEY    a PEM public key, inline or as a file path (algorithm from the key)
JWT_JWKS_URL      your identity provider's JWKS URL (keys fetched, cached, rotated)
JWT_DISCOVERY     "1": find the JWKS through JWT_ISSUER's OpenID discovery document
JWT_ALGORITHM     optional: pin the algorithm
JWT_ISSUER        optional: required iss
JWT_AUDIENCE      optional: required aud

With none of them set, a random HS256 key is made for this run only and a short-lived
token signed with it is printed, ready to paste. Secrets never live in code.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from jose import jwt

from jwt_middleware import RemoteJWKS, StaticKey, Verifier

DEMO_TTL = 15 * 60


@dataclass(frozen=True)
class Demo:
    verifier: Verifier
    demo_token: str | None  # set only when the key was generated for this run


def configure(env: os._Environ[str] | dict[str, str] = os.environ) -> Demo:
    secret, public_key = env.get("JWT_SECRET"), env.get("JWT_PUBLIC_KEY")
    algorithm = env.get("JWT_ALGORITHM") or None
    issuer, audience = env.get("JWT_ISSUER") or None, env.get("JWT_AUDIENCE") or None
    jwks_url, discovery = env.get("JWT_JWKS_URL"), env.get("JWT_DISCOVERY") == "1"
    if sum(map(bool, (secret, public_key, jwks_url, discovery))) > 1:
        raise SystemExit("set one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL, JWT_DISCOVERY")
    if discovery and not issuer:
        raise SystemExit("JWT_DISCOVERY=1 needs JWT_ISSUER")
    demo_token = None
    keys: object
    if jwks_url:
        keys = RemoteJWKS(jwks_url)
    elif discovery and issuer:
        keys = RemoteJWKS.discover(issuer)
    elif public_key:
        pem = public_key if "-----BEGIN" in public_key else Path(public_key).read_text()
        keys = StaticKey(pem, algorithm) if algorithm else StaticKey.infer(pem)
    elif secret:
        keys = StaticKey(secret, algorithm or "HS256")
    else:
        demo_secret = secrets.token_bytes(32)
        keys = StaticKey(demo_secret, "HS256", kid="demo")
        now = int(time.time())
        claims = {
            "sub": "demo-user",
            "iat": now,
            "nbf": now,
            "exp": now + DEMO_TTL,
            "scope": "read write",
            "iss": issuer,
            "aud": audience,
        }
        demo_token = jwt.encode(
            {k: v for k, v in claims.items() if v is not None},
            demo_secret,
            algorithm="HS256",
            headers={"kid": "demo"},
        )
    return Demo(Verifier(keys, issuer=issuer, audience=audience), demo_token)


def arguments(description: str, default_port: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    return parser.parse_args()


def announce(demo: Demo, base_url: str, path: str) -> None:
    """Print how to call the service; the demo token only exists in demo mode."""
    if demo.demo_token is None:
        print(f"Using the keys from the environment. Try: curl -i {base_url}{path}", flush=True)
        return
    print(
        "Demo mode: a random HS256 key was made for this run "
        "(set JWT_SECRET or JWT_PUBLIC_KEY to use yours).",
        flush=True,
    )
    print(f"  with a token (valid {DEMO_TTL // 60} min):", flush=True)
    print(f"    curl -i -H 'Authorization: Bearer {demo.demo_token}' {base_url}{path}", flush=True)
    print("  without a token (401):", flush=True)
    print(f"    curl -i {base_url}{path}", flush=True)
