"""Two Starlette apps for the load test, alike but for the middleware: ``bare`` and
``protected``. Served by uvicorn (see run.py); the secret comes from BENCH_SECRET."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwt_middleware import StaticKey, Verifier
from jwt_middleware.asgi import JWTMiddleware


async def me(request: Request) -> JSONResponse:
    user = request.scope.get("user")
    return JSONResponse({"user": user.display_name if user else "anonymous"})


_verifier = Verifier(
    StaticKey(os.environ.get("BENCH_SECRET", "x" * 32), "HS256"), audience="api://orders"
)
bare = Starlette(routes=[Route("/me", me)])
protected = Starlette(
    routes=[Route("/me", me)], middleware=[Middleware(JWTMiddleware, verifier=_verifier)]
)
