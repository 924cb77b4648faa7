"""The apps of the server matrix (tests/test_server_matrix.py), started by real servers
as ``tests.matrix_apps:NAME``: each has a public route, a protected one, a streaming
response and, under ASGI, a websocket. HS256 with the key in ``MATRIX_SECRET``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

from flask import Flask, Response, jsonify
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from jwt_middleware import Rule, StaticKey, Verifier
from jwt_middleware import asgi as jwt_asgi
from jwt_middleware import wsgi as jwt_wsgi
from jwt_middleware.flask import get_identity

RULES = [Rule("/health", public=True)]


def _verifier() -> Verifier:
    return Verifier(StaticKey(os.environ["MATRIX_SECRET"], "HS256"))


# -- WSGI: Flask ------------------------------------------------------------------------

flask_app = Flask(__name__)


@flask_app.get("/health")
def _health() -> Any:
    return jsonify(status="ok")


@flask_app.get("/me")
def _me() -> Any:
    return jsonify(user=get_identity(), pid=os.getpid())


@flask_app.get("/stream")
def _stream() -> Response:
    user = get_identity()

    def lines() -> Iterator[bytes]:
        for n in (3, 2, 1):
            yield f"{n}\n".encode()
        yield f"liftoff, {user}\n".encode()

    return Response(lines(), mimetype="text/plain")


wsgi_app = jwt_wsgi.JWTMiddleware(flask_app.wsgi_app, verifier=_verifier(), rules=RULES)


# -- ASGI: Starlette --------------------------------------------------------------------


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def me(request: Request) -> JSONResponse:
    return JSONResponse(
        {"user": request.user.identity, "pid": os.getpid(), "http": request.scope["http_version"]}
    )


async def stream(request: Request) -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for n in (3, 2, 1):
            yield f"{n}\n".encode()
            await asyncio.sleep(0.01)
        yield f"liftoff, {request.user.identity}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"hello {websocket.user.identity}")
    await websocket.close()


asgi_app = jwt_asgi.JWTMiddleware(
    Starlette(
        routes=[
            Route("/health", health),
            Route("/me", me),
            Route("/stream", stream),
            WebSocketRoute("/ws", ws),
        ]
    ),
    verifier=_verifier(),
    rules=RULES,
)


# -- any WSGI or ASGI app: one small app per framework, reading what the middleware set --


def _falcon_wsgi() -> Any:
    import falcon

    class Health:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {"status": "ok"}

    class Me:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {"user": req.env["jwt.claims"]["sub"], "framework": "falcon-wsgi"}

    app = falcon.App()
    app.add_route("/health", Health())
    app.add_route("/me", Me())
    return jwt_wsgi.JWTMiddleware(app, verifier=_verifier(), rules=RULES)


def _falcon_asgi() -> Any:
    import falcon.asgi

    class Health:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {"status": "ok"}

    class Me:
        async def on_get(self, req: Any, resp: Any) -> None:
            claims = req.scope["jwt.claims"]
            resp.media = {"user": claims["sub"], "framework": "falcon-asgi"}

    app = falcon.asgi.App()
    app.add_route("/health", Health())
    app.add_route("/me", Me())
    return jwt_asgi.JWTMiddleware(app, verifier=_verifier(), rules=RULES)


def _bottle() -> Any:
    import bottle

    app = bottle.Bottle()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/me")
    def me() -> dict[str, str]:
        return {"user": bottle.request.environ["REMOTE_USER"], "framework": "bottle"}

    return jwt_wsgi.JWTMiddleware(app, verifier=_verifier(), rules=RULES)


def _pyramid() -> Any:
    from pyramid.config import Configurator

    def health(request: Any) -> dict[str, str]:
        return {"status": "ok"}

    def me(request: Any) -> dict[str, str]:
        return {"user": request.environ["jwt.claims"]["sub"], "framework": "pyramid"}

    with Configurator() as config:
        config.add_route("health", "/health")
        config.add_view(health, route_name="health", renderer="json")
        config.add_route("me", "/me")
        config.add_view(me, route_name="me", renderer="json")
        app = config.make_wsgi_app()
    return jwt_wsgi.JWTMiddleware(app, verifier=_verifier(), rules=RULES)


def _quart() -> Any:
    from quart import Quart, websocket
    from quart import request as quart_request

    app = Quart(__name__)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/me")
    async def me() -> dict[str, str]:
        return {"user": quart_request.scope["jwt.claims"]["sub"], "framework": "quart"}

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send(f"hello {websocket.scope['jwt.claims']['sub']}")

    return jwt_asgi.JWTMiddleware(app, verifier=_verifier(), rules=RULES)


def _litestar() -> Any:
    from litestar import Litestar, get, websocket_listener

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/me")
    async def me(request: Request[Any, Any, Any]) -> dict[str, str]:
        return {"user": request.scope["jwt.claims"]["sub"], "framework": "litestar"}  # type: ignore[typeddict-item]

    @websocket_listener("/ws")
    async def ws(data: str, socket: WebSocket[Any, Any, Any]) -> str:
        return f"{data} {socket.scope['jwt.claims']['sub']}"  # type: ignore[typeddict-item]

    app = Litestar(route_handlers=[health, me, ws])
    return jwt_asgi.JWTMiddleware(app, verifier=_verifier(), rules=RULES)


falcon_wsgi_app = _falcon_wsgi()
falcon_asgi_app = _falcon_asgi()
bottle_app = _bottle()
pyramid_app = _pyramid()
quart_app = _quart()
litestar_app = _litestar()
