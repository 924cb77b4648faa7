"""DPoP end to end with real components: oidc-provider issues DPoP-bound tokens for
proofs made by an independent client (the pydpop package), and the middleware under
uvicorn (Starlette) and gunicorn with two workers (Flask) accepts them, refuses
replays across workers through one Redis, and refuses the stolen token as Bearer."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from jwt_middleware._jwk import thumbprint

from .oidc_provider import Provider, running_provider
from .servers import free_port, running

pydpop = pytest.importorskip(
    "pydpop", reason="pydpop (an independent DPoP client) is not installed"
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

RESOURCE = "urn:test:dpop-api"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider({"dpop-client": {}}, tmp_path_factory.mktemp("oidc")) as running:
        yield running


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


class Client:
    """A DPoP client as an app would write it with pydpop: one key, a fresh proof per
    request, the token from the provider's token endpoint."""

    def __init__(self, provider: Provider) -> None:
        self.key = pydpop.generate_key()
        self.jkt = thumbprint(pydpop.jwk.public_jwk(self.key))
        response = provider.dpop_token("dpop-client", self.proof, resource=RESOURCE)
        assert response["token_type"] == "DPoP"
        self.token = str(response["access_token"])

    def proof(self, method: str, url: str, token: str | None = None) -> str:
        return str(
            pydpop.generate_proof(private_key=self.key, htm=method, htu=url, access_token=token)
        )

    def headers(self, url: str) -> dict[str, str]:
        return {"Authorization": f"DPoP {self.token}", "DPoP": self.proof("GET", url, self.token)}


def test_the_provider_binds_the_token_to_the_clients_key(provider: Provider) -> None:
    client = Client(provider)
    assert _claims(client.token)["cnf"] == {"jkt": client.jkt}


def _env(provider: Provider, redis_url: str, redis_prefix: str) -> dict[str, str]:
    return {
        "DPOP_ISSUER": provider.issuer,
        "DPOP_AUDIENCE": RESOURCE,
        "DPOP_REDIS": redis_url,
        "DPOP_PREFIX": redis_prefix,
    }


def _exercise(base: str, client: Client, thief: Client, rounds: int) -> set[int]:
    """Fresh proofs pass; each replayed proof, a stolen token as Bearer and a proof by
    another key are refused. Answers the pids that served the requests."""
    url = f"{base}/api/me"
    pids: set[int] = set()
    sent: list[dict[str, str]] = []
    with httpx.Client(timeout=10) as http:
        for _ in range(rounds):
            headers = client.headers(url)
            reply = http.get(url, headers=headers)
            assert reply.status_code == 200, reply.text
            assert reply.json()["jkt"] == client.jkt
            pids.add(reply.json()["pid"])
            sent.append(headers)
        for headers in sent:  # every replay, whichever worker it reaches
            replayed = http.get(url, headers=headers)
            assert replayed.status_code == 401
            assert replayed.json()["error"] == "invalid_dpop_proof"
        stolen = http.get(url, headers={"Authorization": f"Bearer {client.token}"})
        assert stolen.status_code == 401
        assert "DPoP" in stolen.headers["WWW-Authenticate"]
        wrong_key = {
            "Authorization": f"DPoP {client.token}",
            "DPoP": thief.proof("GET", url, client.token),
        }
        assert http.get(url, headers=wrong_key).status_code == 401
        other_url = {
            "Authorization": f"DPoP {client.token}",
            "DPoP": client.proof("GET", f"{base}/other", client.token),
        }
        assert http.get(url, headers=other_url).status_code == 401
    return pids


def test_uvicorn(provider: Provider, redis_url: str, redis_prefix: str) -> None:
    port = free_port()
    argv = [
        "uvicorn",
        "--factory",
        "tests.sender_apps:starlette_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with running(argv, port, _env(provider, redis_url, redis_prefix)):
        client = Client(provider)
        _exercise(f"http://127.0.0.1:{port}", client, Client(provider), rounds=5)
        # A websocket handshake takes DPoP the same way (its proof names the ws:// URL).
        url = f"ws://127.0.0.1:{port}/ws"
        headers = {
            "Authorization": f"DPoP {client.token}",
            "DPoP": client.proof("GET", url, client.token),
        }
        with connect(url, additional_headers=headers, open_timeout=5) as websocket:
            seen = json.loads(websocket.recv(timeout=5))
        assert seen == {"sub": _claims(client.token)["sub"], "jkt": client.jkt}
        with pytest.raises(InvalidStatus) as refused:  # the same proof again
            connect(url, additional_headers=headers, open_timeout=5)
        assert refused.value.response.status_code == 401


def test_gunicorn_two_workers_share_the_replay_cache(
    provider: Provider, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    argv = ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "tests.sender_apps:flask_app()"]
    with running(argv, port, _env(provider, redis_url, redis_prefix)):
        pids: set[int] = set()
        for _ in range(4):  # until both workers have answered (sync workers: no keep-alive)
            pids |= _exercise(
                f"http://127.0.0.1:{port}", Client(provider), Client(provider), rounds=8
            )
            if len(pids) == 2:
                break
        assert len(pids) == 2, "one worker took every request; the cross-worker replay went unseen"
