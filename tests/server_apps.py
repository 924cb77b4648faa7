"""Apps that the real-server tests start under gunicorn, uvicorn, daphne and hypercorn
(``tests.server_apps:NAME``). Keys and settings come from the environment the test
gives the server: ``SEAMS_SECRET`` (HS256), or ``SEAMS_JWKS_URL`` for remote keys."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request
from flask_cors import CORS
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from jwt_middleware import RemoteJWKS, StaticKey, Verifier
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi

EXEMPT = ["/public/", "/health"]
ORIGIN = "https://app.example"


def _verifier() -> Verifier:
    url = os.environ.get("SEAMS_JWKS_URL")
    if url:
        return Verifier(RemoteJWKS(url, timeout=float(os.environ.get("SEAMS_TIMEOUT", "5"))))
    return Verifier(StaticKey(os.environ["SEAMS_SECRET"], "HS256"))


# -- Starlette (ASGI) -------------------------------------------------------------------


async def _who(request: Request) -> JSONResponse:
    return JSONResponse({"route": request.url.path, "user": request.user.display_name})


async def _ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"hello {websocket.user.display_name}")
    await websocket.close()


_ROUTES = [
    Route("/admin", _who, methods=["GET", "OPTIONS"]),  # answers OPTIONS like GET
    Route("/health", _who),
    Route("/public/info", _who),
    WebSocketRoute("/ws", _ws),
]

starlette_app = Starlette(
    routes=_ROUTES,
    middleware=[Middleware(jwt_asgi.JWTMiddleware, verifier=_verifier(), exempt=EXEMPT)],
)
"""The JWT middleware alone: exempt entries against the routed path."""

starlette_cors_app = Starlette(
    routes=_ROUTES,
    middleware=[
        # CORS outside: it answers preflights itself and adds its headers to the 401s.
        Middleware(
            CORSMiddleware,
            allow_origins=[ORIGIN],
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization"],
        ),
        Middleware(jwt_asgi.JWTMiddleware, verifier=_verifier(), exempt=EXEMPT),
    ],
)


# -- Flask (WSGI) -----------------------------------------------------------------------


def _flask_routes(app: Flask, *, options_view: bool) -> None:
    methods = ["GET", "OPTIONS"] if options_view else ["GET"]

    @app.route("/admin", methods=methods)  # with options_view, answers OPTIONS like GET
    def admin() -> Any:
        return jsonify(route=request.path, user=request.remote_user)

    @app.get("/health")
    def health() -> Any:
        return jsonify(route=request.path, user=None)


flask_app = Flask(__name__)
_flask_routes(flask_app, options_view=True)
flask_app.wsgi_app = jwt_wsgi.JWTMiddleware(  # type: ignore[method-assign]
    flask_app.wsgi_app, verifier=_verifier(), exempt=EXEMPT
)

flask_cors_app = Flask(__name__)
_flask_routes(flask_cors_app, options_view=False)
# flask-cors lives inside Flask, so preflights must be let through (opt-in): safe only
# while no view lists OPTIONS itself, since Flask's automatic OPTIONS runs no view.
CORS(flask_cors_app, origins=[ORIGIN], allow_headers=["Authorization"])
flask_cors_app.wsgi_app = jwt_wsgi.JWTMiddleware(  # type: ignore[method-assign]
    flask_cors_app.wsgi_app, verifier=_verifier(), exempt=EXEMPT, allow_preflight=True
)
