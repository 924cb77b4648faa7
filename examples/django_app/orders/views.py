from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jwt_middleware.django import HasScopes


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def me(request: HttpRequest) -> JsonResponse:
    """A plain Django view: request.user is the token's subject."""
    return JsonResponse({"user": request.user.get_username(), "claims": request.jwt_claims})


class Orders(APIView):
    """A DRF view: reading needs a token, writing needs the write scope."""

    permission_classes = (HasScopes,)
    required_scopes = ("write",)

    def post(self, request: Request) -> Response:
        return Response({"written_by": request.user.get_username()}, status=201)
