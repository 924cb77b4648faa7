"""MCP servers from the official SDK for tests/test_mcp.py, served by uvicorn: one
protected by this library's middleware (the SDK without auth), one by the SDK's own
auth with this library's TokenVerifier. Configured from MCP_ISSUER and MCP_RESOURCE."""

from __future__ import annotations

import os

from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from jwt_middleware import ProtectedResource, RemoteJWKS, Rule, Verifier
from jwt_middleware.asgi import JWTMiddleware
from jwt_middleware.mcp import TokenVerifier

ISSUER = os.environ.get("MCP_ISSUER", "http://127.0.0.1:1")
RESOURCE = os.environ.get("MCP_RESOURCE", "http://127.0.0.1:2/mcp")


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _verifier() -> Verifier:
    return Verifier(RemoteJWKS(f"{ISSUER}/jwks"), issuer=ISSUER, algorithms=["RS256"])


_plain = MCPServer("orders")
_plain.tool()(add)
middleware_app = JWTMiddleware(
    _plain.streamable_http_app(),
    verifier=_verifier(),
    resource=ProtectedResource(RESOURCE, scopes_supported=["tools:read", "tools:call"]),
    rules=[Rule("/mcp", scopes=["tools:call"])],
)

_sdk = MCPServer(
    "orders",
    token_verifier=TokenVerifier(_verifier(), resource=RESOURCE),
    auth=AuthSettings(
        issuer_url=ISSUER,
        resource_server_url=RESOURCE,
        required_scopes=["tools:call"],
        validate_token_resource=True,  # the SDK checks AccessToken.resource too
    ),
)
_sdk.tool()(add)
sdk_app = _sdk.streamable_http_app()
