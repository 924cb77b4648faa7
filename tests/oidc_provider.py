"""The test suite's real OpenID Provider: the npm package oidc-provider under Node.js
(tests/oidc/provider.mjs), installed into tests/oidc on first use, started on a loopback
port and stopped by its pid. Used by the provider-profile and MCP tests."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .servers import free_port

HERE = Path(__file__).resolve().parent / "oidc"
SECRET = "a client secret for the test provider, long enough"


@dataclass
class Provider:
    issuer: str

    def token(self, client: str, *, scope: str = "orders:read", resource: str | None = None) -> str:
        """An access token from the client-credentials grant; ``resource`` is the RFC 8707
        resource indicator (the token's audience)."""
        data = {"grant_type": "client_credentials", "scope": scope}
        if resource is not None:
            data["resource"] = resource
        reply = httpx.post(f"{self.issuer}/token", data=data, auth=(client, SECRET), timeout=10)
        reply.raise_for_status()
        return str(reply.json()["access_token"])

    def dpop_token(
        self,
        client: str,
        proof: Callable[[str, str], str],
        *,
        resource: str,
        scope: str = "orders:read",
    ) -> dict[str, Any]:
        """A DPoP-bound token (RFC 9449 section 5): the token request carries a proof
        made by ``proof(method, url)``; the whole token response is returned."""
        url = f"{self.issuer}/token"
        data = {"grant_type": "client_credentials", "scope": scope, "resource": resource}
        headers = {"DPoP": proof("POST", url)}
        reply = httpx.post(url, data=data, headers=headers, auth=(client, SECRET), timeout=10)
        reply.raise_for_status()
        body: dict[str, Any] = reply.json()
        return body

    def rotate(self) -> str:
        """A new signing key, published first; the old one stays published."""
        return str(httpx.post(f"{self.issuer}/__rotate", timeout=10).json()["kid"])


def _installed() -> None:
    if (HERE / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (it comes with Node.js)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=HERE,
        check=True,
        timeout=300,
    )


@contextlib.contextmanager
def running_provider(shapes: dict[str, dict[str, Any]], workdir: Path) -> Iterator[Provider]:
    """The provider with one client per entry of ``shapes`` (see provider.mjs)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the real-provider tests need it")
    _installed()
    port = free_port()
    config = workdir / "oidc-config.json"
    clients = [
        {"client_id": name, "client_secret": SECRET, "shape": shape}
        for name, shape in shapes.items()
    ]
    config.write_text(json.dumps({"port": port, "clients": clients}))
    process = subprocess.Popen(
        [node, str(HERE / "provider.mjs"), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""  # "listening <issuer>"
        if not line.startswith("listening "):
            process.kill()
            stderr = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"oidc-provider did not start: {stderr[-2000:]}")
        yield Provider(line.split()[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
