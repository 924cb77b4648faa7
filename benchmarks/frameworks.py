"""The framework integrations against the idioms users would otherwise write, on the same
route and token: FastAPI with ``JWTBearer`` against ``HTTPBearer`` plus PyJWT's
``jwt.decode`` in a dependency (what FastAPI's documentation teaches), and DRF with
``JWTAuthentication`` against djangorestframework-simplejwt (its stateless class, so
neither side reads a database). Apps are called in-process, no server."""

from typing import Annotated, Any

import jwt as pyjwt
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from floor import floor_verify, signature_check

from jwt_middleware import Verifier
from jwt_middleware.asgi import JWTMiddleware
from jwt_middleware.fastapi import JWTBearer

# No `from __future__ import annotations` in this module: FastAPI reads the routes'
# annotations, which name local dependencies.


def fastapi_apps(
    secret: bytes, audience: str, issuer: str, first_sight: Verifier, cached: Verifier
) -> dict[str, FastAPI]:
    """The same GET /orders route, bare and behind each way of authenticating it."""

    def app_with(dependency: Any) -> FastAPI:
        app = FastAPI(openapi_url=None)

        @app.get("/orders")
        async def orders(claims: Annotated[dict[str, Any], Depends(dependency)]) -> dict[str, Any]:
            return {"user": claims["sub"]}

        return app

    bare = FastAPI(openapi_url=None)

    @bare.get("/orders")
    async def orders() -> dict[str, Any]:
        return {"user": "user-1234567890"}

    idiom_scheme = HTTPBearer()

    async def decode(
        credentials: Annotated[HTTPAuthorizationCredentials, Security(idiom_scheme)],
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = pyjwt.decode(
                credentials.credentials,
                secret,
                algorithms=["HS256"],
                audience=audience,
                issuer=issuer,
            )
        except pyjwt.InvalidTokenError as exc:
            raise HTTPException(401, "Invalid token") from exc
        return claims

    check = signature_check("HS256", secret)

    async def floor(
        credentials: Annotated[HTTPAuthorizationCredentials, Security(idiom_scheme)],
    ) -> dict[str, Any]:
        claims: dict[str, Any] = floor_verify(credentials.credentials, check, audience)
        return claims

    async def nothing() -> dict[str, Any]:
        return {"sub": "user-1234567890"}

    behind = app_with(JWTBearer())
    behind.add_middleware(JWTMiddleware, verifier=cached)
    return {
        "bare": bare,
        "a dependency doing nothing": app_with(nothing),
        "floor as the dependency": app_with(floor),
        "JWTBearer": app_with(JWTBearer(first_sight)),
        "JWTBearer cached": app_with(JWTBearer(cached)),
        "middleware + JWTBearer": behind,
        "HTTPBearer + PyJWT": app_with(decode),
    }


def drf_views(
    secret: bytes, audience: str, issuer: str, first_sight: Verifier, cached: Verifier
) -> tuple[dict[str, Any], Any]:
    """DRF views for GET /orders (bare, ours first sight and cached, simplejwt), and a
    request factory. Configures Django in this process (once)."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="benchmarks-only",
            ALLOWED_HOSTS=["*"],
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "rest_framework",
            ],
            DATABASES={},
            REST_FRAMEWORK={"UNAUTHENTICATED_USER": None},
            SIMPLE_JWT={
                "ALGORITHM": "HS256",
                "SIGNING_KEY": secret.decode(),
                "AUDIENCE": audience,
                "ISSUER": issuer,
                "USER_ID_CLAIM": "sub",
                "TOKEN_TYPE_CLAIM": None,
                "JTI_CLAIM": None,
            },
        )
        django.setup()
    from django.test import RequestFactory
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.permissions import AllowAny, IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView
    from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

    from jwt_middleware.django import JWTAuthentication

    class FirstSight(JWTAuthentication):
        verifier = first_sight

    class Cached(JWTAuthentication):
        verifier = cached

    check = signature_check("HS256", secret)

    class Floor(BaseAuthentication):
        """The floor's work (benchmarks/floor.py) as an authentication class."""

        def authenticate(self, request: Any) -> Any:
            token = request.META["HTTP_AUTHORIZATION"].split(" ", 1)[1]
            claims = floor_verify(token, check, audience)
            return _User(claims["sub"]), claims

    class Nothing(BaseAuthentication):
        def authenticate(self, request: Any) -> Any:
            return _User("user-1234567890"), {}

    def view(authentication: Any) -> Any:
        class Orders(APIView):
            authentication_classes = (authentication,) if authentication else ()
            permission_classes = (IsAuthenticated,) if authentication else (AllowAny,)

            def get(self, request: Any) -> Response:
                user = request.user
                return Response({"user": str(getattr(user, "pk", None) or "user-1234567890")})

        return Orders.as_view()

    return {
        "bare": view(None),
        "an authentication doing nothing": view(Nothing),
        "floor as the authentication": view(Floor),
        "JWTAuthentication": view(FirstSight),
        "JWTAuthentication cached": view(Cached),
        "simplejwt (stateless)": view(JWTStatelessUserAuthentication),
    }, RequestFactory()


class _User:
    is_authenticated = True

    def __init__(self, pk: str) -> None:
        self.pk = pk
