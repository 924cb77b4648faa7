"""A Starlette service protected by the pure-ASGI middleware, served by uvicorn, with
token endpoints in both flavours: JSON for API clients, cookies for browsers.

Run it:  python examples/starlette_app.py  (then paste the printed curl lines)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from _demo import (
    COOKIES,
    EXEMPT,
    JSON_ONLY,
    SOURCES,
    announce,
    arguments,
    configure,
    refresh_token_from,
)
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from jwt_middleware import AuthError, SetCookie, TokenPair
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


async def login(request: Request) -> JSONResponse:
    body = await _body(request)
    if body is None:
        return JSONResponse(JSON_ONLY, status_code=415)
    pair = demo.login(body.get("username"), body.get("password"))
    if pair is None:
        return JSONResponse(
            {"error": "invalid_grant", "error_description": "Wrong credentials"}, status_code=401
        )
    return _with_session(request, pair)


async def refresh(request: Request) -> JSONResponse:
    body = await _body(request)
    if body is None:
        return JSONResponse(JSON_ONLY, status_code=415)
    token = refresh_token_from(body, request.headers, request.cookies)
    if token is None or demo.issuer is None:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "No refresh token"}, status_code=400
        )
    try:
        pair = await demo.issuer.arefresh(token)
    except AuthError as error:
        return JSONResponse(
            {"error": "invalid_grant", "error_description": error.description}, status_code=401
        )
    return _with_session(request, pair)


async def logout(request: Request) -> JSONResponse:
    """A protected route like any other: ends the caller's session, refresh tokens
    included, on every instance that shares the denylist."""
    if demo.issuer is not None:
        await demo.issuer.arevoke_claims(request.scope["jwt.claims"], session=True)
    response = JSONResponse({"logged_out": True})
    _set_cookies(
        response, COOKIES.clear(secure=demo.secure_cookies(demo.origins.for_scope(request.scope)))
    )
    return response


async def _body(request: Request) -> dict[str, Any] | None:
    """A JSON object body, {} for none, None for another content type (see JSON_ONLY)."""
    raw = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if raw and media_type != "application/json":
        return None
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _with_session(request: Request, pair: TokenPair) -> JSONResponse:
    response = JSONResponse(pair.as_dict(), headers={"Cache-Control": "no-store"})
    _set_cookies(
        response,
        COOKIES.set(pair, secure=demo.secure_cookies(demo.origins.for_scope(request.scope))),
    )
    return response


def _set_cookies(response: JSONResponse, cookies: list[SetCookie]) -> None:
    """The token cookies as the middleware's Cookie source and CSRF check read them."""
    for cookie in cookies:
        cookie.apply_to(response)


app = Starlette(
    routes=[
        Route("/me", me),
        Route("/write", write, methods=["POST"]),
        Route("/countdown", countdown),
        WebSocketRoute("/ws", echo),
        Route("/health", health),
        Route("/login", login, methods=["POST"]),
        Route("/refresh", refresh, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ],
    middleware=[
        Middleware(
            JWTMiddleware,
            verifier=demo.verifier,
            sources=SOURCES,
            exempt=EXEMPT,
            realm="starlette-example",
            **demo.middleware_options(),
        )
    ],
)


if __name__ == "__main__":
    args = arguments("Starlette service protected by jwt-middleware", 8000)
    announce(demo, f"http://{args.host}:{args.port}")
    # proxy_headers=False: TRUSTED_PROXIES is the one place forwarding headers are trusted
    # (uvicorn would otherwise rewrite the scheme and client from 127.0.0.1 by itself).
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=False)
