"""The project's Verifier, named in settings.JWT_MIDDLEWARE["VERIFIER"]."""

from __future__ import annotations

import os

from jwt_middleware import StaticKey, TokenIssuer, Verifier

from . import AUDIENCE, ISSUER


def key() -> StaticKey:
    return StaticKey(bytes.fromhex(os.environ["DJANGO_JWT_SECRET"]), algorithm="HS256")


def verifier() -> Verifier:
    return Verifier(key(), issuer=ISSUER, audience=AUDIENCE, roles_claims=["roles"])


def issuer() -> TokenIssuer:
    return TokenIssuer(key(), issuer=ISSUER, audience=AUDIENCE)
