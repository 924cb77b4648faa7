"""DPoP-verified requests look like bearer ones to the frameworks' own idioms: FastAPI's
``JWTBearer`` (behind the middleware and alone), Django's middleware and DRF behind it,
Flask's ``JWT`` extension with ``@jwt_required``; each can read the proof key's
thumbprint, and nonce rotation reaches the response.

(No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations,
which name local variables.)"""

import time
from typing import Annotated, Any

import pytest

from jwt_middleware import DPoP, DPoPKey, DPoPNonces, StaticKey, TokenIssuer, Verifier

from .django_project import setup

setup()

from django.conf import settings  # noqa: E402
from django.test import Client as DjangoClient  # noqa: E402
from django.test import override_settings  # noqa: E402

from .django_project import auth as django_auth  # noqa: E402

SECRET = b"s" * 32


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(StaticKey(SECRET, "HS256"))


@pytest.fixture
def verifier() -> Verifier:
    return Verifier(StaticKey(SECRET, "HS256"), token_types=["at+jwt"])


def dpop_headers(key: DPoPKey, token: str, url: str, **proof: Any) -> dict[str, str]:
    return {
        "Authorization": f"DPoP {token}",
        "DPoP": key.proof("GET", url, access_token=token, **proof),
    }


# -- FastAPI ------------------------------------------------------------------------------


def test_fastapi_behind_the_middleware_and_alone(issuer: TokenIssuer, verifier: Verifier) -> None:
    from fastapi import Depends, FastAPI, Request, Security
    from fastapi.testclient import TestClient

    from jwt_middleware.asgi import JWTMiddleware
    from jwt_middleware.fastapi import JWTBearer, add_exception_handlers

    key = DPoPKey.generate()
    token = issuer.issue("alice", scopes=["read"], dpop_jkt=key.thumbprint)

    def build(auth: JWTBearer, middleware: bool) -> TestClient:
        app = FastAPI()
        add_exception_handlers(app)

        @app.get("/me")
        async def me(
            request: Request, claims: Annotated[dict[str, Any], Depends(auth)]
        ) -> dict[str, Any]:
            return {"sub": claims["sub"], "jkt": request.scope.get("jwt.dpop_jkt")}

        @app.get("/admin")
        async def admin(
            claims: Annotated[dict[str, Any], Security(auth, scopes=["admin"])],
        ) -> dict[str, Any]:
            return claims

        if middleware:
            app.add_middleware(JWTMiddleware, verifier=verifier, dpop=DPoP())
        return TestClient(app, base_url="http://testserver")

    for client in (build(JWTBearer(), True), build(JWTBearer(verifier, dpop=DPoP()), False)):
        reply = client.get("/me", headers=dpop_headers(key, token, "http://testserver/me"))
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"sub": "alice", "jkt": key.thumbprint}
        forbidden = client.get(
            "/admin", headers=dpop_headers(key, token, "http://testserver/admin")
        )
        assert forbidden.status_code == 403
        assert forbidden.json()["error"] == "insufficient_scope"
        # A stolen token as a bearer token: refused, with both challenges in one header.
        stolen = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert stolen.status_code == 401
        assert stolen.headers["WWW-Authenticate"].count("DPoP algs=") == 1


# -- Django and DRF -------------------------------------------------------------------------


def test_django_middleware_with_nonces_and_drf_behind_it() -> None:
    key = DPoPKey.generate()
    token = django_auth.issuer().issue("alice", scopes=["read"], dpop_jkt=key.thumbprint)
    nonces = DPoPNonces("n" * 32, lifetime=60)
    options = {**settings.JWT_MIDDLEWARE, "DPOP": DPoP(nonces=nonces)}
    with override_settings(JWT_MIDDLEWARE=options):
        client = DjangoClient()
        first = client.get("/api/me", headers=dpop_headers(key, token, "http://testserver/api/me"))
        assert first.status_code == 401
        assert first.json()["error"] == "use_dpop_nonce"
        assert first["DPoP-Nonce"] == nonces.current(time.time())
        # Django keeps one value per header: the two challenges share one.
        assert first["WWW-Authenticate"].startswith('Bearer realm="api", DPoP algs=')
        nonce = first["DPoP-Nonce"]
        reply = client.get(
            "/api/me", headers=dpop_headers(key, token, "http://testserver/api/me", nonce=nonce)
        )
        assert reply.status_code == 200, reply.content
        assert reply.json()["user"] == "alice"
        assert reply.json()["dpop_jkt"] == key.thumbprint
        drf = client.get(
            "/drf/me", headers=dpop_headers(key, token, "http://testserver/drf/me", nonce=nonce)
        )
        assert drf.status_code == 200, drf.content
        # An old nonce still works for one window, and the answer carries the new one.
        old = nonces._nonce(int(time.time() // 60) - 1)
        rotated = client.get(
            "/api/me", headers=dpop_headers(key, token, "http://testserver/api/me", nonce=old)
        )
        assert rotated.status_code == 200
        assert rotated["DPoP-Nonce"] == nonces.current(time.time())


# -- Flask ----------------------------------------------------------------------------------


def test_flask_extension_and_jwt_required(issuer: TokenIssuer, verifier: Verifier) -> None:
    from flask import Flask, jsonify

    from jwt_middleware.flask import JWT, current_dpop_jkt, get_identity, jwt_required

    app = Flask(__name__)
    JWT(app, verifier, dpop=DPoP())

    @app.get("/me")
    @jwt_required()
    def me() -> Any:
        return jsonify(sub=get_identity(), jkt=current_dpop_jkt())

    key = DPoPKey.generate()
    token = issuer.issue("alice", dpop_jkt=key.thumbprint)
    client = app.test_client()
    reply = client.get("/me", headers=dpop_headers(key, token, "http://localhost/me"))
    assert reply.status_code == 200, reply.data
    assert reply.json == {"sub": "alice", "jkt": key.thumbprint}
    stolen = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert stolen.status_code == 401
    challenges = stolen.headers.getlist("WWW-Authenticate")
    assert [c.split()[0] for c in challenges] == ["Bearer", "DPoP"]
