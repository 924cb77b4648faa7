"""A bounded load test with faults, on loopback only.

Both examples run under real servers (Starlette under uvicorn, Flask under werkzeug's
threaded server) with keys from a JWKS server and a denylist in Redis. Concurrent
clients send a mix of valid, expired, forged, wrong-kid, malformed and unsigned tokens
while the JWKS server turns slow and then fails, and Redis is stopped and restarted.

    python benchmarks/loadtest.py --seconds 30

Expected: no 500s; nothing but valid tokens accepted; valid tokens accepted except
while Redis is down (the denylist cannot be asked: 503, fail closed); server memory
flat. tests/test_load.py runs it briefly and asserts exactly that.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _net import free_port, wait_for

from jwt_middleware import StaticKey, TokenIssuer
from jwt_middleware._jwk import public_jwk as _public_jwk
from tests.docserver import DocumentServer

KINDS = ("valid", "expired", "forged", "wrong_kid", "malformed", "unsigned")
HOSTILE = KINDS[1:]


@dataclass
class Report:
    seconds: float
    statuses: dict[str, dict[str, collections.Counter[int]]] = field(default_factory=dict)
    during_redis_outage: dict[str, collections.Counter[int]] = field(default_factory=dict)
    memory_kib: dict[str, tuple[int, int]] = field(default_factory=dict)
    jwks_fetches: int = 0

    def problems(self) -> list[str]:
        found = []
        for server, kinds in self.statuses.items():
            missing = [kind for kind in KINDS if not kinds.get(kind)]
            if missing:
                found.append(f"{server}: no requests of kinds {missing}")
            for kind, counter in kinds.items():
                if any(status >= 500 and status != 503 for status in counter):
                    found.append(f"{server}/{kind}: server errors {dict(counter)}")
                if kind != "valid" and counter[200]:
                    found.append(f"{server}/{kind}: {counter[200]} accepted")
            valid = kinds.get("valid", collections.Counter())
            outage = self.during_redis_outage.get(server, collections.Counter())
            if valid[503] > outage[503]:
                found.append(
                    f"{server}: {valid[503] - outage[503]} valid tokens refused "
                    "with 503 outside the Redis outage"
                )
            if not valid[200]:
                found.append(f"{server}: no valid token accepted")
            start, end = self.memory_kib.get(server, (0, 0))
            if end - start > 64 * 1024:
                found.append(f"{server}: memory grew {(end - start) / 1024:.0f} MiB")
        return found

    def render(self) -> str:
        lines = [f"load test: {self.seconds:.0f} s, JWKS fetches {self.jwks_fetches}"]
        for server, kinds in self.statuses.items():
            start, end = self.memory_kib[server]
            lines.append(f"  {server}: RSS {start / 1024:.1f} -> {end / 1024:.1f} MiB")
            for kind in KINDS:
                counter = kinds.get(kind, collections.Counter())
                lines.append(
                    f"    {kind:10} {sum(counter.values()):6} requests  "
                    + ", ".join(f"{s}: {n}" for s, n in sorted(counter.items()))
                )
            lines.append(
                f"    valid tokens while Redis was down: "
                f"{dict(self.during_redis_outage.get(server, {}))}"
            )
        return "\n".join(lines)


def start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(port)
    return process


def start_example(name: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / name), "--host", "127.0.0.1", "--port", str(port)],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("JWT_")}, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(port)
    return process, f"http://127.0.0.1:{port}/me"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Tokens:
    def __init__(self) -> None:
        idp = ec.generate_private_key(ec.SECP256R1())
        attacker = ec.generate_private_key(ec.SECP256R1())
        self.jwks = {
            "keys": [
                {**_public_jwk(idp.public_key()), "kid": "idp-1", "alg": "ES256", "use": "sig"}
            ]
        }

        def pem(key: Any) -> bytes:
            return bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )

        self._idp = TokenIssuer(StaticKey(pem(idp), "ES256", kid="idp-1"), access_ttl=600)
        self._late = TokenIssuer(
            StaticKey(pem(idp), "ES256", kid="idp-1"),
            access_ttl=600,
            clock=lambda: time.time() - 3600,
        )
        self._forger = TokenIssuer(StaticKey(pem(attacker), "ES256", kid="idp-1"))
        self._stranger = TokenIssuer(StaticKey(pem(attacker), "ES256", kid="idp-9"))
        self.valid = [self._idp.issue(f"user-{i}") for i in range(50)]
        self.expired = [self._late.issue(f"user-{i}") for i in range(10)]
        self.forged = [self._forger.issue("admin") for _ in range(10)]

    def pick(self, kind: str) -> str:
        if kind == "valid":
            return secrets.choice(self.valid)
        if kind == "expired":
            return secrets.choice(self.expired)
        if kind == "forged":
            return secrets.choice(self.forged)
        if kind == "wrong_kid":
            return self._stranger.issue("someone")
        if kind == "malformed":
            return secrets.choice(["abc", "a.b.c", "x" * 300, "e30.e30.", "..", "a.b.c.d.e"])
        return "eyJhbGciOiJub25lIn0." + self.valid[0].split(".")[1] + "."


async def drive(
    url: str,
    tokens: Tokens,
    seconds: float,
    clients: int,
    redis_down: Any,
    statuses: dict[str, collections.Counter[int]],
    outage: collections.Counter[int],
) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=10) as client:

        async def worker(number: int) -> None:
            turn = number
            while time.monotonic() < deadline:
                # every other request valid; the others cycle through the hostile kinds
                kind = "valid" if turn % 2 == 0 else HOSTILE[(turn // 2) % len(HOSTILE)]
                turn += 1
                try:
                    reply = await client.get(
                        url, headers={"Authorization": f"Bearer {tokens.pick(kind)}"}
                    )
                    status = reply.status_code
                except httpx.HTTPError:
                    status = 599  # the connection failed: counted as a server error
                statuses.setdefault(kind, collections.Counter())[status] += 1
                if kind == "valid" and redis_down():
                    outage[status] += 1

        await asyncio.gather(*(worker(i) for i in range(clients)))


def run(seconds: float = 20, clients: int = 16) -> Report:
    tokens = Tokens()
    report = Report(seconds)
    jwks = DocumentServer()
    jwks.serve("/jwks", tokens.jwks)
    redis_port = free_port()
    redis_process = start_redis(redis_port)
    env = {"JWT_JWKS_URL": jwks.url("/jwks"), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    servers = {
        "starlette+uvicorn": start_example("starlette_app.py", env),
        "flask+werkzeug": start_example("flask_app.py", env),
    }
    redis_state = {"down": False}
    try:
        for name, (process, url) in servers.items():
            httpx.get(url, headers={"Authorization": f"Bearer {tokens.valid[0]}"}, timeout=10)
            report.memory_kib[name] = (rss_kib(process.pid), 0)

        async def faults() -> None:
            await asyncio.sleep(seconds * 0.2)
            jwks.serve("/jwks", tokens.jwks, delay=1.5)  # slow
            await asyncio.sleep(seconds * 0.2)
            jwks.serve("/jwks", b"down", status=500)  # failing
            # The outage window opens before Redis stops (requests in flight) and closes
            # a second after it answers again (clients reconnecting).
            redis_state["down"] = True
            redis_process.terminate()
            await asyncio.to_thread(redis_process.wait, 10)
            await asyncio.sleep(seconds * 0.2)
            restarted.append(await asyncio.to_thread(start_redis, redis_port))
            await asyncio.sleep(1.0)
            redis_state["down"] = False
            jwks.serve("/jwks", tokens.jwks)

        restarted: list[subprocess.Popen[bytes]] = []

        async def everything() -> None:
            loads = [
                drive(
                    url,
                    tokens,
                    seconds,
                    clients,
                    lambda: redis_state["down"],
                    report.statuses.setdefault(name, {}),
                    report.during_redis_outage.setdefault(name, collections.Counter()),
                )
                for name, (_, url) in servers.items()
            ]
            await asyncio.gather(faults(), *loads)

        asyncio.run(everything())
        for name, (process, _) in servers.items():
            report.memory_kib[name] = (report.memory_kib[name][0], rss_kib(process.pid))
        report.jwks_fetches = jwks.count("/jwks")
        for process in restarted:
            stop(process)
    finally:
        for process, _ in servers.values():
            stop(process)
        if redis_process.poll() is None:
            stop(redis_process)
        jwks.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    report = run(args.seconds, args.clients)
    print(report.render())
    problems = report.problems()
    print("problems: " + ("none" if not problems else json.dumps(problems, indent=2)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
