"""An MCP server from the official SDK, protected two ways, on a loopback port, talked
to by the SDK's own client; tokens from a real authorization server (oidc-provider,
resource indicators giving audience-bound JWT access tokens)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    extract_resource_metadata_from_www_auth,
    extract_scope_from_www_auth,
    handle_auth_metadata_response,
    handle_protected_resource_response,
)
from mcp.client.streamable_http import streamable_http_client

from .oidc_provider import Provider, running_provider
from .servers import free_port, running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SCOPES = "tools:read tools:call"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class Setup:
    def __init__(self, provider: Provider, servers: dict[str, str]) -> None:
        self.provider = provider
        self.servers = servers

    def token(self, app: str, *, scope: str = SCOPES, resource: str | None = None) -> str:
        return self.provider.token(
            "mcp-client", scope=scope, resource=resource or self.servers[app]
        )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with running_provider({"mcp-client": {}}, tmp_path_factory.mktemp("oidc")) as provider:
        servers: dict[str, str] = {}
        with contextlib.ExitStack() as stack:
            for app in ("middleware_app", "sdk_app"):
                port = free_port()
                url = f"http://127.0.0.1:{port}/mcp"
                env = {"MCP_ISSUER": provider.issuer, "MCP_RESOURCE": url}
                argv = ["uvicorn", f"tests.mcp_apps:{app}", "--port", str(port)]
                stack.enter_context(running([*argv, "--log-level", "warning"], port, env))
                servers[app] = url
            yield Setup(provider, servers)


async def _tools(url: str, token: str) -> tuple[list[str], Any]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        tools = await client.list_tools()
        result = await client.call_tool("add", {"a": 1, "b": 2})
        return [tool.name for tool in tools.tools], result


def _post(url: str, token: str | None = None) -> httpx2.Response:
    headers = dict(HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx2.post(url, json=INIT, headers=headers, timeout=10)


@pytest.mark.parametrize("app", ["middleware_app", "sdk_app"])
def test_with_a_token_the_client_lists_and_calls_a_tool(setup: Setup, app: str) -> None:
    names, result = asyncio.run(_tools(setup.servers[app], setup.token(app)))
    assert "add" in names
    assert not result.is_error
    assert "3" in str(result.content)


@pytest.mark.parametrize("app", ["middleware_app", "sdk_app"])
def test_without_a_token_the_client_finds_the_authorization_server(setup: Setup, app: str) -> None:
    """What the SDK's OAuth client does on a 401, with its own functions."""
    url = setup.servers[app]

    async def discover() -> tuple[Any, Any]:
        async with httpx2.AsyncClient(timeout=10) as http:
            refused = await http.post(url, json=INIT, headers=HEADERS)
            assert refused.status_code == 401
            hint = extract_resource_metadata_from_www_auth(refused)
            assert hint is not None
            metadata = None
            for candidate in build_protected_resource_metadata_discovery_urls(hint, url):
                metadata = await handle_protected_resource_response(await http.get(candidate))
                if metadata is not None:
                    break
            assert metadata is not None
            server = str(metadata.authorization_servers[0])
            for candidate in build_oauth_authorization_server_metadata_discovery_urls(server, url):
                go_on, found = await handle_auth_metadata_response(await http.get(candidate))
                if found is not None:
                    return metadata, found
                assert go_on
            raise AssertionError("no authorization server metadata found")

    resource, authorization = asyncio.run(discover())
    assert str(resource.resource).rstrip("/") == url
    assert str(resource.authorization_servers[0]).rstrip("/") == setup.provider.issuer
    assert str(authorization.token_endpoint) == f"{setup.provider.issuer}/token"


@pytest.mark.parametrize("app", ["middleware_app", "sdk_app"])
def test_a_token_for_another_resource_is_refused(setup: Setup, app: str) -> None:
    other = setup.servers[app].replace("/mcp", "/other")
    refused = _post(setup.servers[app], setup.token(app, resource=other))
    assert refused.status_code == 401
    assert extract_resource_metadata_from_www_auth(refused) is not None


def test_a_missing_scope_gets_the_scope_challenge(setup: Setup) -> None:
    refused = _post(
        setup.servers["middleware_app"], setup.token("middleware_app", scope="tools:read")
    )
    assert refused.status_code == 403
    assert extract_scope_from_www_auth(refused) == "tools:call"
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert extract_resource_metadata_from_www_auth(refused) is not None


def test_the_sdk_verifier_refuses_a_missing_scope(setup: Setup) -> None:
    refused = _post(setup.servers["sdk_app"], setup.token("sdk_app", scope="tools:read"))
    assert refused.status_code == 403


def test_the_example_runs_as_it_is() -> None:
    """examples/mcp_server.py with its demo key: the printed token lists and calls its tool."""
    import subprocess
    import sys
    from pathlib import Path

    port = free_port()
    example = Path(__file__).resolve().parent.parent / "examples" / "mcp_server.py"
    process = subprocess.Popen(
        [sys.executable, str(example), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        token = next(line[6:].strip() for line in process.stdout if line.startswith("TOKEN="))
        url = f"http://127.0.0.1:{port}/mcp"
        for _ in range(100):  # uvicorn starts after the token is printed
            with contextlib.suppress(httpx2.TransportError):
                if _post(url).status_code == 401:
                    break
            time.sleep(0.1)

        async def call() -> Any:
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10)
            async with http, Client(streamable_http_client(url, http_client=http)) as client:
                return await client.call_tool(
                    "order_total", {"quantity": 3, "unit_price_cents": 250}
                )

        assert "750" in str(asyncio.run(call()).content)
    finally:
        process.terminate()
        process.wait(timeout=10)
