"""The same trivial apps, bare, protected by us, and protected by the peers: Flask with
flask-jwt-extended's @jwt_required, Starlette with its AuthenticationMiddleware and a
python-jose backend (the usual recipe). Called directly, without a server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, request
from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required
from floor import floor_verify, signature_check
from jose import jwt as jose_jwt
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwt_middleware import Verifier
from jwt_middleware.asgi import JWTMiddleware as ASGIMiddleware
from jwt_middleware.wsgi import JWTMiddleware as WSGIMiddleware

WSGIApp = Callable[..., Any]


class FloorWSGI:
    """The floor's work (benchmarks/floor.py) as a WSGI middleware: what any verifying
    middleware spends at least, measured inside the same app as everyone else."""

    def __init__(self, app: WSGIApp, secret: bytes, audience: str) -> None:
        self.app, self.check, self.audience = app, signature_check("HS256", secret), audience

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        claims = floor_verify(environ["HTTP_AUTHORIZATION"][7:], self.check, self.audience)
        environ["jwt.claims"], environ["REMOTE_USER"] = claims, claims["sub"]
        return self.app(environ, start_response)


class FloorASGI:
    """:class:`FloorWSGI` for ASGI."""

    def __init__(self, app: Any, secret: bytes, audience: str) -> None:
        self.app, self.check, self.audience = app, signature_check("HS256", secret), audience

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            credentials = dict(scope["headers"])[b"authorization"].decode("latin-1")
            scope["jwt.claims"] = floor_verify(credentials[7:], self.check, self.audience)
        await self.app(scope, receive, send)


def flask_apps(secret: bytes, audience: str, issuer: str, verifier: Verifier) -> dict[str, WSGIApp]:
    bare = Flask("bare")
    bare.add_url_rule("/orders", "orders", lambda: jsonify(user="user-1234567890"))

    ours = Flask("ours")
    ours.add_url_rule("/orders", "orders", lambda: jsonify(user=request.remote_user))
    ours.wsgi_app = WSGIMiddleware(ours.wsgi_app, verifier=verifier)  # type: ignore[method-assign]

    peer = Flask("flask_jwt_extended")
    peer.config.update(
        JWT_SECRET_KEY=secret.decode(), JWT_DECODE_AUDIENCE=audience, JWT_DECODE_ISSUER=issuer
    )
    JWTManager(peer)

    @jwt_required()
    def orders() -> Any:
        return jsonify(user=get_jwt_identity())

    peer.add_url_rule("/orders", "orders", orders)

    floor = Flask("floor")
    floor.add_url_rule("/orders", "orders", lambda: jsonify(user=request.remote_user))
    floor.wsgi_app = FloorWSGI(floor.wsgi_app, secret, audience)  # type: ignore[method-assign]
    return {"bare": bare.wsgi_app, "ours": ours, "flask-jwt-extended": peer, "floor": floor}


class JoseBackend(AuthenticationBackend):
    """The common Starlette recipe: python-jose's jwt.decode in an auth backend."""

    def __init__(self, secret: bytes, audience: str, issuer: str) -> None:
        self.secret, self.audience, self.issuer = secret, audience, issuer

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser]:
        scheme, _, token = conn.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError("no token")
        claims = jose_jwt.decode(
            token, self.secret, algorithms=["HS256"], audience=self.audience, issuer=self.issuer
        )
        return AuthCredentials(claims.get("scope", "").split()), SimpleUser(claims["sub"])


async def _orders(request: Request) -> JSONResponse:
    user = request.scope.get("user")
    return JSONResponse({"user": user.display_name if user else "user-1234567890"})


def starlette_apps(secret: bytes, audience: str, issuer: str, verifier: Verifier) -> dict[str, Any]:
    routes = [Route("/orders", _orders)]
    return {
        "bare": Starlette(routes=routes),
        "ours": Starlette(
            routes=routes, middleware=[Middleware(ASGIMiddleware, verifier=verifier)]
        ),
        "AuthenticationMiddleware+python-jose": Starlette(
            routes=routes,
            middleware=[
                Middleware(AuthenticationMiddleware, backend=JoseBackend(secret, audience, issuer))
            ],
        ),
        "floor": Starlette(
            routes=routes, middleware=[Middleware(FloorASGI, secret=secret, audience=audience)]
        ),
    }


def wsgi_environ(token: str) -> dict[str, Any]:
    import io

    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/orders",
        "QUERY_STRING": "",
        "SERVER_NAME": "api.example",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "HTTP_HOST": "api.example",
        "HTTP_ACCEPT": "*/*",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
    }


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> bytes:
    status: list[str] = []
    body = app(dict(environ), lambda s, h, e=None: status.append(s))
    data = b"".join(body)
    if not status or not status[0].startswith("200"):
        raise AssertionError(f"{status} {data!r}")
    return data


def asgi_scope(token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/orders",
        "raw_path": b"/orders",
        "query_string": b"",
        "root_path": "",
        "server": ("api.example", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"api.example"),
            (b"accept", b"*/*"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    }


async def call_asgi(app: Any, scope: dict[str, Any]) -> None:
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(dict(scope), receive, send)
    if status != [200]:
        raise AssertionError(status)
