"""Plain Django views and DRF views, as a project would write them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jwt_middleware.django import HasScopes


def me(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "user": request.user.get_username(),
            "authenticated": request.user.is_authenticated,
            "user_class": type(request.user).__name__,
            "claims": getattr(request, "jwt_claims", None),
            "scopes": list(getattr(request, "jwt_scopes", ())),
            "roles": list(getattr(request, "jwt_roles", ())),
            "user_roles": list(getattr(request.user, "roles", ())),
            "dpop_jkt": getattr(request, "jwt_dpop_jkt", None),
        }
    )


def create_order(request: HttpRequest) -> JsonResponse:
    """A POST under Django's CsrfViewMiddleware: bearer tokens need no CSRF token."""
    return JsonResponse({"by": request.user.get_username()}, status=201)


async def async_me(request: HttpRequest) -> JsonResponse:
    await asyncio.sleep(0)
    return me(request)


def countdown(request: HttpRequest) -> StreamingHttpResponse:
    def lines() -> Iterator[bytes]:
        for n in (3, 2, 1):
            yield f"{n}\n".encode()
        yield f"liftoff, {request.user.get_username()}\n".encode()

    return StreamingHttpResponse(lines(), content_type="text/plain")


def health(request: HttpRequest) -> JsonResponse:
    # Django's own (lazy) AnonymousUser, from AuthenticationMiddleware: left alone.
    user = request.user
    return JsonResponse({"status": "ok", "django_user": type(user).__name__ == "SimpleLazyObject"})


def session_form(request: HttpRequest) -> JsonResponse:
    """A session-authenticated form view: Django's CSRF check still guards it."""
    return JsonResponse({"posted": True})


class DRFMe(APIView):
    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username(), "sub": request.auth["sub"]})


class DRFOrders(APIView):
    permission_classes = (HasScopes,)
    required_scopes = ("orders:write",)

    def post(self, request: Request) -> Response:
        return Response({"by": request.user.get_username()}, status=201)


class DRFPublic(APIView):
    permission_classes = ()

    def get(self, request: Request) -> Response:
        return Response({"authenticated": bool(request.user and request.user.is_authenticated)})
