"""Apps for the load test, alike but for the middleware: Starlette's ``bare`` and
``protected`` (served by uvicorn) and Flask's ``flask_bare`` and ``flask_protected``
(served by gunicorn); see run.py. The secret comes from BENCH_SECRET."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwt_middleware import StaticKey, TokenCredentials, TokenUser, Verifier
from jwt_middleware.asgi import JWTMiddleware
from jwt_middleware.wsgi import JWTMiddleware as WSGIMiddleware


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


# Ceilings for the uvicorn row: what any auth middleware costs before it verifies anything.


class _PassThrough:
    """An ASGI middleware that does nothing: the cost of one more layer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class _SetsUser(_PassThrough):
    """Sets what any auth middleware sets for Starlette (claims, ``user``, ``auth``),
    with no token read: the most a verifying middleware can reach."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        claims = {"sub": "user-1234567890"}
        scope["jwt.claims"] = claims
        scope["jwt.header"] = {"alg": "HS256"}
        scope["user"] = TokenUser(claims)
        scope["auth"] = TokenCredentials(())
        await self.app(scope, receive, send)


pass_through = Starlette(routes=[Route("/me", me)], middleware=[Middleware(_PassThrough)])
sets_user = Starlette(routes=[Route("/me", me)], middleware=[Middleware(_SetsUser)])


# The same for WSGI: a Flask app, bare and wrapped, served by gunicorn.

_flask_bare = Flask("bare")
_flask_protected = Flask("protected")


def _flask_me() -> Any:
    return jsonify(user=request.remote_user or "anonymous")


for _app in (_flask_bare, _flask_protected):
    _app.add_url_rule("/me", "me", _flask_me)

flask_bare = _flask_bare.wsgi_app
flask_protected = WSGIMiddleware(_flask_protected.wsgi_app, verifier=_verifier)
