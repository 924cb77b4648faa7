"""A Starlette service protected by the pure-ASGI middleware, served by uvicorn.

Run it:  python examples/starlette_app.py  (then paste the printed curl line)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import uvicorn
from _demo import announce, arguments, configure
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from jwt_middleware.asgi import JWTMiddleware

demo = configure()


async def me(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "user": request.user.display_name,
            "scopes": request.auth.scopes,
            "claims": request.scope["jwt.claims"],
        }
    )


@requires("write")
async def write(request: Request) -> JSONResponse:
    return JSONResponse({"written_by": request.user.display_name}, status_code=201)


async def countdown(request: Request) -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for n in range(3, 0, -1):
            yield f"{n}\n".encode()
            await asyncio.sleep(0.05)
        yield f"liftoff, {request.user.display_name}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"hello {websocket.user.display_name}")
    async for message in websocket.iter_text():
        await websocket.send_text(message)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/me", me),
        Route("/write", write, methods=["POST"]),
        Route("/countdown", countdown),
        WebSocketRoute("/ws", echo),
        Route("/health", health),
    ],
    middleware=[
        Middleware(
            JWTMiddleware, verifier=demo.verifier, exempt=["/health"], realm="starlette-example"
        )
    ],
)


if __name__ == "__main__":
    args = arguments("Starlette service protected by jwt-middleware", 8000)
    announce(demo, f"http://{args.host}:{args.port}", "/me")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
