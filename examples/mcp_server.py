"""A protected MCP server: the official SDK's streamable-HTTP app behind JWTMiddleware,
discoverable by MCP clients (RFC 9728 metadata, resource_metadata in every challenge).

Run it:  python examples/mcp_server.py            (a demo key; prints a token to try)
         MCP_ISSUER=https://auth.example.com python examples/mcp_server.py
                                                   (tokens from your authorization server)

The server's URL (http://127.0.0.1:8000/mcp by default, or PUBLIC_URL) is the resource
its tokens must be issued for (RFC 8707 resource indicator, their audience).
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mcp.server.mcpserver import MCPServer

from jwt_middleware import ProtectedResource, RemoteJWKS, Rule, StaticKey, TokenIssuer, Verifier
from jwt_middleware.asgi import JWTMiddleware

server = MCPServer("orders")


@server.tool()
def order_total(quantity: int, unit_price_cents: int) -> int:
    """The total of an order line, in cents."""
    return quantity * unit_price_cents


def build(resource: str, issuer: str | None) -> tuple[JWTMiddleware, str | None]:
    """The protected app, and a demo token when no authorization server is given."""
    demo_token = None
    if issuer is not None:
        verifier = Verifier(RemoteJWKS.discover(issuer), issuer=issuer, audience=resource)
    else:
        issuer = "https://demo-issuer.invalid"  # no real server: the demo mints its own
        private_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key = StaticKey(private_pem, algorithm="ES256", kid="demo")
        verifier = Verifier(key, issuer=issuer, audience=resource)
        minting = TokenIssuer(key, issuer=issuer, audience=resource)
        demo_token = minting.issue("demo-user", scopes=["tools:read", "tools:call"])
    app = JWTMiddleware(
        server.streamable_http_app(),
        verifier=verifier,
        resource=ProtectedResource(
            resource,
            authorization_servers=[issuer],
            scopes_supported=["tools:read", "tools:call"],
            resource_name="Orders (jwt-middleware example)",
        ),
        rules=[Rule("/mcp", scopes=["tools:call"])],
    )
    return app, demo_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    resource = os.environ.get("PUBLIC_URL", f"http://127.0.0.1:{args.port}").rstrip("/") + "/mcp"
    app, token = build(resource, os.environ.get("MCP_ISSUER"))
    print(f"MCP server: {resource}", flush=True)
    print(
        f"metadata:   curl {resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp')}"
    )
    if token is not None:
        print(f"TOKEN={token}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
