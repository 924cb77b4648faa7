"""This library's verification for MCP servers built with the official Python SDK (the
``mcp`` package), in one line::

    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer

    from jwt_middleware.mcp import TokenVerifier

    server = MCPServer(
        "orders",
        token_verifier=TokenVerifier(verifier, resource="https://api.example.com/mcp"),
        auth=AuthSettings(
            issuer_url="https://auth.example.com",
            resource_server_url="https://api.example.com/mcp",
        ),
    )

The SDK then serves its protected-resource metadata and challenges; this verifier
decides which tokens pass. The other way, with no SDK auth at all, is to wrap the SDK's
streamable-HTTP app in ``jwt_middleware.asgi.JWTMiddleware`` with
``resource=ProtectedResource(...)`` (see the docs page "Protecting an MCP server").
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.auth.provider import AccessToken

from ._resource import normalize_resource
from ._verifier import Verifier
from .errors import AuthError, ConfigurationError

__all__ = ["TokenVerifier"]

logger = logging.getLogger("jwt_middleware")


class TokenVerifier:
    """The MCP SDK's ``TokenVerifier`` protocol over a ``Verifier``.

    ``resource``: this MCP server's URL, the RFC 8707 resource its tokens must be for;
    it becomes the verifier's audience when the verifier has none, and
    ``AccessToken.resource`` names it (so the SDK's ``validate_token_resource`` agrees).
    A refused token is ``None`` for the SDK (a 401 with its challenge), its reason
    logged as the middleware logs it, never the token.
    """

    def __init__(self, verifier: Verifier, *, resource: str | None = None) -> None:
        if not isinstance(verifier, Verifier):
            raise ConfigurationError("TokenVerifier needs a jwt_middleware.Verifier")
        if resource is not None and verifier.audiences is None:
            verifier = verifier._with_audience(resource)
        if verifier.audiences is None:
            raise ConfigurationError(
                "an MCP server's tokens must name it: give resource= or Verifier(audience=...)"
            )
        self.verifier = verifier
        self.resource = resource
        self._normal_resource = None if resource is None else normalize_resource(resource)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            verified = await self.verifier.averify_token(token)
        except AuthError as error:
            logger.info("MCP token refused: %s (%s)", error.reason, error)
            return None
        claims = verified.claims
        exp = claims.get("exp")
        return AccessToken(
            token=token,
            client_id=_client_id(claims),
            scopes=list(verified.scopes),
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            resource=self._resource_of(claims.get("aud")),
            subject=claims.get("sub"),
            claims=claims,
        )

    def _resource_of(self, aud: Any) -> str | None:
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if self.resource is not None:
            for value in audiences:
                if value == self.resource or normalize_resource(value) == self._normal_resource:
                    return self.resource
        return audiences[0] if len(audiences) == 1 else None

    def __repr__(self) -> str:
        return f"TokenVerifier({self.verifier!r}, resource={self.resource!r})"


def _client_id(claims: dict[str, Any]) -> str:
    """RFC 9068's ``client_id``, or what providers call it (``azp``, Okta's ``cid``,
    Entra v1's ``appid``)."""
    for name in ("client_id", "azp", "cid", "appid"):
        value = claims.get(name)
        if isinstance(value, str):
            return value
    return ""
