"""Apps for the sender-constrained tests with real servers, configured from the
environment, served by uvicorn and gunicorn on loopback: a Starlette app (ASGI) and a
Flask app (WSGI) behind the middleware with DPoP, keys from the test's OpenID Provider
and the replay cache in the Redis the test names (tests/test_dpop_real.py); and an app
taking certificate-bound tokens from a proxy's header (tests/test_mtls.py)."""

from __future__ import annotations

import os
from typing import Any

from jwt_middleware import DPoP, RedisReplayCache, RemoteJWKS, Verifier


def _verifier() -> Verifier:
    issuer = os.environ["DPOP_ISSUER"]
    return Verifier(
        RemoteJWKS(f"{issuer}/jwks"),
        issuer=issuer,
        audience=os.environ["DPOP_AUDIENCE"],
        token_types=["at+jwt"],
    )


def _options() -> dict[str, Any]:
    replay = RedisReplayCache(os.environ["DPOP_REDIS"], prefix=os.environ["DPOP_PREFIX"])
    return {"dpop": DPoP(replay=replay)}


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    from jwt_middleware.asgi import JWTMiddleware

    async def me(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "sub": request.user.identity,
                "jkt": request.scope.get("jwt.dpop_jkt"),
                "pid": os.getpid(),
            }
        )

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(
            {"sub": websocket.user.identity, "jkt": websocket.scope.get("jwt.dpop_jkt")}
        )
        await websocket.close()

    app = Starlette(routes=[Route("/api/me", me), WebSocketRoute("/ws", echo)])
    app.add_middleware(JWTMiddleware, verifier=_verifier(), **_options())
    return app


def flask_app() -> Any:
    from flask import Flask, jsonify, request

    from jwt_middleware.wsgi import JWTMiddleware

    app = Flask(__name__)

    @app.get("/api/me")
    def me() -> Any:
        return jsonify(
            sub=request.environ["jwt.claims"]["sub"],
            jkt=request.environ.get("jwt.dpop_jkt"),
            pid=os.getpid(),
        )

    app.wsgi_app = JWTMiddleware(app.wsgi_app, verifier=_verifier(), **_options())  # type: ignore[method-assign]
    return app


def certificate_app() -> Any:
    """Certificate-bound tokens from ``X-Client-Cert``, believed from MTLS_PROXIES."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from jwt_middleware import ClientCertificates, StaticKey
    from jwt_middleware.asgi import JWTMiddleware

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.user.identity})

    app = Starlette(routes=[Route("/api/me", me)])
    app.add_middleware(
        JWTMiddleware,
        verifier=Verifier(StaticKey(bytes.fromhex(os.environ["MTLS_SECRET"]), "HS256")),
        client_certificates=ClientCertificates(header="X-Client-Cert"),
        trusted_proxies=os.environ["MTLS_PROXIES"].split(","),
    )
    return app
