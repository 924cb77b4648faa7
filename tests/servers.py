"""Start a real server command on a loopback port and stop it, whatever happens."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(
    argv: Sequence[str], port: int, env: dict[str, str], limit: float = 30.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` (its first word found beside this Python) until the block ends."""
    command = [str(BIN / argv[0]), *argv[1:]]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + limit
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not listen within {limit}s") from None
                time.sleep(0.1)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate, then kill if it will not go; close its pipes."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    for pipe in (process.stdout, process.stderr):
        if pipe:
            pipe.close()
